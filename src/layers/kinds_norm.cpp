// Normalisation: batch_normalization (moving statistics, as Keras at inference) and layer_normalization.
#include "layers/kinds_common.hpp"

namespace c1r {
namespace {

void read_norm(ObjectReader& r, LayerSpec& l) {
    l.axis = r.integer("axis", -1, -3, 3);
    l.epsilon = r.number("epsilon", 1e-3);
    if (l.epsilon < 0) r.fail(r.at("epsilon"), "must not be negative");
    l.center = r.boolean("center", true);
    l.scale = r.boolean("scale", true);
    if (l.type == LayerType::batch_normalization && r.has("momentum")) r.number("momentum", 0.99);
    if (l.type == LayerType::layer_normalization && r.boolean("rms_scaling", false))
        r.fail(r.at("rms_scaling"), "rms_scaling true is not supported");
    read_weight_files(r, l);
}

// Both kinds normalise over (BN: per) the channel axis only: the last axis in channels_last, axis 1 in
// channels_first. Any other axis is refused rather than computed differently.
void plan_norm(LayerPlan& p, const PlanContext& c) {
    const Shape& in = p.input_shape;
    const int rank = in.rank;
    int64_t axis = p.spec.axis < 0 ? p.spec.axis + rank : p.spec.axis;
    int64_t channel_axis = (c.data_format == DataFormat::channels_first || rank == 2) ? 1 : 2;
    if (c.data_format == DataFormat::channels_last) channel_axis = rank - 1;
    if (axis != channel_axis)
        throw LayerError{"axis " + std::to_string(p.spec.axis) + " is not the channel axis (" +
                             std::to_string(channel_axis) + ") of its rank-" + std::to_string(rank) +
                             " input; only normalisation over channels is supported",
                         "axis"};
    p.output_shape = in;
    p.flops = checked_mul(in.elements(), 2);
}

std::vector<Variable> norm_variables(const LayerPlan& p) {
    const int64_t c = p.input_shape.channels;
    std::vector<Variable> vars;
    if (p.spec.scale) vars.push_back(ones("gamma", {c}));
    if (p.spec.center) vars.push_back(zeros("beta", {c}));
    if (p.spec.type == LayerType::batch_normalization) {
        vars.push_back(zeros("moving_mean", {c}));
        vars.push_back(ones("moving_variance", {c}));
    }
    return vars;
}

std::string norm_summary(const LayerSpec& l) {
    char eps[32];
    std::snprintf(eps, sizeof eps, "eps %g", l.epsilon);
    return eps;
}

}  // namespace

const std::vector<LayerKind> kNormKinds = {
    {LayerType::batch_normalization, "batch_normalization", {}, {"BatchNormalization"}, 1, 1, read_norm, plan_norm,
     nullptr, nullptr, norm_variables, norm_summary},
    {LayerType::layer_normalization, "layer_normalization", {}, {"LayerNormalization"}, 1, 1, read_norm, plan_norm,
     nullptr, nullptr, norm_variables, norm_summary},
};

}  // namespace c1r
