// Units without weights or with per-channel ones: pooling, upsampling, permute, activation layers, PReLU.
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

}  // namespace

LayerUnit build_pool(UnitContext& c) {
    const LayerPlan& p = c.node;
    const LayerSpec& s = p.spec;
    auto alg = s.type == LayerType::max_pool1d ? dnnl::algorithm::pooling_max
                                               : dnnl::algorithm::pooling_avg_exclude_padding;
    dnnl::pooling_forward::desc desc(dnnl::prop_kind::forward_inference, alg, c.src_desc(0), c.any(p.output_shape),
                                     {s.strides}, {s.pool_size}, {p.padding->first}, {p.padding->second});
    return single<dnnl::pooling_forward>(c, dnnl::pooling_forward::primitive_desc(desc, c.engine));
}

LayerUnit build_upsample(UnitContext& c) {
    // Nearest resampling with an integer factor repeats each step `size` times, as UpSampling1D.
    dnnl::resampling_forward::desc desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::resampling_nearest,
                                        c.src_desc(0), c.any(c.node.output_shape));
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
            memory src = c.adapt(c.srcs[0], c.src_desc(0), unit);
            dnnl::softmax_forward::desc desc(dnnl::prop_kind::forward_inference, src.get_desc(), channels ? 1 : 2);
            dnnl::softmax_forward::primitive_desc pd(desc, c.engine);
            unit.impl = pd.impl_info_str();
            unit.dsts = {memory(pd.dst_desc(), c.engine)};
            unit.steps.push_back({dnnl::softmax_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, unit.dsts[0]}}});
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
