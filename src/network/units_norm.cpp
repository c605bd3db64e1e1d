// Normalisation: batch_normalization with the moving statistics (oneDNN batch normalisation, global stats)
// and layer_normalization over the channels of each step, or over each sample's length and channels (oneDNN
// layer normalisation), optionally with its statistics as outputs.
#include "core/error.hpp"
#include "network/unit.hpp"

namespace c1r {
namespace {

using dnnl::memory;

// A Keras vector variable, or `fill` repeated when the layer has none (scale or center false).
std::vector<float> vector_or(const UnitContext& c, const char* name, int64_t size, float fill) {
    const std::vector<float>& values = c.weights.var(name);
    if (values.empty()) return std::vector<float>(static_cast<size_t>(size), fill);
    if (static_cast<int64_t>(values.size()) != size)
        throw Error(ErrorKind::runtime, "layer \"" + c.node.spec.name + "\": variable " + name + " holds " +
                                            std::to_string(values.size()) + " values, expected " +
                                            std::to_string(size));
    return values;
}

// Input k in the layout its producer left it, or plain nwc when it holds another data type than the run's.
memory::desc producer_desc(const UnitContext& c, size_t k) {
    const memory::desc md = c.srcs[k].get_desc();
    return md.data_type() == c.data_type() ? md : c.nwc(c.node.input_shapes[k]);
}

// (x - moving_mean) / sqrt(moving_variance + eps) * gamma + beta per channel, in the producer's layout.
// oneDNN 2.6 has only a reference kernel for 3-D batch normalisation; the same buffer seen as 4-D (N, C, 1,
// W) gets the jit one (bnorm_jit against bnorm_ref:any).
LayerUnit batch_norm(UnitContext& c) {
    const LayerSpec& s = c.node.spec;
    const Shape& in = c.node.input_shapes[0];
    const memory::dim channels = in.channels;
    const memory::dims dims4{in.batch, channels, 1, in.length};
    LayerUnit unit;
    const memory::desc src_md = producer_desc(c, 0);
    const memory::desc src4_md = src_md.reshape(dims4);
    const auto flags = dnnl::normalization_flags::use_global_stats | dnnl::normalization_flags::use_scale |
                       dnnl::normalization_flags::use_shift;
    dnnl::batch_normalization_forward::desc desc(dnnl::prop_kind::forward_inference, src4_md,
                                                 static_cast<float>(s.epsilon), flags);
    dnnl::batch_normalization_forward::primitive_desc pd(desc, c.engine);
    unit.impl = pd.impl_info_str();

    memory src = c.adapt(c.srcs[0], src_md, unit);
    memory dst4(pd.dst_desc(), c.engine);
    const memory::desc vector_md({channels}, dt::f32, tag::a);
    auto upload = [&](const char* name, float fill, const memory::desc& want) {
        return c.upload(vector_or(c, name, channels, fill), vector_md, want);
    };
    unit.steps.push_back({dnnl::batch_normalization_forward(pd),
                          {{DNNL_ARG_SRC, memory(src4_md, c.engine, src.get_data_handle())},
                           {DNNL_ARG_DST, dst4},
                           {DNNL_ARG_MEAN, upload("moving_mean", 0.0f, pd.mean_desc())},
                           {DNNL_ARG_VARIANCE, upload("moving_variance", 1.0f, pd.variance_desc())},
                           {DNNL_ARG_SCALE, upload("gamma", 1.0f, vector_md)},
                           {DNNL_ARG_SHIFT, upload("beta", 0.0f, vector_md)}}});
    unit.dsts = {memory(pd.dst_desc().reshape(dims_of(in)), c.engine, dst4.get_data_handle())};
    return unit;
}

// A statistic of the layer normalisation (f32, one value per group, in group order) as output `k`: the memory
// itself when the run is f32 (its nwc layout of the (N, L or 1, 1) shape is the same order), else a reorder.
memory stat_output(UnitContext& c, const memory& stat, size_t k, LayerUnit& unit) {
    const Shape& shape = c.node.output_shapes.at(k);
    const memory view(memory::desc(dims_of(shape), dt::f32, tag::nwc), c.engine, stat.get_data_handle());
    if (c.data_type() == dt::f32) return view;
    memory dst(c.nwc(shape), c.engine);
    unit.steps.push_back({dnnl::reorder(view, dst), {{DNNL_ARG_FROM, view}, {DNNL_ARG_TO, dst}}, true});
    if (unit.impl.find("+reorder") == std::string::npos) unit.impl += "+reorder";
    return dst;
}

// Keras LayerNormalization. Over the channels: the plain nwc buffer seen as (N, W, C) puts the channels last,
// the axis oneDNN normalises. Over length and channels together (axis [1, 2]): the same buffer seen as (N, W·C),
// whose per-"channel" scale and shift are exactly Keras' (L, C) gamma and beta, row-major. Over every axis, the
// batch too (axis [0, 1, 2]): the buffer seen as (1, N·W·C), one group whose scale and shift are the (B, L, C)
// gamma and beta, row-major; its statistics are one value each, outputs (1, 1, 1). With
// return_statistics the primitive runs in forward_training, which writes the mean and the variance; two
// in-place eltwise steps turn the variance into 1/sqrt(var + eps).
LayerUnit layer_norm(UnitContext& c) {
    const LayerSpec& s = c.node.spec;
    const Shape& in = c.node.input_shapes[0];
    const bool joint = normalises_length(c.node);
    const bool whole = normalises_batch(c.node);
    const memory::dim per = whole ? in.batch * in.length * in.channels : joint ? in.length * in.channels : in.channels;
    LayerUnit unit;
    memory src = c.plain_src(0, unit);
    const memory::desc view_md = joint ? memory::desc({whole ? 1 : in.batch, per}, c.data_type(), tag::ab)
                                       : memory::desc({in.batch, in.length, per}, c.data_type(), tag::abc);
    const auto kind = s.return_statistics ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
    dnnl::layer_normalization_forward::desc desc(
        kind, view_md, static_cast<float>(s.epsilon),
        dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift);
    dnnl::layer_normalization_forward::primitive_desc pd(desc, c.engine);
    unit.impl = pd.impl_info_str();

    memory dst(c.nwc(in), c.engine);
    const memory::desc vector_md({per}, dt::f32, tag::a);
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, memory(view_md, c.engine, src.get_data_handle())},
        {DNNL_ARG_DST, memory(view_md, c.engine, dst.get_data_handle())},
        {DNNL_ARG_SCALE, c.upload(vector_or(c, "gamma", per, 1.0f), vector_md, vector_md)},
        {DNNL_ARG_SHIFT, c.upload(vector_or(c, "beta", per, 0.0f), vector_md, vector_md)}};
    // Inference computes the statistics on the fly; a primitive that still asks for them gets scratch
    // buffers. Training writes them: they are outputs 1 and 2.
    memory mean, variance;
    if (!pd.mean_desc().is_zero()) args[DNNL_ARG_MEAN] = mean = memory(pd.mean_desc(), c.engine);
    if (!pd.variance_desc().is_zero()) args[DNNL_ARG_VARIANCE] = variance = memory(pd.variance_desc(), c.engine);
    unit.steps.push_back({dnnl::layer_normalization_forward(pd), std::move(args), false});
    unit.dsts = {dst};
    if (!s.return_statistics) return unit;
    if (!mean || !variance)
        throw Error(ErrorKind::runtime, "layer \"" + s.name + "\": oneDNN's layer normalisation gave no statistics");
    for (const EltwiseOp op : {EltwiseOp{dnnl::algorithm::eltwise_linear, 1.0f, static_cast<float>(s.epsilon)},
                               EltwiseOp{dnnl::algorithm::eltwise_pow, 1.0f, -0.5f}}) {
        dnnl::eltwise_forward::desc e(dnnl::prop_kind::forward_inference, op.alg, variance.get_desc(), op.alpha, op.beta);
        dnnl::eltwise_forward::primitive_desc epd(e, c.engine);
        unit.impl += std::string("+eltwise:") + epd.impl_info_str();
        unit.steps.push_back({dnnl::eltwise_forward(epd), {{DNNL_ARG_SRC, variance}, {DNNL_ARG_DST, variance}}});
    }
    unit.dsts.push_back(stat_output(c, mean, 1, unit));
    unit.dsts.push_back(stat_output(c, variance, 2, unit));
    return unit;
}

}  // namespace

// A batch normalisation folded into the conv or dense before it never gets here (network.cpp skips it).
LayerUnit build_norm(UnitContext& c) {
    return c.node.spec.type == LayerType::batch_normalization ? batch_norm(c) : layer_norm(c);
}

// The kinds this file builds (layers/layer.hpp: C1R_LAYER_KINDS).
C1R_UNIT(batch_normalization, build_norm)
C1R_UNIT(layer_normalization, build_norm)

}  // namespace c1r
