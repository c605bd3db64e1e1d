// Activation layers: activation (any Keras name), relu, leaky_relu, prelu, elu, softmax.
#include "layers/kinds_common.hpp"

namespace c1r {
namespace {

void read_activation_layer(ObjectReader& r, LayerSpec& l) {
    if (!r.has("activation")) r.fail_missing("activation");
    l.activation = read_activation(r, "activation", Activation::linear);
}

void read_relu(ObjectReader& r, LayerSpec& l) {
    if (const json* m = r.find("max_value"); m && !m->is_null()) {
        l.max_value = r.number("max_value", 0.0);
        if (*l.max_value < 0) r.fail(r.at("max_value"), "must not be negative");
    } else {
        r.record_json("max_value", nullptr);
    }
    l.negative_slope = r.number("negative_slope", 0.0);
    l.threshold = r.number("threshold", 0.0);
    if (l.negative_slope < 0) r.fail(r.at("negative_slope"), "must not be negative");
}

void read_leaky(ObjectReader& r, LayerSpec& l) {
    // Keras 3 names it negative_slope, Keras 2 alpha; both default to 0.3 (the function leaky_relu uses 0.2).
    l.negative_slope = r.has("alpha") && !r.has("negative_slope") ? r.number("alpha", 0.3)
                                                                    : r.number("negative_slope", 0.3);
}

void read_elu(ObjectReader& r, LayerSpec& l) { l.alpha = r.number("alpha", 1.0); }

void read_prelu(ObjectReader& r, LayerSpec& l) {
    if (const json* s = r.find("shared_axes"); s && !s->is_null()) {
        l.shared_axes = s->is_array() ? read_int_list(r, "shared_axes", 1)
                                      : std::vector<int64_t>{r.integer("shared_axes", std::nullopt, 1)};
    } else {
        r.record_json("shared_axes", nullptr);
    }
    read_weight_files(r, l);
}

// Keras' axis (the data format's order; 0 is the batch, which ONNX softmax may normalise over too), and `log`
// (ours: log-softmax, as ONNX LogSoftmax and torch.nn.LogSoftmax over any axis).
void read_softmax(ObjectReader& r, LayerSpec& l) {
    l.axis = r.integer("axis", -1, -3, 3);
    l.log_softmax = r.boolean("log", false);
}

void plan_elementwise(LayerPlan& p, const PlanContext&) {
    p.output_shape = p.input_shape;
    p.flops = p.input_shape.elements();
}

// The activation layer keeps today's figures: no FLOPs counted (it usually runs as a post-op).
void plan_activation(LayerPlan& p, const PlanContext&) { p.output_shape = p.input_shape; }

void plan_softmax(LayerPlan& p, const PlanContext&) {
    const int rank = p.input_shape.rank;
    int64_t axis = p.spec.axis < 0 ? p.spec.axis + rank : p.spec.axis;
    if (axis < 0 || axis >= rank)
        throw LayerError{"axis " + std::to_string(p.spec.axis) + " does not exist in its rank-" +
                             std::to_string(rank) + " input (axes 0.." + std::to_string(rank - 1) +
                             " with 0 the batch, or -1)",
                         "axis"};
    plan_elementwise(p, {});
}

// PReLU's alpha: the input's dims without batch, in the user's order, with shared axes (1-based) set to 1.
std::vector<Variable> prelu_variables(const LayerPlan& p) {
    std::vector<int64_t> dims;
    const Shape& in = p.input_shape;
    if (in.rank == 2) dims = {in.channels};
    else dims = {in.length, in.channels};  // channels_last order; channels_first swaps in prelu_alpha_shape
    for (int64_t axis : p.spec.shared_axes)
        if (axis >= 1 && static_cast<size_t>(axis) <= dims.size()) dims[axis - 1] = 1;
    return {{"alpha", dims, Variable::Init::zeros}};
}

std::string act_summary(const LayerSpec& l) { return to_string(l.activation.fn); }

std::string relu_summary(const LayerSpec& l) {
    std::string s;
    if (l.max_value) s += "max " + std::to_string(*l.max_value);
    if (l.negative_slope != 0) s += (s.empty() ? "" : " ") + std::string("slope ") + std::to_string(l.negative_slope);
    if (l.threshold != 0) s += (s.empty() ? "" : " ") + std::string("thr ") + std::to_string(l.threshold);
    return s;
}

std::string leaky_summary(const LayerSpec& l) { return "slope " + std::to_string(l.negative_slope); }
std::string elu_summary(const LayerSpec& l) { return "alpha " + std::to_string(l.alpha); }
std::string softmax_summary(const LayerSpec& l) {
    return (l.log_softmax ? "log, axis " : "axis ") + std::to_string(l.axis) + (l.axis == 0 ? " (batch)" : "");
}

}  // namespace

const std::vector<LayerKind> kActivationKinds = {
    {LayerType::activation, "activation", {}, {"Activation"}, 1, 1, read_activation_layer, plan_activation, nullptr,
     nullptr, nullptr, act_summary},
    {LayerType::relu, "relu", {}, {"ReLU"}, 1, 1, read_relu, plan_elementwise, nullptr, nullptr, nullptr,
     relu_summary},
    {LayerType::leaky_relu, "leaky_relu", {}, {"LeakyReLU"}, 1, 1, read_leaky, plan_elementwise, nullptr, nullptr,
     nullptr, leaky_summary},
    {LayerType::prelu, "prelu", {}, {"PReLU"}, 1, 1, read_prelu, plan_elementwise, nullptr, nullptr, prelu_variables,
     no_summary},
    {LayerType::elu, "elu", {}, {"ELU"}, 1, 1, read_elu, plan_elementwise, nullptr, nullptr, nullptr, elu_summary},
    {LayerType::softmax, "softmax", {}, {"Softmax"}, 1, 1, read_softmax, plan_softmax, nullptr, nullptr, nullptr,
     softmax_summary},
};

}  // namespace c1r
