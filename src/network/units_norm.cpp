// Normalisation: batch_normalization with the moving statistics (oneDNN batch normalisation, global stats)
// and layer_normalization over the channels of each step (oneDNN layer normalisation).
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

// Keras LayerNormalization over the channel axis: each step of each sample normalised over its channels. The
// plain nwc buffer seen as (N, W, C) puts the channels last, the axis oneDNN normalises.
LayerUnit layer_norm(UnitContext& c) {
    const LayerSpec& s = c.node.spec;
    const Shape& in = c.node.input_shapes[0];
    const memory::dim channels = in.channels;
    LayerUnit unit;
    memory src = c.plain_src(0, unit);
    const memory::desc steps_md({in.batch, in.length, channels}, c.data_type(), tag::abc);
    dnnl::layer_normalization_forward::desc desc(
        dnnl::prop_kind::forward_inference, steps_md, static_cast<float>(s.epsilon),
        dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift);
    dnnl::layer_normalization_forward::primitive_desc pd(desc, c.engine);
    unit.impl = pd.impl_info_str();

    memory dst(c.nwc(in), c.engine);
    const memory::desc vector_md({channels}, dt::f32, tag::a);
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, memory(steps_md, c.engine, src.get_data_handle())},
        {DNNL_ARG_DST, memory(steps_md, c.engine, dst.get_data_handle())},
        {DNNL_ARG_SCALE, c.upload(vector_or(c, "gamma", channels, 1.0f), vector_md, vector_md)},
        {DNNL_ARG_SHIFT, c.upload(vector_or(c, "beta", channels, 0.0f), vector_md, vector_md)}};
    // Inference computes the statistics on the fly; a primitive that still asks for them gets scratch
    // buffers.
    if (!pd.mean_desc().is_zero()) args[DNNL_ARG_MEAN] = memory(pd.mean_desc(), c.engine);
    if (!pd.variance_desc().is_zero()) args[DNNL_ARG_VARIANCE] = memory(pd.variance_desc(), c.engine);
    unit.steps.push_back({dnnl::layer_normalization_forward(pd), std::move(args), false});
    unit.dsts = {dst};
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
