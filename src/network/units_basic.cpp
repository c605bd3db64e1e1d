// Units without weights or with per-channel ones: pooling, upsampling, permute, activation layers, PReLU.
#include <algorithm>
#include <functional>
#include <limits>

#include "network/unit.hpp"

namespace c1r {
namespace {

using dnnl::memory;

// One primitive reading input 0 in the layout `pd` asks for and writing a new destination.
template <typename Primitive, typename PrimitiveDesc>
LayerUnit single(UnitContext& c, const PrimitiveDesc& pd) {
    LayerUnit unit;
    unit.impl = pd.impl_info_str();
    memory src = c.adapt(c.srcs[0], pd.src_desc(), unit);
    unit.dsts = {memory(pd.dst_desc(), c.engine)};
    unit.steps.push_back({Primitive(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, unit.dsts[0]}}});
    return unit;
}

// Keras ReLU(max_value, negative_slope, threshold) as eltwise ops where oneDNN has them; nullopt otherwise.
std::optional<std::vector<EltwiseOp>> relu_ops(const LayerSpec& s) {
    using alg = dnnl::algorithm;
    if (s.threshold != 0.0) return std::nullopt;
    std::vector<EltwiseOp> ops{{alg::eltwise_relu, static_cast<float>(s.negative_slope)}};
    if (s.max_value) {
        if (s.negative_slope != 0.0) return std::nullopt;
        ops = {{alg::eltwise_clip_v2, 0.0f, static_cast<float>(*s.max_value)}};
    }
    return ops;
}

// A plain loop `body(x, y)` from input 0 as plain nwc f32 to the output as plain nwc f32, for what oneDNN 2.6
// has no fast (or no) primitive for; reorders around it when the run is bf16. The report shows "loop:<name>".
LayerUnit plain_f32_loop(UnitContext& c, const std::string& name, std::function<void(const float*, float*)> body) {
    const LayerPlan& p = c.node;
    LayerUnit unit;
    memory src = c.adapt(c.srcs[0], memory::desc(dims_of(p.input_shape), dt::f32, tag::nwc), unit);
    memory out(memory::desc(dims_of(p.output_shape), dt::f32, tag::nwc), c.engine);
    unit.impl = "loop:" + name;
    Step step;
    step.loop = [src, out, body = std::move(body)]() {
        body(static_cast<const float*>(src.get_data_handle()), static_cast<float*>(out.get_data_handle()));
    };
    unit.steps.push_back(std::move(step));
    if (c.data_type() == dt::f32) {
        unit.dsts = {out};
        return unit;
    }
    memory dst(c.nwc(p.output_shape), c.engine);
    unit.steps.push_back({dnnl::reorder(out, dst), {{DNNL_ARG_FROM, out}, {DNNL_ARG_TO, dst}}, true});
    unit.impl += "+reorder";
    unit.dsts = {dst};
    return unit;
}

// Linear upsampling with align_corners: out[o] = (1-t) x[i0] + t x[i0+1] at src = o (L-1) / (Lout-1).
LayerUnit upsample_align_corners(UnitContext& c) {
    const LayerPlan& p = c.node;
    const int64_t batch = p.input_shape.batch, length = p.input_shape.length, channels = p.input_shape.channels;
    const int64_t out_length = p.output_shape.length;
    return plain_f32_loop(c, "linear_align_corners", [=](const float* x, float* y) {
        const double scale = out_length > 1 ? static_cast<double>(length - 1) / static_cast<double>(out_length - 1) : 0.0;
        for (int64_t o = 0; o < out_length; ++o) {
            const double at = scale * static_cast<double>(o);
            const int64_t i0 = std::min(static_cast<int64_t>(at), length - 1), i1 = std::min(i0 + 1, length - 1);
            const float t = static_cast<float>(at - static_cast<double>(i0));
            for (int64_t n = 0; n < batch; ++n) {
                const float* a = x + (n * length + i0) * channels;
                const float* b = x + (n * length + i1) * channels;
                float* d = y + (n * out_length + o) * channels;
                for (int64_t k = 0; k < channels; ++k) d[k] = a[k] + t * (b[k] - a[k]);
            }
        }
    });
}

// Dilated max pooling: oneDNN 2.6's pooling_v2 has only a reference kernel for it (ref:any, about 200 times
// slower than this loop on (1, 16000, 64), see docs/pytorch-settings.md). Padding reads as -inf.
LayerUnit max_pool_dilated(UnitContext& c) {
    const LayerPlan& p = c.node;
    const int64_t batch = p.input_shape.batch, length = p.input_shape.length, channels = p.input_shape.channels;
    const int64_t out_length = p.output_shape.length, pad_left = p.padding->first;
    const int64_t k = p.spec.pool_size, stride = p.spec.strides, dilation = p.spec.dilation_rate;
    return plain_f32_loop(c, "max_pool_dilated", [=](const float* x, float* y) {
        for (int64_t n = 0; n < batch; ++n)
            for (int64_t o = 0; o < out_length; ++o) {
                float* d = y + (n * out_length + o) * channels;
                std::fill(d, d + channels, -std::numeric_limits<float>::infinity());
                for (int64_t j = 0; j < k; ++j) {
                    const int64_t i = o * stride - pad_left + j * dilation;
                    if (i < 0 || i >= length) continue;
                    const float* a = x + (n * length + i) * channels;
                    for (int64_t ch = 0; ch < channels; ++ch) d[ch] = std::max(d[ch], a[ch]);
                }
            }
    });
}

}  // namespace

