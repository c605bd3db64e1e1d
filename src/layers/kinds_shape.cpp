// Kinds that move or keep values without arithmetic: permute, reshape, flatten, repeat_vector, the dropout
// family (the identity at inference).
#include "layers/kinds_common.hpp"

namespace c1r {
namespace {

void read_permute(ObjectReader& r, LayerSpec& l) {
    l.dims = read_int_list(r, "dims", 1);
    if (!(l.dims == std::vector<int64_t>{1, 2} || l.dims == std::vector<int64_t>{2, 1}))
        r.fail(r.at("dims"), "expected a permutation of [1, 2] (1-based, batch excluded), e.g. [2, 1]");
}

void plan_permute(LayerPlan& p, const PlanContext&) {
    const Shape& in = require_sequence(p);
    p.output_shape = p.spec.dims[0] == 2 ? Shape{in.batch, in.channels, in.length} : in;
}

bool permute_mixes(const LayerPlan& p) { return p.spec.dims[0] == 2; }

std::string permute_summary(const LayerSpec& l) {
    return "[" + std::to_string(l.dims[0]) + "," + std::to_string(l.dims[1]) + "]";
}

void read_reshape(ObjectReader& r, LayerSpec& l) {
    l.target_shape = read_int_list(r, "target_shape", -1);
    if (l.target_shape.empty() || l.target_shape.size() > 2)
        r.fail(r.at("target_shape"), "expected one or two entries (batch excluded), e.g. [-1, 8]");
    int unknown = 0;
    for (size_t i = 0; i < l.target_shape.size(); ++i) {
        if (l.target_shape[i] == -1) ++unknown;
        else if (l.target_shape[i] < 1) r.fail(r.at("target_shape") + "/" + std::to_string(i), "entries must be positive or -1");
    }
    if (unknown > 1) r.fail(r.at("target_shape"), "at most one entry may be -1");
}

std::string dims_x(const std::vector<int64_t>& d) {
    std::string s;
    for (size_t i = 0; i < d.size(); ++i) s += (i ? "x" : "") + std::to_string(d[i]);
    return s;
}

// target_shape is in the config's data format, over the per-sample tensor in that format's order.
void plan_reshape(LayerPlan& p, const PlanContext& c) {
    const Shape& shape = p.input_shape;
    std::vector<int64_t> in = user_dims(shape, c.data_format);
    in.erase(in.begin());
    int64_t total = 1;
    for (int64_t d : in) total = checked_mul(total, d);
    int64_t known = 1;
    for (int64_t t : p.spec.target_shape)
        if (t != -1) known = checked_mul(known, t);
    std::vector<int64_t> target = p.spec.target_shape;
    for (auto& t : target) {
        if (t != -1) continue;
        if (total % known != 0)
            throw LayerError{"cannot reshape " + dims_x(in) + " = " + std::to_string(total) +
                                 " values per sample: not divisible by " + std::to_string(known),
                             "target_shape"};
        t = total / known;
        known = total;
    }
    if (known != total)
        throw LayerError{"cannot reshape " + dims_x(in) + " = " + std::to_string(total) + " values per sample into " +
                             dims_x(target) + " = " + std::to_string(known),
                         "target_shape"};
    p.output_shape = target.size() == 1 ? Shape::flat(shape.batch, target[0])
                                        : shape_from_dims({shape.batch, target[0], target[1]}, c.data_format);
}

bool reshape_mixes(const LayerPlan& p) { return !(p.input_shape == p.output_shape); }

std::string reshape_summary(const LayerSpec& l) {
    std::string s = "[";
    for (size_t i = 0; i < l.target_shape.size(); ++i) s += (i ? "," : "") + std::to_string(l.target_shape[i]);
    return s + "]";
}

void read_flatten(ObjectReader& r, LayerSpec&) {
    if (const json* f = r.find("data_format"); f && !f->is_null()) r.record_json("data_format", *f);
}

void plan_flatten(LayerPlan& p, const PlanContext&) {
    const Shape& in = p.input_shape;
    p.output_shape = Shape::flat(in.batch, checked_mul(in.length, in.channels));
}

bool flatten_mixes(const LayerPlan& p) { return p.input_shape.rank == 3 && p.input_shape.length > 1; }

// Dropout, SpatialDropout1D, GaussianNoise, GaussianDropout, AlphaDropout: their keys are read and kept, and
// at inference every one of them is the identity.
void read_dropout(ObjectReader& r, LayerSpec&) {
    if (r.has("rate")) r.number("rate", 0.0);
    if (r.has("stddev")) r.number("stddev", 0.0);
    for (const char* key : {"noise_shape", "seed"})
        if (const json* v = r.find(key)) r.record_json(key, *v);
}

void plan_identity(LayerPlan& p, const PlanContext&) { p.output_shape = p.input_shape; }

void read_repeat(ObjectReader& r, LayerSpec& l) { l.repeats = r.integer("n", std::nullopt, 1); }

void plan_repeat(LayerPlan& p, const PlanContext&) {
    const Shape& in = p.input_shape;
    if (in.rank != 2)
        throw LayerError{"expects (batch, features) but its input has rank 3; repeat_vector repeats a vector"};
    p.output_shape = {in.batch, p.spec.repeats, in.channels};
}

Span repeat_span(const LayerPlan&, Span) { return {0, 0}; }

std::string repeat_summary(const LayerSpec& l) { return "n" + std::to_string(l.repeats); }

}  // namespace

const std::vector<LayerKind> kShapeKinds = {
    {LayerType::permute, "permute", {}, {"Permute"}, 1, 1, read_permute, plan_permute, nullptr, permute_mixes,
     nullptr, permute_summary},
    {LayerType::reshape, "reshape", {}, {"Reshape"}, 1, 1, read_reshape, plan_reshape, nullptr, reshape_mixes,
     nullptr, reshape_summary},
    {LayerType::flatten, "flatten", {}, {"Flatten"}, 1, 1, read_flatten, plan_flatten, nullptr, flatten_mixes,
     nullptr, no_summary},
    {LayerType::dropout, "dropout", {"spatial_dropout1d", "gaussian_noise", "gaussian_dropout", "alpha_dropout"},
     {"Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout", "AlphaDropout"}, 1, 1, read_dropout,
     plan_identity, nullptr, nullptr, nullptr, no_summary},
    {LayerType::repeat_vector, "repeat_vector", {}, {"RepeatVector"}, 1, 1, read_repeat, plan_repeat, repeat_span,
     nullptr, nullptr, repeat_summary},
};

}  // namespace c1r
