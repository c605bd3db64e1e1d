// Normalisation: batch_normalization (moving statistics, as Keras at inference) and layer_normalization.
#include "layers/kinds_common.hpp"

namespace c1r {
namespace {

// `axis`: an int, or a list as Keras writes it (K2 BatchNormalization rewrites it to [2]; K3 LayerNormalization
// stores sorted(axes); LayerNormalization(axis=[1, 2]) normalises each sample over length and channels, and
// axis=[0, 1, 2] the whole tensor, the batch too, as Keras allows when the batch size is part of the input shape).
void read_norm(ObjectReader& r, LayerSpec& l) {
    const json* axis = r.find("axis");
    if (axis && axis->is_array() && axis->size() != 1) {
        if (axis->empty() || axis->size() > 3)
            r.fail(r.at("axis"), "expected an axis or a list of one to three axes, got " + describe(*axis));
        l.norm_axes = read_int_list(r, "axis", -3);
        for (size_t i = 0; i < l.norm_axes.size(); ++i)
            if (l.norm_axes[i] > 3) r.fail(r.at("axis") + "/" + std::to_string(i), "axis " + std::to_string(l.norm_axes[i]) + " is beyond a rank-3 input");
        if (l.type == LayerType::batch_normalization)
            r.fail(r.at("axis"), "batch_normalization normalises one axis (the channels); got " + describe(*axis));
    } else {
        l.norm_axes = {r.integer("axis", -1, -3, 3)};
    }
    l.axis = l.norm_axes[0];
    l.epsilon = r.number("epsilon", 1e-3);
    if (l.epsilon < 0) r.fail(r.at("epsilon"), "must not be negative");
    l.center = r.boolean("center", true);
    l.scale = r.boolean("scale", true);
    if (l.type == LayerType::batch_normalization && r.has("momentum")) r.number("momentum", 0.99);
    if (l.type == LayerType::layer_normalization && r.boolean("rms_scaling", false))
        r.fail(r.at("rms_scaling"), "rms_scaling true is not supported");
    if (l.type == LayerType::layer_normalization) l.return_statistics = r.boolean("return_statistics", false);
    read_weight_files(r, l);
}

// Both kinds normalise over (BN: per) the channel axis: the last axis in channels_last, axis 1 in
// channels_first. layer_normalization may also normalise each sample over its length and channels together
// (Keras LayerNormalization(axis=[1, 2]) on a sequence), or the whole rank-3 tensor, the batch too (axis
// [0, 1, 2]: one mean and variance, gamma/beta shaped like the input, so tied to its batch size). Any other
// axis is refused rather than computed differently. With return_statistics, outputs 1 and 2 are the mean and
// 1/sqrt(var + eps): the input's shape with the normalised axes kept as size 1 ((1, 1, 1) over every axis).
void plan_norm(LayerPlan& p, const PlanContext& c) {
    const Shape& in = p.input_shape;
    const int rank = in.rank;
    const int64_t channel_axis = (c.data_format == DataFormat::channels_first && rank == 3) ? 1 : rank - 1;
    std::vector<int64_t> axes;
    for (int64_t given : p.spec.norm_axes) {
        const int64_t axis = given < 0 ? given + rank : given;
        if (axis < 0 || axis >= rank)
            throw LayerError{"axis " + std::to_string(given) + " does not exist in its rank-" + std::to_string(rank) + " input", "axis"};
        if (std::find(axes.begin(), axes.end(), axis) != axes.end())
            throw LayerError{"axis " + std::to_string(axis) + " is listed twice", "axis"};
        axes.push_back(axis);
    }
    const bool batch = std::find(axes.begin(), axes.end(), 0) != axes.end();
    if (batch && (p.spec.type != LayerType::layer_normalization || rank != 3 || axes.size() != 3)) {
        std::string list;
        for (int64_t a : p.spec.norm_axes) list += (list.empty() ? "" : ", ") + std::to_string(a);
        throw LayerError{"axis [" + list + "] includes the batch axis (0) of its rank-" + std::to_string(rank) +
                             " input; the batch is normalised only together with every other axis (layer_normalization, "
                             "axis [0, 1, 2] of a rank-3 input); else each sample is normalised on its own",
                         "axis"};
    }
    if (axes.size() == 1 && axes[0] != channel_axis)
        throw LayerError{"axis " + std::to_string(p.spec.norm_axes[0]) + " is not the channel axis (" +
                             std::to_string(channel_axis) + ") of its rank-" + std::to_string(rank) +
                             " input; only normalisation over the channels" +
                             (p.spec.type == LayerType::layer_normalization ? " (or over length and channels, axis [1, 2])" : "") +
                             " is supported",
                         "axis"};
    p.output_shape = in;
    p.flops = checked_mul(in.elements(), 2);
    if (!p.spec.return_statistics) return;
    Shape stats = in;
    stats.channels = 1;
    if (normalises_length(p)) stats.length = 1;
    if (batch) stats.batch = 1;
    p.output_shapes = {in, stats, stats};
}

// A joint normalisation reads every step of its sample (of every sample, over the batch too).
Span norm_span(const LayerPlan& p, Span out) {
    if (!normalises_length(p)) return out;
    return {0, p.input_shape.length - 1};
}
bool norm_mixes(const LayerPlan& p) { return normalises_length(p); }

std::vector<Variable> norm_variables(const LayerPlan& p) {
    const int64_t c = p.input_shape.channels;
    // Keras' shape: the normalised axes of a (batch, length, channels) input, (L, C) for a joint one, (B, L, C)
    // over every axis (the weights then fit one batch size only: run/weights.cpp names a mismatch).
    const std::vector<int64_t> shape = normalises_batch(p)    ? std::vector<int64_t>{p.input_shape.batch, p.input_shape.length, c}
                                       : normalises_length(p) ? std::vector<int64_t>{p.input_shape.length, c}
                                                              : std::vector<int64_t>{c};
    std::vector<Variable> vars;
    if (p.spec.scale) vars.push_back(ones("gamma", shape));
    if (p.spec.center) vars.push_back(zeros("beta", shape));
    if (p.spec.type == LayerType::batch_normalization) {
        vars.push_back(zeros("moving_mean", {c}));
        vars.push_back(ones("moving_variance", {c}));
    }
    return vars;
}

std::string norm_summary(const LayerSpec& l) {
    char eps[32];
    std::snprintf(eps, sizeof eps, "eps %g", l.epsilon);
    std::string text = eps;
    if (l.norm_axes.size() == 2) text += " over length+channels";
    if (l.norm_axes.size() == 3) text += " over batch+length+channels";
    if (l.return_statistics) text += " +mean,inv_std";
    return text;
}

}  // namespace

const std::vector<LayerKind> kNormKinds = {
    {LayerType::batch_normalization, "batch_normalization", {}, {"BatchNormalization"}, 1, 1, read_norm, plan_norm,
     nullptr, nullptr, norm_variables, norm_summary},
    {LayerType::layer_normalization, "layer_normalization", {}, {"LayerNormalization"}, 1, 1, read_norm, plan_norm,
     norm_span, norm_mixes, norm_variables, norm_summary},
};

}  // namespace c1r