// oneDNN pooling with the PyTorch settings: ceil_mode's last window as extra right padding (oneDNN's output
// length rule is the floor one); dilated max pooling is a plain loop (above). An average that counts padding
// divides by the whole window in oneDNN, but PyTorch leaves ceil_mode's overhang out: then the real pads are
// zeros written into a padded copy (a reorder) and the pooling excludes what is left, the overhang.
LayerUnit build_pool(UnitContext& c) {
    const LayerPlan& p = c.node;
    const LayerSpec& s = p.spec;
    if (s.type == LayerType::max_pool1d && s.dilation_rate > 1) return max_pool_dilated(c);
    const Window w = pool_window(p.input_shape.length, s.pool_size, s.strides, s.dilation_rate, s.padding, s.ceil_mode);
    using alg = dnnl::algorithm;
    const bool is_max = s.type == LayerType::max_pool1d;
    const bool pad_copy = !is_max && s.count_include_pad && w.overhang > 0 && w.pad_left + w.pad_right > 0;
    LayerUnit unit;
    memory src;
    memory::desc src_md = c.src_desc(0);
    int64_t pad_l = w.pad_left, pad_r = w.pad_right + w.overhang;
    if (pad_copy) {
        src = padded_input(c, w.pad_left, w.pad_right, PaddingMode::zeros, unit);
        src_md = src.get_desc();
        pad_l = 0, pad_r = w.overhang;
    }
    const alg algorithm = is_max ? alg::pooling_max
                                 : s.count_include_pad && w.overhang == 0 ? alg::pooling_avg_include_padding
                                                                          : alg::pooling_avg_exclude_padding;
    const auto prop = dnnl::prop_kind::forward_inference;
    dnnl::pooling_forward::desc desc(prop, algorithm, src_md, c.any(p.output_shape), {s.strides}, {s.pool_size},
                                     {pad_l}, {pad_r});
    dnnl::pooling_forward::primitive_desc pd(desc, c.engine);
    const memory::desc want = pd.src_desc();
    unit.impl += std::string(unit.impl.empty() ? "" : "+") + pd.impl_info_str();
    if (!pad_copy) src = c.adapt(c.srcs[0], want, unit);
    else if (src.get_desc() != want) {
        memory to(want, c.engine);
        unit.steps.push_back({dnnl::reorder(src, to), {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, to}}, true});
        src = to;
    }
    unit.dsts = {memory(pd.dst_desc(), c.engine)};
    unit.steps.push_back({dnnl::pooling_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, unit.dsts[0]}}});
    return unit;
}

