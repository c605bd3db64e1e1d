// Element-wise ONNX operators: activations, the erf form of GELU, and Add/Sub/Mul/Div (a merge of two tensors,
// or a per-channel scale and shift by a constant, done as a 1x1 depthwise convolution or a diagonal dense).
#include <cmath>

#include "import/onnx_lower.hpp"

namespace c1r::onnx_import {
namespace {

void elementwise(Lowerer& L, const OnnxNode& n, json layer, const std::string& out_name = "") {
    const Value& x = L.tensor_in(n, 0);
    std::string ref = L.add_layer(n, std::move(layer), {x.ref});
    L.set_tensor(out_name.empty() ? n.outputs[0] : out_name, ref, x.dims, x.roles, x.rank);
}

json activation(const char* name) { return {{"type", "activation"}, {"activation", name}}; }

bool near(double a, double b) { return std::fabs(a - b) <= 1e-6 * std::max(1.0, std::fabs(b)); }

// The scalar of a constant operand, when it is one value.
bool scalar_of(Lowerer& L, const std::string& name, double& value) {
    OnnxNode probe;
    probe.inputs = {name};
    try {
        const Value& v = L.in(probe, 0);
        if (!v.is_const || v.data.size() != 1) return false;
        value = v.data[0];
        return true;
    } catch (const Unsupported&) {
        return false;
    }
}

// x * 0.5 * (1 + erf(x / sqrt(2))) as torch.onnx.export writes F.gelu: Div → Erf → Add(1) → Mul(x) → Mul(0.5).
bool gelu_pattern(Lowerer& L, const OnnxNode& div) {
    double c = 0;
    if (div.op != "Div" || div.inputs.size() != 2 || !scalar_of(L, div.inputs[1], c) || !near(c, std::sqrt(2.0))) return false;
    const std::string& x = div.inputs[0];
    const OnnxNode* erf = L.only_reader(div.outputs[0]);
    if (!erf || erf->op != "Erf") return false;
    const OnnxNode* add = L.only_reader(erf->outputs[0]);
    double one = 0;
    if (!add || add->op != "Add" || add->inputs.size() != 2) return false;
    const std::string& add_other = add->inputs[0] == erf->outputs[0] ? add->inputs[1] : add->inputs[0];
    if (!scalar_of(L, add_other, one) || !near(one, 1.0)) return false;
    const OnnxNode* mul = L.only_reader(add->outputs[0]);
    if (!mul || mul->op != "Mul" || mul->inputs.size() != 2) return false;
    const std::string& mul_other = mul->inputs[0] == add->outputs[0] ? mul->inputs[1] : mul->inputs[0];
    const OnnxNode* last = nullptr;
    const OnnxNode* half_first = nullptr;
    double half = 0;
    if (mul_other == x) {
        last = L.only_reader(mul->outputs[0]);
        if (!last || last->op != "Mul" || last->inputs.size() != 2) return false;
        const std::string& h = last->inputs[0] == mul->outputs[0] ? last->inputs[1] : last->inputs[0];
        if (!scalar_of(L, h, half) || !near(half, 0.5)) return false;
    } else {
        half_first = L.producer(mul_other);  // (x * 0.5) * (1 + erf(...))
        if (!half_first || half_first->op != "Mul" || L.readers(mul_other) != 1) return false;
        const auto& hi = half_first->inputs;
        if (hi.size() != 2 || !((hi[0] == x && scalar_of(L, hi[1], half)) || (hi[1] == x && scalar_of(L, hi[0], half))) ||
            !near(half, 0.5) || half_first->index > div.index)
            return false;
        last = mul;
    }
    OnnxNode at = *last;
    at.inputs = {x};
    elementwise(L, at, activation("gelu"), last->outputs[0]);
    L.set_const(div.outputs[0], {}, {0.0}, false);  // never read: its readers are skipped
    for (const OnnxNode* m : {erf, add, mul, last, half_first})
        if (m) L.skip(*m);
    return true;
}

// y = a[c] * x + b[c] on our c channels: a 1x1 depthwise convolution (rank 3) or a diagonal dense (rank 2).
std::string scale_shift_layer(Lowerer& L, const OnnxNode& n, const Value& x, int64_t c, const std::vector<float>& a,
                              const std::vector<float>& b, const std::string& suffix = "") {
    bool bias = false;
    for (float v : b) bias = bias || v != 0.0f;
    std::string ref;
    if (x.rank == 3) {
        ref = L.add_layer(n, {{"type", "depthwise_conv1d"}, {"kernel_size", 1}, {"use_bias", bias}}, {x.ref}, suffix);
        L.add_weight(ref, "kernel", {1, c, 1}, a);  // depthwise_conv1d names it kernel (Keras 3)
    } else {
        if (c > 4096) throw Unsupported{"a per-feature constant on more than 4096 features"};
        ref = L.add_layer(n, {{"type", "dense"}, {"units", c}, {"use_bias", bias}}, {x.ref}, suffix);
        std::vector<float> diag(static_cast<size_t>(c * c), 0.0f);
        for (int64_t i = 0; i < c; ++i) diag[static_cast<size_t>(i * c + i)] = a[static_cast<size_t>(i)];
        L.add_weight(ref, "kernel", {c, c}, diag);
    }
    if (bias) L.add_weight(ref, "bias", {c}, b);
    return ref;
}

// y = a * x + b per channel (or per feature), from an operation with a constant operand.
void affine(Lowerer& L, const OnnxNode& n, const Value& x_in, const Value& k, bool k_first) {
    Value x = L.canonical(n, x_in);
    const int64_t c = x.dims[1];
    // The constant must vary along the channels only: right-aligned shape (C, 1) / (1, C, 1) for (N, C, L),
    // (C) / (1, C) for (N, F), or a single value.
    std::vector<double> per(static_cast<size_t>(c));
    if (k.data.size() == 1) {
        per.assign(static_cast<size_t>(c), k.data[0]);
    } else {
        std::vector<int64_t> kd = k.dims;
        while (!kd.empty() && kd.front() == 1 && kd.size() > 1) kd.erase(kd.begin());
        const bool ok = x.rank == 3 ? (kd.size() == 2 && kd[0] == c && kd[1] == 1 && k.dims.size() <= 3)
                                    : (kd.size() == 1 && kd[0] == c && k.dims.size() <= 2);
        if (!ok) throw Unsupported{"a constant operand that varies along other axes than the channels"};
        per = k.data;
    }
    std::vector<float> a(static_cast<size_t>(c)), b(static_cast<size_t>(c));
    for (size_t i = 0; i < per.size(); ++i) {
        const double v = per[i];
        double sa = 1, sb = 0;
        if (n.op == "Add") sb = v;
        else if (n.op == "Sub") { sa = k_first ? -1 : 1; sb = k_first ? v : -v; }
        else if (n.op == "Mul") sa = v;
        else if (!k_first) sa = 1.0 / v;  // Div by a constant
        else throw Unsupported{"a constant divided by a tensor"};
        a[i] = static_cast<float>(sa);
        b[i] = static_cast<float>(sb);
    }
    std::string ref = scale_shift_layer(L, n, x, c, a, b);
    L.set_tensor(n.outputs[0], ref, x.dims, x.roles, x.rank);
}

// The number of our channels (features) of a tensor: its 'C' (and 'D') axes; 0 when it has none.
int64_t our_channels(const Value& x) {
    int64_t c = 1;
    bool any = false;
    for (size_t i = 0; i < x.roles.size() && i < x.dims.size(); ++i)
        if (x.roles[i] == 'C' || x.roles[i] == 'D') c = mul_sizes(c, x.dims[i]), any = true;
    return any ? c : 0;
}

// y = a * x + b with scalars a, b: an element-wise layer on our tensor whatever its ONNX axes (the same scale
// on every channel). Returns the value (the input's axes), named `out_name` when given.
Value scalar_affine(Lowerer& L, const OnnxNode& n, const Value& x_in, double a, double b, const std::string& suffix,
                    const std::string& out_name = "") {
    Value x = our_channels(x_in) > 0 ? x_in : L.canonical(n, x_in);
    const int64_t c = our_channels(x);
    if (c < 1) throw Unsupported{"a tensor without a channel axis"};
    std::vector<float> av(static_cast<size_t>(c), static_cast<float>(a)), bv(static_cast<size_t>(c), static_cast<float>(b));
    x.ref = scale_shift_layer(L, n, x, c, av, bv, suffix);
    if (!out_name.empty()) L.set_tensor(out_name, x.ref, x.dims, x.roles, x.rank);
    return x;
}

// Clip(x, lo, hi) with constant bounds, from relu (0 <= x <= max_value) and scalar shifts around it:
// lo + relu(x - lo, max hi - lo); hi - relu(hi - x) without a lower bound; the identity without either.
void clip(Lowerer& L, const OnnxNode& n, double lo, double hi) {
    if (std::isnan(lo) || std::isnan(hi)) throw Unsupported{"a NaN bound"};
    if (lo > hi) throw Unsupported{"min greater than max"};
    const Value& x = L.tensor_in(n, 0);
    json relu = {{"type", "relu"}};
    if (lo == 0) {
        if (std::isfinite(hi)) relu["max_value"] = hi;
        elementwise(L, n, relu);
        return;
    }
    if (!std::isfinite(lo) && !std::isfinite(hi)) {
        std::string ref = L.add_layer(n, {{"type", "dropout"}, {"rate", 0.0}}, {x.ref}, "/identity");
        L.set_tensor(n.outputs[0], ref, x.dims, x.roles, x.rank);
        return;
    }
    const bool low = std::isfinite(lo);
    if (low && std::isfinite(hi)) relu["max_value"] = hi - lo;
    Value v = low ? scalar_affine(L, n, x, 1.0, -lo, "/shift") : scalar_affine(L, n, x, -1.0, hi, "/flip");
    v.ref = L.add_layer(n, relu, {v.ref}, "/relu");
    if (low) scalar_affine(L, n, v, 1.0, lo, "", n.outputs[0]);
    else scalar_affine(L, n, v, -1.0, hi, "", n.outputs[0]);
}

}  // namespace

bool lower_arith_op(Lowerer& L, const OnnxNode& n) {
    const std::string& op = n.op;
    if (op != "Add" && op != "Sub" && op != "Mul" && op != "Div") return false;
    if (op == "Div" && gelu_pattern(L, n)) return true;
    const Value& a = L.in(n, 0);
    const Value& b = L.in(n, 1);
    if (a.is_const || b.is_const) {
        affine(L, n, a.is_const ? b : a, a.is_const ? a : b, a.is_const);
        return true;
    }
    if (op == "Div") throw Unsupported{"division of two tensors"};
    Value x = L.canonical(n, a), y = L.canonical(n, b);
    if (x.dims != y.dims) throw Unsupported{"operands of different shapes (broadcasting between tensors)"};
    const char* type = op == "Add" ? "add" : op == "Sub" ? "subtract" : "multiply";
    std::string ref = L.add_layer(n, {{"type", type}}, {x.ref, y.ref});
    L.set_tensor(n.outputs[0], ref, x.dims, x.roles, x.rank);
    return true;
}

bool lower_activation_op(Lowerer& L, const OnnxNode& n) {
    const std::string& op = n.op;
    if (op == "Relu") elementwise(L, n, {{"type", "relu"}});
    else if (op == "LeakyRelu") elementwise(L, n, {{"type", "leaky_relu"}, {"negative_slope", L.attr_f(n, "alpha", 0.01)}});
    else if (op == "Elu") elementwise(L, n, {{"type", "elu"}, {"alpha", L.attr_f(n, "alpha", 1.0)}});
    else if (op == "Selu") {
        const double alpha = L.attr_f(n, "alpha", 1.67326319217681884765625);
        const double gamma = L.attr_f(n, "gamma", 1.05070102214813232421875);
        if (near(alpha, 1.6732632423543772) && near(gamma, 1.0507009873554805)) {
            elementwise(L, n, activation("selu"));
        } else {  // gamma * elu_alpha(x)
            const Value& x = L.tensor_in(n, 0);
            Value v = x;
            v.ref = L.add_layer(n, {{"type", "elu"}, {"alpha", alpha}}, {x.ref}, "/elu");
            scalar_affine(L, n, v, gamma, 0.0, "", n.outputs[0]);
        }
    } else if (op == "Sigmoid") elementwise(L, n, activation("sigmoid"));
    else if (op == "Tanh") elementwise(L, n, activation("tanh"));
    else if (op == "Softplus") elementwise(L, n, activation("softplus"));
    else if (op == "Softsign") elementwise(L, n, activation("softsign"));
    else if (op == "Exp") elementwise(L, n, activation("exponential"));
    else if (op == "HardSwish") elementwise(L, n, activation("hard_silu"));
    else if (op == "Gelu") {
        if (L.attr_s(n, "approximate", "none") == "tanh") elementwise(L, n, activation("gelu_tanh"));
        else elementwise(L, n, activation("gelu"));
    } else if (op == "HardSigmoid") {
        const double alpha = L.attr_f(n, "alpha", 0.2), beta = L.attr_f(n, "beta", 0.5);
        if (near(beta, 0.5) && near(alpha, 1.0 / 6.0)) {
            elementwise(L, n, activation("hard_sigmoid"));
        } else if (near(beta, 0.5) && near(alpha, 0.2)) {
            elementwise(L, n, {{"type", "activation"}, {"activation", "hard_sigmoid"}, {"activation_keras2", true}});
        } else {  // clip(alpha * x + beta, 0, 1)
            Value v = scalar_affine(L, n, L.tensor_in(n, 0), alpha, beta, "/affine");
            std::string ref = L.add_layer(n, {{"type", "relu"}, {"max_value", 1.0}}, {v.ref});
            L.set_tensor(n.outputs[0], ref, v.dims, v.roles, v.rank);
        }
    } else if (op == "Clip") {
        double lo = -INFINITY, hi = INFINITY;
        if (L.graph.opset < 11) {
            lo = L.attr_f(n, "min", lo);
            hi = L.attr_f(n, "max", hi);
        } else {
            if (L.has(n, 1) && !scalar_of(L, n.inputs[1], lo)) throw Unsupported{"min is not a constant scalar"};
            if (L.has(n, 2) && !scalar_of(L, n.inputs[2], hi)) throw Unsupported{"max is not a constant scalar"};
        }
        clip(L, n, lo, hi);
    } else if (op == "Softmax" || op == "LogSoftmax") {
        const Value& x = L.tensor_in(n, 0);
        int64_t axis = L.attr_i(n, "axis", L.graph.opset >= 13 ? -1 : 1);
        axis = Lowerer::norm_axis(axis, x.dims.size());
        if (L.graph.opset < 13 && axis != static_cast<int64_t>(x.dims.size()) - 1)
            throw Unsupported{"opset < 13 softmax over several axes"};
        if (x.roles[static_cast<size_t>(axis)] == 'B') {  // over the batch: our batch, whatever the other axes
            json layer = {{"type", "softmax"}, {"axis", 0}, {"log", op == "LogSoftmax"}};
            std::string ref = L.add_layer(n, layer, {x.ref});
            L.set_tensor(n.outputs[0], ref, x.dims, x.roles, x.rank);
            return true;
        }
        Value c = L.channels_at(n, x, axis);
        std::string ref = L.add_layer(n, op == "Softmax" ? json{{"type", "softmax"}, {"axis", 1}} : activation("log_softmax"), {c.ref});
        L.set_tensor(n.outputs[0], ref, c.dims, c.roles, c.rank);
    } else {
        return false;
    }
    return true;
}

}  // namespace c1r::onnx_import
