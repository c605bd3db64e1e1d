// Heads and lookups: dense (on rank 2, and on every step of rank 3), embedding, time_distributed.
#include "layers/kinds_common.hpp"

namespace c1r {
namespace {

void read_dense(ObjectReader& r, LayerSpec& l) {
    l.units = r.integer("units", std::nullopt, 1);
    l.activation = read_activation(r, "activation", Activation::linear);
    l.use_bias = r.boolean("use_bias", true);
    read_weight_files(r, l);
}

void plan_dense(LayerPlan& p, const PlanContext&) {
    const Shape& in = p.input_shape;
    p.output_shape = in;
    p.output_shape.channels = p.spec.units;
    p.flops = checked_mul(checked_mul(checked_mul(2 * in.batch, in.length), in.channels), p.spec.units);
}

std::vector<Variable> dense_variables(const LayerPlan& p) {
    std::vector<Variable> vars{glorot("kernel", {p.input_shape.channels, p.spec.units})};
    if (p.spec.use_bias) vars.push_back(zeros("bias", {p.spec.units}));
    return vars;
}

std::string dense_summary(const LayerSpec& l) {
    return std::to_string(l.units) + "u" + activation_suffix(l.activation) + (l.use_bias ? "" : " nobias");
}

void read_embedding(ObjectReader& r, LayerSpec& l) {
    l.input_dim = r.integer("input_dim", std::nullopt, 1, int64_t{1} << 24);  // ids travel as exact floats
    l.output_dim = r.integer("output_dim", std::nullopt, 1);
    if (r.boolean("mask_zero", false))
        r.fail(r.at("mask_zero"), "mask_zero true is not supported: masks change what later layers compute");
    read_weight_files(r, l);
}

void plan_embedding(LayerPlan& p, const PlanContext&) {
    const Shape& in = p.input_shape;
    if (in.rank != 2)
        throw LayerError{"expects integer ids (batch, steps), a rank-2 input, but its input has rank 3"};
    p.output_shape = {in.batch, in.channels, p.spec.output_dim};
}

std::vector<Variable> embedding_variables(const LayerPlan& p) {
    return {{"embeddings", {p.spec.input_dim, p.spec.output_dim}, Variable::Init::uniform_small}};
}

std::string embedding_summary(const LayerSpec& l) {
    return std::to_string(l.input_dim) + "->" + std::to_string(l.output_dim);
}

// TimeDistributed(layer) applies the layer to every step; for the kinds it can wrap here (dense, dropout,
// activation) that is what the kind already does on rank 3.
void read_time_distributed(ObjectReader& r, LayerSpec& l) {
    const json* inner = r.find("layer");
    if (!inner) r.fail_missing("layer");
    LayerSpec spec = read_layer(*inner, r.at("layer"), r.source());
    if (spec.type != LayerType::dense && spec.type != LayerType::dropout && spec.type != LayerType::activation)
        r.fail(r.at("layer") + "/type", std::string("time_distributed can wrap dense, dropout or activation here, not ") +
                                             to_string(spec.type) + " (a wrapped conv1d needs rank-4 input)");
    l.inner = std::make_shared<LayerSpec>(spec);
    r.record_json("layer", write_layer(spec));
}

LayerPlan as_inner(const LayerPlan& p) {
    LayerPlan inner = p;
    inner.spec = *p.spec.inner;
    return inner;
}

void plan_time_distributed(LayerPlan& p, const PlanContext& c) {
    if (p.input_shape.rank != 3) throw LayerError{"expects (batch, steps, features), got rank 2"};
    LayerPlan inner = as_inner(p);
    kind_of(inner.spec.type).plan(inner, c);
    p.output_shape = inner.output_shape;
    p.flops = inner.flops;
}

std::vector<Variable> time_distributed_variables(const LayerPlan& p) {
    LayerPlan inner = as_inner(p);
    auto fn = kind_of(inner.spec.type).variables;
    return fn ? fn(inner) : std::vector<Variable>{};
}

std::string time_distributed_summary(const LayerSpec& l) {
    return std::string(to_string(l.inner->type)) + " " + kind_of(l.inner->type).summary(*l.inner);
}

}  // namespace

const std::vector<LayerKind> kDenseKinds = {
    {LayerType::dense, "dense", {}, {"Dense"}, 1, 1, read_dense, plan_dense, nullptr, nullptr, dense_variables,
     dense_summary},
    {LayerType::embedding, "embedding", {}, {"Embedding"}, 1, 1, read_embedding, plan_embedding, nullptr, nullptr,
     embedding_variables, embedding_summary},
    {LayerType::time_distributed, "time_distributed", {}, {"TimeDistributed"}, 1, 1, read_time_distributed,
     plan_time_distributed, nullptr, nullptr, time_distributed_variables, time_distributed_summary},
};

}  // namespace c1r