// Nearest resampling with an integer factor repeats each step `size` times, as UpSampling1D. Linear resampling
// in oneDNN is half-pixel (PyTorch's align_corners=False, the source clamped at the edges); align_corners=True
// has no oneDNN equivalent: a plain loop over plain f32 steps.
LayerUnit build_upsample(UnitContext& c) {
    const LayerSpec& s = c.node.spec;
    if (s.interpolation == Interpolation::linear && s.align_corners) return upsample_align_corners(c);
    const auto algorithm = s.interpolation == Interpolation::linear ? dnnl::algorithm::resampling_linear
                                                                    : dnnl::algorithm::resampling_nearest;
    dnnl::resampling_forward::desc desc(dnnl::prop_kind::forward_inference, algorithm, c.src_desc(0),
                                        c.any(c.node.output_shape));
    return single<dnnl::resampling_forward>(c, dnnl::resampling_forward::primitive_desc(desc, c.engine));
}

// Permute [2,1] is a real data movement: a reorder into a plain buffer of the swapped shape, written through a
// view of that buffer whose axes are permuted back to the source's order.
LayerUnit build_permute(UnitContext& c) {
    const LayerPlan& p = c.node;
    LayerUnit unit;
    memory src = c.adapt(c.srcs[0], c.src_desc(0), unit);
    if (p.spec.dims[0] == 1) {
        unit.dsts = {src};
        unit.impl = "identity";
        return unit;
    }
    memory::desc out_md = c.nwc(p.output_shape);
    unit.dsts = {memory(out_md, c.engine)};
    memory view(out_md.permute_axes({0, 2, 1}), c.engine, unit.dsts[0].get_data_handle());
    dnnl::reorder::primitive_desc pd(src, view);
    unit.impl = pd.impl_info_str();
    unit.steps.push_back({dnnl::reorder(pd), {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, view}}});
    return unit;
}

// activation, relu, leaky_relu, elu, softmax: eltwise (a chain where Keras composes), softmax primitives over
// the Keras axis, or a plain loop where oneDNN 2.6 has no match (ReLU with a threshold, softsign).
LayerUnit build_activation(UnitContext& c) {
    const LayerPlan& p = c.node;
    const LayerSpec& s = p.spec;
    LayerUnit unit;
    using alg = dnnl::algorithm;
    std::optional<std::vector<EltwiseOp>> ops;
    ActivationSpec fn = s.activation;
    switch (s.type) {
        case LayerType::relu: ops = relu_ops(s); break;
        case LayerType::leaky_relu: ops = std::vector<EltwiseOp>{{alg::eltwise_relu, static_cast<float>(s.negative_slope)}}; break;
        case LayerType::elu: ops = std::vector<EltwiseOp>{{alg::eltwise_elu, static_cast<float>(s.alpha)}}; break;
        case LayerType::softmax: {
            const int rank = p.input_shape.rank;
            int64_t axis = s.axis < 0 ? s.axis + rank : s.axis;
            bool channels = rank == 2 || (c.format == DataFormat::channels_last ? axis == 2 : axis == 1);
            // oneDNN's logical axes are (N, C, W): the batch 0, channels 1, length 2.
            const int dnnl_axis = axis == 0 ? 0 : channels ? 1 : 2;
            memory src = c.adapt(c.srcs[0], c.src_desc(0), unit);
            unit.dsts = {memory(src.get_desc(), c.engine)};
            unit.steps.push_back(softmax_step(c, src, unit.dsts[0], dnnl_axis, s.log_softmax, unit.impl));
            return unit;
        }
        default: ops = eltwise_ops(fn); break;
    }
    memory src = c.adapt(c.srcs[0], c.src_desc(0), unit);
    if (ops && ops->empty()) ops = std::vector<EltwiseOp>{{alg::eltwise_linear, 1.0f, 0.0f}};  // linear: 1*x + 0
    if (ops) {
        memory cur = src;
        for (size_t i = 0; i < ops->size(); ++i) {
            const auto& op = (*ops)[i];
            dnnl::eltwise_forward::desc desc(dnnl::prop_kind::forward_inference, op.alg, cur.get_desc(), op.alpha, op.beta);
            dnnl::eltwise_forward::primitive_desc pd(desc, c.engine);
            unit.impl += std::string(i ? "+" : "") + pd.impl_info_str();
            memory dst = i == 0 ? memory(pd.dst_desc(), c.engine) : cur;
            unit.steps.push_back({dnnl::eltwise_forward(pd), {{DNNL_ARG_SRC, cur}, {DNNL_ARG_DST, dst}}});
            cur = dst;
        }
        unit.dsts = {cur};
        return unit;
    }
    // Copy, then the activation in place (softmax/log_softmax over channels, or a plain loop).
    memory plain = c.adapt(src, c.nwc(p.input_shape), unit);
    memory dst(plain.get_desc(), c.engine);
    unit.steps.push_back({dnnl::reorder(plain, dst), {{DNNL_ARG_FROM, plain}, {DNNL_ARG_TO, dst}}, true});
    unit.impl = "copy";
    if (s.type == LayerType::relu) {
        if (c.data_type() != dt::f32) throw Error(ErrorKind::config, "relu with a threshold needs --dtype f32");
        const double max_value = s.max_value.value_or(INFINITY), slope = s.negative_slope, threshold = s.threshold;
        const size_t count = dst.get_desc().get_size() / sizeof(float);
        unit.impl += "+loop:relu_threshold";
        Step step;
        step.loop = [dst, count, max_value, slope, threshold]() {
            float* v = static_cast<float*>(dst.get_data_handle());
            for (size_t i = 0; i < count; ++i) {
                double x = v[i];
                v[i] = static_cast<float>(x >= max_value ? max_value : x > threshold ? x : slope * (x - threshold));
            }
        };
        unit.steps.push_back(std::move(step));
    } else {
        append_activation_steps(c, fn, dst, unit);
    }
    unit.dsts = {dst};
    return unit;
}

