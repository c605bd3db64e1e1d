// ONNX operators that become layers: convolutions, pooling, resizing, padding, normalisation, heads,
// element-wise arithmetic and activations. Weights go to Keras layout here.
#include <algorithm>
#include <cmath>

#include "import/onnx_lower.hpp"

namespace c1r::onnx_import {
namespace {

int64_t one(const std::vector<int64_t>& v, int64_t fallback, const char* what) {
    if (v.empty()) return fallback;
    if (v.size() != 1) throw Unsupported{std::string(what) + " has " + std::to_string(v.size()) + " entries (1-D only)"};
    return v[0];
}

struct Window1d {
    int64_t kernel = 1, stride = 1, dilation = 1, left = 0, right = 0;
};

// kernel_shape, strides, dilations, pads and auto_pad of a 1-D conv or pool over input length `length`.
Window1d window_of(Lowerer& L, const OnnxNode& n, int64_t kernel, int64_t length) {
    Window1d w;
    w.kernel = one(L.attr_ints(n, "kernel_shape", {}), kernel, "kernel_shape");
    w.stride = one(L.attr_ints(n, "strides", {}), 1, "strides");
    w.dilation = one(L.attr_ints(n, "dilations", {}), 1, "dilations");
    std::vector<int64_t> pads = L.attr_ints(n, "pads", {0, 0});
    if (pads.size() != 2) throw Unsupported{"pads has " + std::to_string(pads.size()) + " entries (1-D: 2)"};
    w.left = pads[0];
    w.right = pads[1];
    for (int64_t v : {w.kernel, w.stride, w.dilation, w.left, w.right})
        if (v > kOnnxMaxDim) throw Unsupported{"a kernel, stride, dilation or pad above 2^31"};
    if (w.kernel < 1 || w.stride < 1 || w.dilation < 1 || w.left < 0 || w.right < 0)
        throw Unsupported{"a kernel, stride, dilation or pad out of range"};
    const std::string auto_pad = L.attr_s(n, "auto_pad", "NOTSET");
    if (auto_pad == "VALID") {
        w.left = w.right = 0;
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
        const int64_t out = (length + w.stride - 1) / w.stride;
        const int64_t total = std::max<int64_t>(0, (out - 1) * w.stride + w.dilation * (w.kernel - 1) + 1 - length);
        w.left = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
        w.right = total - w.left;
    } else if (auto_pad != "NOTSET") {
        throw Unsupported{"auto_pad " + auto_pad};
    }
    return w;
}

json padding_json(int64_t left, int64_t right) {
    if (left == 0 && right == 0) return "valid";
    return json::array({left, right});
}

std::vector<float> to_float(const std::vector<double>& v) { return {v.begin(), v.end()}; }

// Input 2 as one value per output channel.
std::vector<float> bias_of(Lowerer& L, const OnnxNode& n, int64_t m) {
    const Value& b = L.const_in(n, 2);
    if (b.elements() != m || b.dims.size() != 1) throw Unsupported{"bias B does not hold one value per output channel"};
    return to_float(b.data);
}

void conv(Lowerer& L, const OnnxNode& n) {
    L.only_attrs(n, {"kernel_shape", "strides", "dilations", "pads", "auto_pad", "group"});
    Value x = L.canonical(n, L.tensor_in(n, 0), true);
    const Value& w = L.const_in(n, 1);
    if (w.dims.size() != 3) throw Unsupported{"weight of rank " + std::to_string(w.dims.size()) + " (1-D: 3)"};
    const int64_t m = w.dims[0], cg = w.dims[1], k = w.dims[2];
    const int64_t group = L.attr_i(n, "group", 1);
    if (group < 1 || group > kOnnxMaxDim || mul_sizes(cg, group) != x.dims[1] || m % group != 0) throw Unsupported{"weight shape does not match the input and group"};
    Window1d win = window_of(L, n, k, x.dims[2]);
    if (win.kernel != k) throw Unsupported{"kernel_shape differs from the weight"};
    const int64_t span = win.dilation * (k - 1) + 1;
    const int64_t out = (x.dims[2] + win.left + win.right - span) / win.stride + 1;
    if (x.dims[2] + win.left + win.right < span) throw Unsupported{"the input is shorter than the kernel"};
    json layer = {{"type", "conv1d"},          {"filters", m},
                  {"kernel_size", k},          {"strides", win.stride},
                  {"dilation_rate", win.dilation}, {"padding", padding_json(win.left, win.right)},
                  {"groups", group},           {"use_bias", L.has(n, 2)}};
    std::string ref = L.add_layer(n, layer, {x.ref});
    std::vector<float> kernel(static_cast<size_t>(k * cg * m));
    for (int64_t o = 0; o < m; ++o)
        for (int64_t c = 0; c < cg; ++c)
            for (int64_t t = 0; t < k; ++t)
                kernel[static_cast<size_t>((t * cg + c) * m + o)] = static_cast<float>(w.data[static_cast<size_t>((o * cg + c) * k + t)]);
    L.add_weight(ref, "kernel", {k, cg, m}, kernel);
    if (L.has(n, 2)) L.add_weight(ref, "bias", {m}, bias_of(L, n, m));
    L.set_tensor(n.outputs[0], ref, {x.dims[0], m, out}, "BCL", 3);
}

void conv_transpose(Lowerer& L, const OnnxNode& n) {
    L.only_attrs(n, {"kernel_shape", "strides", "dilations", "pads", "auto_pad", "group", "output_padding", "output_shape"});
    Value x = L.canonical(n, L.tensor_in(n, 0), true);
    const Value& w = L.const_in(n, 1);
    if (w.dims.size() != 3 || w.dims[0] != x.dims[1]) throw Unsupported{"weight shape does not match the input"};
    if (L.attr_i(n, "group", 1) != 1) throw Unsupported{"group > 1 (grouped transposed convolution)"};
    const int64_t cin = w.dims[0], m = w.dims[1], k = w.dims[2], length = x.dims[2];
    Window1d win;
    win.kernel = one(L.attr_ints(n, "kernel_shape", {}), k, "kernel_shape");
    win.stride = one(L.attr_ints(n, "strides", {}), 1, "strides");
    win.dilation = one(L.attr_ints(n, "dilations", {}), 1, "dilations");
    std::vector<int64_t> pads = L.attr_ints(n, "pads", {0, 0});
    if (pads.size() != 2 || win.kernel != k || win.stride < 1 || win.dilation < 1) throw Unsupported{"a 1-D window is expected"};
    const int64_t output_padding = one(L.attr_ints(n, "output_padding", {}), 0, "output_padding");
    for (int64_t v : {win.stride, win.dilation, pads[0], pads[1], output_padding})
        if (v > kOnnxMaxDim || v < -kOnnxMaxDim) throw Unsupported{"a stride, dilation or pad above 2^31"};
    const int64_t full = win.stride * (length - 1) + output_padding + win.dilation * (k - 1) + 1;
    const std::string auto_pad = L.attr_s(n, "auto_pad", "NOTSET");
    std::vector<int64_t> output_shape = L.attr_ints(n, "output_shape", {});
    if (!output_shape.empty() || auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
        const int64_t target = output_shape.empty() ? length * win.stride : output_shape.back();
        if (target < 1 || target > kOnnxMaxDim) throw Unsupported{"output_shape out of range"};
        const int64_t total = full - target;
        if (total < 0) throw Unsupported{"output_shape is longer than the full result"};
        pads = auto_pad == "SAME_UPPER" ? std::vector<int64_t>{total / 2, total - total / 2}
                                        : std::vector<int64_t>{total - total / 2, total / 2};
    } else if (auto_pad == "VALID") {
        pads = {0, 0};
    }
    if (pads[0] < 0 || pads[1] < 0) throw Unsupported{"negative pads"};
    const int64_t out = full - pads[0] - pads[1];
    if (out < 1) throw Unsupported{"the output would be empty"};
    if (output_padding < 0 || (output_padding > 0 && output_padding >= win.stride && output_padding >= win.dilation))
        throw Unsupported{"output_padding must be less than the stride or the dilation"};
    json layer = {{"type", "conv1d_transpose"}, {"filters", m}, {"kernel_size", k}, {"strides", win.stride},
                  {"dilation_rate", win.dilation}, {"use_bias", L.has(n, 2)}};
    if (pads[0] == 0 && pads[1] == 0) {
        layer["padding"] = "valid";
        if (output_padding > 0) layer["output_padding"] = output_padding;
    } else {
        layer["padding"] = json::array({pads[0], pads[1]});  // PyTorch's crop (native padding [left, right])
        layer["output_padding"] = output_padding;
    }
    std::string ref = L.add_layer(n, layer, {x.ref});
    std::vector<float> kernel(static_cast<size_t>(k * m * cin));  // Keras (k, out, in)
    for (int64_t c = 0; c < cin; ++c)
        for (int64_t o = 0; o < m; ++o)
            for (int64_t t = 0; t < k; ++t)
                kernel[static_cast<size_t>((t * m + o) * cin + c)] = static_cast<float>(w.data[static_cast<size_t>((c * m + o) * k + t)]);
    L.add_weight(ref, "kernel", {k, m, cin}, kernel);
    if (L.has(n, 2)) L.add_weight(ref, "bias", {m}, bias_of(L, n, m));
    L.set_tensor(n.outputs[0], ref, {x.dims[0], m, out}, "BCL", 3);
}

void pool(Lowerer& L, const OnnxNode& n) {
    const bool max = n.op == "MaxPool";
    L.only_attrs(n, {"kernel_shape", "strides", "dilations", "pads", "auto_pad", "ceil_mode", "count_include_pad",
                     "storage_order"});
    if (max && L.used(n, 1)) throw Unsupported{"its Indices output is not supported"};
    Value x = L.canonical(n, L.tensor_in(n, 0), true);
    Window1d w = window_of(L, n, 0, x.dims[2]);
    if (w.kernel < 1) throw Unsupported{"kernel_shape is missing"};
    const bool ceil = L.attr_i(n, "ceil_mode", 0) != 0;
    const bool include = L.attr_i(n, "count_include_pad", 0) != 0;
    if (!max && w.dilation != 1) throw Unsupported{"dilations on AveragePool"};
    const int64_t span = w.dilation * (w.kernel - 1) + 1, padded = x.dims[2] + w.left + w.right;
    if (padded < span) throw Unsupported{"the input is shorter than the window"};
    int64_t out = (padded - span) / w.stride + 1;
    if (ceil) {
        out = (padded - span + w.stride - 1) / w.stride + 1;
        if ((out - 1) * w.stride >= x.dims[2] + w.left) --out;  // the last window must start inside
    }
    json layer = {{"type", max ? "max_pool1d" : "avg_pool1d"}, {"pool_size", w.kernel}, {"strides", w.stride},
                  {"padding", padding_json(w.left, w.right)}};
    if (ceil) layer["ceil_mode"] = true;
    if (!max && include && (w.left || w.right)) layer["count_include_pad"] = true;
    if (max && w.dilation != 1) layer["dilation_rate"] = w.dilation;
    std::string ref = L.add_layer(n, layer, {x.ref});
    L.set_tensor(n.outputs[0], ref, {x.dims[0], x.dims[1], out}, "BCL", 3);
}

void global_pool(Lowerer& L, const OnnxNode& n, bool max, bool keepdims) {
    Value x = L.canonical(n, L.tensor_in(n, 0), true);
    std::string ref = L.add_layer(n, {{"type", max ? "global_max_pool1d" : "global_avg_pool1d"}, {"keepdims", keepdims}}, {x.ref});
    if (keepdims) L.set_tensor(n.outputs[0], ref, {x.dims[0], x.dims[1], 1}, "BCL", 3);
    else L.set_tensor(n.outputs[0], ref, {x.dims[0], x.dims[1]}, "BC", 2);
}

void reduce(Lowerer& L, const OnnxNode& n) {
    Value x = L.canonical(n, L.tensor_in(n, 0), true);
    std::vector<int64_t> axes = L.has(n, 1) ? std::vector<int64_t>{} : L.attr_ints(n, "axes", {});
    if (L.has(n, 1))
        for (double a : L.const_in(n, 1).data) axes.push_back(static_cast<int64_t>(a));
    if (axes.size() != 1 || Lowerer::norm_axis(axes[0], 3) != 2) throw Unsupported{"only a reduction over the length axis (2) is supported"};
    global_pool(L, n, n.op == "ReduceMax", L.attr_i(n, "keepdims", 1) != 0);
}

void resize(Lowerer& L, const OnnxNode& n) {
    Value x = L.canonical(n, L.tensor_in(n, 0), true);
    const std::string mode = L.attr_s(n, "mode", "nearest");
    const std::string coord = L.attr_s(n, "coordinate_transformation_mode", n.op == "Upsample" ? "asymmetric" : "half_pixel");
    double scale = 0;
    std::vector<double> scales;
    if (n.op == "Upsample") scales = L.has(n, 1) ? L.const_in(n, 1).data : std::vector<double>{};
    else if (L.has(n, 2) && !L.const_in(n, 2).data.empty()) scales = L.const_in(n, 2).data;
    if (!scales.empty()) {
        if (scales.size() != 3 || scales[0] != 1 || scales[1] != 1) throw Unsupported{"only the length axis may be scaled"};
        scale = scales[2];
    } else if (n.op == "Resize" && L.has(n, 3)) {
        const Value& sizes = L.const_in(n, 3);
        if (sizes.data.size() != 3 || sizes.data[0] != x.dims[0] || sizes.data[1] != x.dims[1])
            throw Unsupported{"only the length axis may be resized"};
        scale = sizes.data[2] / static_cast<double>(x.dims[2]);
    } else {
        throw Unsupported{"neither scales nor sizes given"};
    }
    if (!(scale >= 1 && scale <= 1024)) throw Unsupported{"a scale outside [1, 1024]"};
    const int64_t size = static_cast<int64_t>(std::llround(scale));
    if (size < 1 || std::fabs(scale - static_cast<double>(size)) > 1e-9) throw Unsupported{"a non-integer scale"};
    json layer = {{"type", "upsample1d"}, {"size", size}};
    if (mode == "nearest") {
        const std::string nearest = L.attr_s(n, "nearest_mode", n.op == "Upsample" ? "floor" : "round_prefer_floor");
        if (coord != "asymmetric" || nearest != "floor")
            throw Unsupported{"nearest mode with " + coord + "/" + nearest + " (asymmetric/floor is supported)"};
    } else if (mode == "linear") {
        if (coord == "align_corners") layer["align_corners"] = true;
        else if (coord != "half_pixel" && coord != "pytorch_half_pixel") throw Unsupported{"linear mode with " + coord};
        layer["interpolation"] = "linear";
        if (!layer.contains("align_corners")) layer["align_corners"] = false;
    } else {
        throw Unsupported{"mode " + mode};
    }
    std::string ref = L.add_layer(n, layer, {x.ref});
    L.set_tensor(n.outputs[0], ref, {x.dims[0], x.dims[1], x.dims[2] * size}, "BCL", 3);
}

void pad(Lowerer& L, const OnnxNode& n) {
    Value x = L.canonical(n, L.tensor_in(n, 0), true);
    std::vector<int64_t> pads;
    double value = 0;
    if (L.graph.opset < 11) {
        pads = L.attr_ints(n, "pads", {});
        value = L.attr_f(n, "value", 0.0);
    } else {
        for (double d : L.const_in(n, 1).data) pads.push_back(static_cast<int64_t>(d));
        if (L.has(n, 2) && !L.const_in(n, 2).data.empty()) value = L.const_in(n, 2).data[0];
        if (L.has(n, 3)) throw Unsupported{"the axes input is not supported"};
    }
    if (pads.size() != 6 || pads[0] || pads[1] || pads[3] || pads[4]) throw Unsupported{"only the length axis may be padded"};
    const int64_t left = pads[2], right = pads[5];
    if (std::max(std::abs(left), std::abs(right)) > kOnnxMaxDim) throw Unsupported{"pads above 2^31"};
    const std::string mode = L.attr_s(n, "mode", "constant");
    std::string ref;
    if (left <= 0 && right <= 0) {
        ref = L.add_layer(n, {{"type", "cropping1d"}, {"cropping", {-left, -right}}}, {x.ref});
    } else if (left < 0 || right < 0) {
        throw Unsupported{"pads that add on one side and crop on the other"};
    } else {
        json layer = {{"type", "zero_padding1d"}, {"padding", {left, right}}};
        if (mode == "constant") {
            if (value != 0) throw Unsupported{"constant padding with a value other than 0"};
        } else if (mode == "reflect") {
            layer["padding_mode"] = "reflect";
        } else if (mode == "edge") {
            layer["padding_mode"] = "replicate";
        } else {
            throw Unsupported{"mode " + mode};
        }
        ref = L.add_layer(n, layer, {x.ref});
    }
    L.set_tensor(n.outputs[0], ref, {x.dims[0], x.dims[1], x.dims[2] + left + right}, "BCL", 3);
}

void batch_norm(Lowerer& L, const OnnxNode& n) {
    if (L.attr_i(n, "training_mode", 0) != 0) throw Unsupported{"training_mode 1"};
    for (size_t k = 1; k < n.outputs.size(); ++k)
        if (L.used(n, k)) throw Unsupported{"its running-statistics outputs are not supported"};
    Value x = L.canonical(n, L.tensor_in(n, 0));
    const int64_t c = x.dims[1];
    const char* vars[] = {"gamma", "beta", "moving_mean", "moving_variance"};
    std::string ref = L.add_layer(n, {{"type", "batch_normalization"}, {"axis", 1}, {"epsilon", L.attr_f(n, "epsilon", 1e-5)}}, {x.ref});
    for (size_t k = 1; k <= 4; ++k) {
        const Value& v = L.const_in(n, k);
        if (v.elements() != c) throw Unsupported{std::string(vars[k - 1]) + " does not have one value per channel"};
        L.add_weight(ref, vars[k - 1], {c}, to_float(v.data));
    }
    L.set_tensor(n.outputs[0], ref, x.dims, x.roles, x.rank);
}

// LayerNormalization over the last axis: layer_normalization on our channels (a permute first when that axis is
// our length). Over the last two axes of a sequence (axis 1 or -2): layer_normalization over length and channels,
// W/B (ONNX order) transposed to Keras' (L, C) where the ONNX order is (C, L). Over every axis of a sequence,
// the batch too (axis 0 or -3): layer_normalization axis [0, 1, 2], W/B (B, C, L) transposed per sample to
// (B, L, C). Mean and InvStdDev, when read, are the layer's outputs 1 and 2 (return_statistics), shaped as the
// input with the normalised axes size 1.
void layer_norm(Lowerer& L, const OnnxNode& n) {
    L.only_attrs(n, {"axis", "epsilon", "stash_type"});
    if (L.attr_i(n, "stash_type", 1) != 1) throw Unsupported{"stash_type other than 1 (float)"};
    const Value& in = L.tensor_in(n, 0);
    const int64_t rank = static_cast<int64_t>(in.dims.size());
    const int64_t axis = Lowerer::norm_axis(L.attr_i(n, "axis", -1), in.dims.size());
    const bool whole = axis == 0;
    if (whole && rank != 3)
        throw Unsupported{"normalises every axis, the batch too (axis 0), of a rank-" + std::to_string(rank) +
                          " tensor; only a rank-3 sequence maps (layer_normalization axis [0, 1, 2])"};
    const bool joint = axis < rank - 1;
    if (joint && rank != 3) throw Unsupported{"normalises axes " + std::to_string(axis) + ".." + std::to_string(rank - 1) + " of a rank-" + std::to_string(rank) + " tensor"};
    Value x = joint ? (Lowerer::direct(in) ? in : L.canonical(n, in, true)) : L.channels_at(n, in, axis);
    const std::vector<int64_t> norm_dims(x.dims.begin() + axis, x.dims.end());
    int64_t per = 1;
    for (int64_t d : norm_dims) per = mul_sizes(per, d);
    const bool stats = L.used(n, 1) || L.used(n, 2);
    json layer = {{"type", "layer_normalization"}, {"epsilon", L.attr_f(n, "epsilon", 1e-5)}, {"center", L.has(n, 2)}};
    layer["axis"] = whole ? json{0, 1, 2} : joint ? json{1, 2} : json(1);
    if (stats) layer["return_statistics"] = true;
    std::string ref = L.add_layer(n, layer, {x.ref});
    // Keras layout: (C) for one axis; (L, C) for both, our length and channels in that order; (B, L, C) for all.
    const bool swap = joint && x.roles[1] == 'C';  // ONNX (C, L): transpose to (L, C) (per sample over all axes)
    for (size_t k = 1; k <= 2; ++k) {
        if (k == 2 && !L.has(n, 2)) continue;
        const Value& v = L.const_in(n, k);  // the scale is required
        const char* what = k == 1 ? "scale" : "bias";
        if (whole && v.dims.size() == 3 && v.dims[0] != x.dims[0] && v.elements() / std::max<int64_t>(v.dims[0], 1) == per / x.dims[0])
            throw Unsupported{std::string(what) + " is shaped for batch " + std::to_string(v.dims[0]) + ", the input's batch is " +
                              std::to_string(x.dims[0]) + " (axis 0 ties the weights to the batch size)"};
        if (v.elements() != per || (joint && v.dims != norm_dims))
            throw Unsupported{std::string(what) + " does not have the normalised axes' shape"};
        std::vector<float> values = to_float(v.data);
        if (swap) {
            const size_t base = whole ? 1 : 0;
            const int64_t rows = norm_dims[base], cols = norm_dims[base + 1], samples = whole ? norm_dims[0] : 1;
            for (int64_t b = 0; b < samples; ++b)
                for (int64_t i = 0; i < rows; ++i)
                    for (int64_t j = 0; j < cols; ++j)
                        values[static_cast<size_t>((b * cols + j) * rows + i)] = static_cast<float>(v.data[static_cast<size_t>((b * rows + i) * cols + j)]);
        }
        const std::vector<int64_t> lc{x.dims[swap ? 2 : 1], x.dims[swap ? 1 : 2]};
        const std::vector<int64_t> shape = whole   ? std::vector<int64_t>{x.dims[0], lc[0], lc[1]}
                                           : joint ? lc
                                                   : std::vector<int64_t>{per};
        L.add_weight(ref, k == 1 ? "gamma" : "beta", shape, std::move(values));
    }
    L.set_tensor(n.outputs[0], ref, x.dims, x.roles, x.rank);
    std::vector<int64_t> stat_dims = x.dims;
    for (int64_t a = axis; a < rank; ++a) stat_dims[static_cast<size_t>(a)] = 1;
    for (size_t k = 1; k <= 2; ++k)
        if (L.used(n, k)) L.set_tensor(n.outputs[k], ref + ":" + std::to_string(k), stat_dims, x.roles, x.rank);
}

// Gemm / MatMul with a constant right operand: dense on the last axis; a following Add of a constant vector
// becomes its bias.
void dense(Lowerer& L, const OnnxNode& n) {
    const Value& a = L.tensor_in(n, 0);
    const Value& b = L.const_in(n, 1);
    if (b.dims.size() != 2) throw Unsupported{"a right operand of rank " + std::to_string(b.dims.size())};
    const bool gemm = n.op == "Gemm";
    if (gemm && L.attr_i(n, "transA", 0) != 0) throw Unsupported{"transA 1"};
    const bool trans = gemm && L.attr_i(n, "transB", 0) != 0;
    const double alpha = gemm ? L.attr_f(n, "alpha", 1.0) : 1.0, beta = gemm ? L.attr_f(n, "beta", 1.0) : 1.0;
    const int64_t k = trans ? b.dims[1] : b.dims[0], units = trans ? b.dims[0] : b.dims[1];
    if (a.dims.back() != k) throw Unsupported{"operand shapes do not match"};
    Value x = L.channels_at(n, a, -1);
    std::vector<float> kernel(static_cast<size_t>(k * units));
    for (int64_t i = 0; i < k; ++i)
        for (int64_t j = 0; j < units; ++j)
            kernel[static_cast<size_t>(i * units + j)] =
                static_cast<float>(alpha * b.data[static_cast<size_t>(trans ? j * k + i : i * units + j)]);
    std::vector<float> bias;
    std::string out_name = n.outputs[0];
    if (gemm && L.has(n, 2)) {
        const Value& c = L.const_in(n, 2);
        if (c.elements() != units && c.elements() != 1) throw Unsupported{"C is not one value per unit"};
        for (int64_t j = 0; j < units; ++j) bias.push_back(static_cast<float>(beta * c.data[c.elements() == 1 ? 0 : static_cast<size_t>(j)]));
    } else if (!gemm) {
        const OnnxNode* add = L.only_reader(n.outputs[0]);
        if (add && add->op == "Add" && add->inputs.size() == 2) {
            const std::string& other = add->inputs[0] == n.outputs[0] ? add->inputs[1] : add->inputs[0];
            OnnxNode probe = *add;
            probe.inputs = {other};
            const Value* c = nullptr;
            try {
                c = &L.in(probe, 0);
            } catch (const Unsupported&) {
            }
            if (c && c->is_const && c->elements() == units && c->dims.size() <= 1) {
                for (double d : c->data) bias.push_back(static_cast<float>(d));
                L.skip(*add);
                out_name = add->outputs[0];
            }
        }
    }
    json layer = {{"type", "dense"}, {"units", units}, {"use_bias", !bias.empty()}};
    std::string ref = L.add_layer(n, layer, {x.ref});
    L.add_weight(ref, "kernel", {k, units}, kernel);
    if (!bias.empty()) L.add_weight(ref, "bias", {units}, bias);
    std::vector<int64_t> onnx_dims = a.dims;
    onnx_dims.back() = units;
    L.set_tensor(out_name, ref, onnx_dims, x.roles, x.rank);
    if (out_name != n.outputs[0]) L.set_tensor(n.outputs[0], ref, onnx_dims, x.roles, x.rank);
}

}  // namespace

bool lower_arith_op(Lowerer& L, const OnnxNode& n);
bool lower_activation_op(Lowerer& L, const OnnxNode& n);

bool lower_layer_op(Lowerer& L, const OnnxNode& n) {
    const std::string& op = n.op;
    if (op == "Conv") conv(L, n);
    else if (op == "ConvTranspose") conv_transpose(L, n);
    else if (op == "MaxPool" || op == "AveragePool") pool(L, n);
    else if (op == "GlobalAveragePool" || op == "GlobalMaxPool") global_pool(L, n, op == "GlobalMaxPool", true);
    else if (op == "ReduceMean" || op == "ReduceMax") reduce(L, n);
    else if (op == "Resize" || op == "Upsample") resize(L, n);
    else if (op == "Pad") pad(L, n);
    else if (op == "BatchNormalization") batch_norm(L, n);
    else if (op == "LayerNormalization") layer_norm(L, n);
    else if (op == "Gemm" || op == "MatMul") dense(L, n);
    else return lower_arith_op(L, n) || lower_activation_op(L, n);
    return true;
}

}  // namespace c1r::onnx_import