// PReLU: f = relu(x) - alpha * relu(-x), alpha (L, C) or broadcast over shared axes; oneDNN's prelu primitive
// with the weights as an (1, C, L) tensor (size 1 where shared).
LayerUnit build_prelu(UnitContext& c) {
    const LayerPlan& p = c.node;
    const Shape& in = p.input_shape;
    LayerUnit unit;
    memory src = c.plain_src(0, unit);
    const auto& alpha = c.weights.var("alpha");
    int64_t al = in.rank == 2 ? 1 : in.length, ac = in.channels;
    for (int64_t axis : p.spec.shared_axes) {
        if (in.rank == 3 && axis == 1) al = 1;
        if ((in.rank == 3 && axis == 2) || (in.rank == 2 && axis == 1)) ac = 1;
    }
    // Keras alpha (L', C') row-major: element (l, c) at l*C' + c.
    memory::desc user({1, ac, al}, dt::f32, memory::dims{al * ac, 1, ac});
    memory::desc wei_md({1, ac, al}, dt::f32, tag::any);
    dnnl::prelu_forward::desc desc(dnnl::prop_kind::forward_inference, src.get_desc(), wei_md);
    dnnl::prelu_forward::primitive_desc pd(desc, c.engine);
    unit.impl = pd.impl_info_str();
    unit.dsts = {memory(pd.dst_desc(), c.engine)};
    unit.steps.push_back({dnnl::prelu_forward(pd),
                          {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, c.upload(alpha, user, pd.weights_desc())},
                           {DNNL_ARG_DST, unit.dsts[0]}}});
    return unit;
}

// The kinds this file builds (layers/layer.hpp: C1R_LAYER_KINDS).
C1R_UNIT(max_pool1d, build_pool)
C1R_UNIT(avg_pool1d, build_pool)
C1R_UNIT(upsample1d, build_upsample)
C1R_UNIT(permute, build_permute)
C1R_UNIT(activation, build_activation)
C1R_UNIT(relu, build_activation)
C1R_UNIT(leaky_relu, build_activation)
C1R_UNIT(elu, build_activation)
C1R_UNIT(softmax, build_activation)
C1R_UNIT(prelu, build_prelu)

}  // namespace c1r
