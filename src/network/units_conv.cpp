// Convolution units: conv1d and conv1d_transpose on oneDNN's (de)convolution, layouts negotiated with
// format_tag::any; depthwise_conv1d and separable_conv1d as grouped convolutions.
#include <chrono>
#include <cmath>
#include <cstring>

#include "core/strings.hpp"
#include "network/unit.hpp"

namespace c1r {
namespace {

using dnnl::memory;

double ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// The node's kernel in oneDNN's logical weights dims, described in place over the Keras layout (no host copy).
memory::desc keras_kernel_desc(const LayerPlan& p) {
    const LayerSpec& s = p.spec;
    const int64_t k = s.kernel_size, f = s.filters;
    if (s.type == LayerType::conv1d) {
        const int64_t cin_g = p.input_shape.channels / s.groups;  // Keras (k, Cin/g, filters)
        if (s.groups == 1) return memory::desc({f, cin_g, k}, dt::f32, memory::dims{1, f, cin_g * f});
        return memory::desc({s.groups, f / s.groups, cin_g, k}, dt::f32, memory::dims{f / s.groups, 1, f, cin_g * f});
    }
    const int64_t cin = p.input_shape.channels;  // Keras (k, filters, Cin)
    return memory::desc({f, cin, k}, dt::f32, memory::dims{cin, 1, f * cin});
}

// Transposed convs get their bias and activation from separate in-place steps (see epilogue()). Not with a
// single filter: oneDNN 2.6's binary add then leaves the bias out (test_epilogue), and with a handful of
// channels the fused reference pass costs little anyway.
// A bias runs when the weights have one: use_bias, or a batch normalisation folded into a bias-free conv.
bool has_bias(const UnitContext& c) { return !c.weights.var("bias").empty(); }

bool separate_epilogue(const LayerSpec& s) { return s.type == LayerType::conv1d_transpose && s.filters >= 4; }

struct ConvChoice {
    dnnl::primitive primitive;
    memory::desc src, weights, dst;
    std::string impl;
};

// oneDNN 2.6's brgemm convolution (brgconv) keeps tables that grow with the output length when a conv has
// few channels. Measured on one conv, k=3, 1 thread (README, Memory): 32 -> 32 channels at L=200,000 cost
// +242 MiB against +1 MiB for jit:avx512_core, at the same speed (11.45 against 11.24 ms); 8 x 64 channels at
// L=100,000 +131 MiB, 83.3 against 84.4 ms. At 128 channels its table is 4 MiB and brgconv 25% faster. So
// for up to 64 channels in and out and a long output, the next jit implementation runs, when there is one.
constexpr int64_t kLeanMaxChannels = 64, kLeanMinLength = 32768;

void step_past_brgconv_tables(dnnl::convolution_forward::primitive_desc& pd, const LayerPlan& p,
                              const memory::desc& dst_md) {
    const int64_t length = dst_md.dims().back();
    if (p.spec.filters > kLeanMaxChannels || p.input_shape.channels > kLeanMaxChannels || length < kLeanMinLength ||
        !starts_with(pd.impl_info_str(), "brgconv"))
        return;
    dnnl::convolution_forward::primitive_desc next = pd;  // a copy walks on; `pd` stays brgconv if none fits
    while (next.next_impl()) {
        if (starts_with(next.impl_info_str(), "brgconv")) continue;
        if (starts_with(next.impl_info_str(), "jit:")) pd = next;
        return;
    }
}

std::optional<ConvChoice> make_conv(UnitContext& c, const memory::desc& src_md, const memory::desc& dst_md,
                                    const dnnl::primitive_attr& attr) {
    const LayerPlan& p = c.node;
    const LayerSpec& s = p.spec;
    const bool with_bias = has_bias(c) && !separate_epilogue(s);
    memory::dims wei_dims = s.groups > 1 ? memory::dims{s.groups, s.filters / s.groups,
                                                        p.input_shape.channels / s.groups, s.kernel_size}
                                         : memory::dims{s.filters, p.input_shape.channels, s.kernel_size};
    memory::desc wei_md(wei_dims, c.data_type(), tag::any);
    memory::desc bias_md({s.filters}, dt::f32, tag::a);
    memory::dims strides{s.strides}, dilates{s.dilation_rate - 1};
    memory::dims pad_l{p.padding->first}, pad_r{p.padding->second};
    auto prop = dnnl::prop_kind::forward_inference;
    try {
        if (s.type == LayerType::conv1d) {
            auto alg = dnnl::algorithm::convolution_direct;
            auto desc = with_bias ? dnnl::convolution_forward::desc(prop, alg, src_md, wei_md, bias_md, dst_md,
                                                                      strides, dilates, pad_l, pad_r)
                                   : dnnl::convolution_forward::desc(prop, alg, src_md, wei_md, dst_md, strides,
                                                                      dilates, pad_l, pad_r);
            dnnl::convolution_forward::primitive_desc pd(desc, attr, c.engine);
            step_past_brgconv_tables(pd, p, dst_md);
            return ConvChoice{dnnl::convolution_forward(pd), pd.src_desc(), pd.weights_desc(), pd.dst_desc(),
                              pd.impl_info_str()};
        }
        auto alg = dnnl::algorithm::deconvolution_direct;
        auto desc = with_bias ? dnnl::deconvolution_forward::desc(prop, alg, src_md, wei_md, bias_md, dst_md,
                                                                    strides, dilates, pad_l, pad_r)
                               : dnnl::deconvolution_forward::desc(prop, alg, src_md, wei_md, dst_md, strides,
                                                                    dilates, pad_l, pad_r);
        dnnl::deconvolution_forward::primitive_desc pd(desc, attr, c.engine);
        return ConvChoice{dnnl::deconvolution_forward(pd), pd.src_desc(), pd.weights_desc(), pd.dst_desc(),
                          pd.impl_info_str()};
    } catch (const dnnl::error& e) {
        if (e.status == dnnl_unimplemented) return std::nullopt;  // no kernel for these layouts: try others
        throw;
    }
}

// Fastest of a few executions of a step list, for choosing between layouts at build time.
double quick_time(UnitContext& c, const std::vector<Step>& steps) {
    auto trial_start = std::chrono::steady_clock::now();
    double best = INFINITY;
    for (int run = 0; run < 4; ++run) {
        auto start = std::chrono::steady_clock::now();
        for (const auto& step : steps) step.run(c.stream);
        c.stream.wait();
        if (run > 0) best = std::min(best, ms_since(start));  // the first run warms caches
    }
    if (c.execution_ms) *c.execution_ms += ms_since(trial_start);
    return best;
}

// oneDNN 2.6 applies a deconvolution's fused bias and post-ops in a slow reference pass (deconv_up: 27.7 ms
// fused against 15.1 ms as two steps, measured with bench/raw_onednn): add the bias in place in a binary
// primitive, then run the activation in place.
void epilogue(UnitContext& c, const ActivationSpec& activation, LayerUnit& unit) {
    const LayerSpec& s = c.node.spec;
    const memory& dst = unit.dsts[0];
    const memory::desc dst_md = dst.get_desc();
    if (has_bias(c)) {
        // The bias as a {1, F, 1} tensor in the destination's own layout, so the binary kernel is a jit one.
        memory::desc bias_md = memory::desc({1, s.filters, 1}, dt::f32, memory::dims{s.filters, 1, s.filters});
        const auto& blocking = dst_md.data.format_desc.blocking;
        if (dst_md.data.format_kind == dnnl_blocked && blocking.inner_nblks == 1 && blocking.inner_idxs[0] == 1)
            bias_md = memory::desc({1, s.filters, 1}, dt::f32, blocking.inner_blks[0] == 16 ? tag::aBc16b : tag::aBc8b);
        memory bias(bias_md, c.engine);
        std::memset(bias.get_data_handle(), 0, bias_md.get_size());
        const auto& values = c.weights.var("bias");
        memory user_bias(memory::desc({1, s.filters, 1}, dt::f32, tag::abc), c.engine, const_cast<float*>(values.data()));
        dnnl::reorder(user_bias, bias).execute(c.stream, user_bias, bias);
        c.stream.wait();
        dnnl::binary::desc desc(dnnl::algorithm::binary_add, dst_md, bias_md, dst_md);
        dnnl::binary::primitive_desc pd(desc, c.engine);
        unit.impl += std::string("+") + pd.impl_info_str();
        unit.steps.push_back({dnnl::binary(pd), {{DNNL_ARG_SRC_0, dst}, {DNNL_ARG_SRC_1, bias}, {DNNL_ARG_DST, dst}}});
    }
    // Not as the binary's post-op: oneDNN 2.6's jit:uni binary gave wrong results with an eltwise post-op on
    // some layouts (8 filters, nCw16c destination; caught by --verify).
    append_activation_steps(c, activation, dst, unit);
}

LayerUnit conv_unit(UnitContext& c, const memory& src, const ConvChoice& choice, const ActivationSpec& activation,
                    bool post_activation) {
    const LayerSpec& s = c.node.spec;
    LayerUnit unit;
    unit.impl = choice.impl;
    memory conv_src = c.adapt(src, choice.src, unit);
    unit.dsts = {memory(choice.dst, c.engine)};
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, conv_src},
                                         {DNNL_ARG_WEIGHTS, c.upload(c.weights.var("kernel"), keras_kernel_desc(c.node), choice.weights)},
                                         {DNNL_ARG_DST, unit.dsts[0]}};
    if (has_bias(c) && !separate_epilogue(s)) {
        memory bias(memory::desc({s.filters}, dt::f32, tag::a), c.engine);
        const auto& values = c.weights.var("bias");
        std::memcpy(bias.get_data_handle(), values.data(), values.size() * sizeof(float));
        args[DNNL_ARG_BIAS] = bias;
    }
    unit.steps.push_back({choice.primitive, std::move(args)});
    if (separate_epilogue(s)) epilogue(c, activation, unit);
    else if (post_activation) append_activation_steps(c, activation, unit.dsts[0], unit);
    return unit;
}

}  // namespace

// `fused` (in c.node's next activation) is run as a post-op in place of the layer's own (linear) one.
// Layouts: the primitive's preferred ones (tag::any). Where that preference differs from the layout the
// previous layer produced, a primitive that reads the previous layout directly (if oneDNN has a non-reference
// kernel for it) is timed against reorder + preferred primitive, and the faster is kept.
LayerUnit build_conv_fused(UnitContext& c, std::optional<ActivationSpec> fused) {
    if (pads_with_values(c.node))
        return with_padded_input(c, [fused](UnitContext& inner) { return build_conv_fused(inner, fused); });
    const LayerPlan& p = c.node;
    const ActivationSpec activation = fused.value_or(p.spec.activation);
    const bool as_post_op = eltwise_ops(activation).has_value();
    auto attr = separate_epilogue(p.spec) || !as_post_op ? dnnl::primitive_attr() : activation_attr(activation);
    const memory& src = c.srcs[0];
    memory::desc any_src = c.any(p.input_shape), any_dst = c.any(p.output_shape);
    std::optional<ConvChoice> preferred = make_conv(c, any_src, any_dst, attr);
    if (!preferred) throw dnnl::error(dnnl_unimplemented, "no implementation for this convolution");
    LayerUnit unit = conv_unit(c, src, *preferred, activation, !as_post_op);
    if (!unit.reorder_before) {
        unit.includes_next_activation = fused.has_value();
        return unit;
    }
    std::optional<ConvChoice> direct;
    for (const memory::desc& dst_md : {any_dst, c.nwc(p.output_shape),
                                       memory::desc(dims_of(p.output_shape), c.data_type(), tag::nCw16c)}) {
        direct = make_conv(c, src.get_desc(), dst_md, attr);
        if (direct && direct->impl.rfind("ref", 0) != 0) break;
        direct.reset();
    }
    if (direct) {
        LayerUnit alternative = conv_unit(c, src, *direct, activation, !as_post_op);
        if (quick_time(c, alternative.steps) < quick_time(c, unit.steps)) unit = std::move(alternative);
    }
    unit.includes_next_activation = fused.has_value();
    return unit;
}

LayerUnit build_conv(UnitContext& c) { return build_conv_fused(c, std::nullopt); }

// Keras' conv(activation) then add is activation first: post-ops eltwise..., then sum (dst = result + dst).
std::optional<LayerUnit> build_conv_sum(UnitContext& c, const memory& addend, bool in_place) {
    const LayerPlan& p = c.node;
    const auto ops = eltwise_ops(p.spec.activation);
    if (!ops || separate_epilogue(p.spec)) return std::nullopt;
    dnnl::post_ops post;
    for (const auto& op : *ops) post.append_eltwise(1.0f, op.alg, op.alpha, op.beta);
    post.append_sum(1.0f);
    dnnl::primitive_attr attr;
    attr.set_post_ops(post);
    const memory::desc any_src = c.any(p.input_shape);
    std::optional<ConvChoice> choice;
    in_place = in_place && addend.get_desc().data_type() == c.data_type();
    if (in_place) choice = make_conv(c, any_src, addend.get_desc(), attr);
    if (!choice || choice->impl.rfind("ref", 0) == 0) {
        in_place = false;
        choice = make_conv(c, any_src, c.any(p.output_shape), attr);
    }
    if (!choice) return std::nullopt;
    LayerUnit unit;
    memory dst = in_place ? addend : memory(choice->dst, c.engine);
    if (!in_place) {  // the addend copied (and converted) into the destination's layout first
        dnnl::reorder::primitive_desc pd(addend, dst);
        unit.steps.push_back({dnnl::reorder(pd), {{DNNL_ARG_FROM, addend}, {DNNL_ARG_TO, dst}}, false});
        unit.impl = "copy+";
    }
    unit.impl += choice->impl + "+sum";
    memory conv_src = c.adapt(c.srcs[0], choice->src, unit);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, conv_src},
                                         {DNNL_ARG_WEIGHTS, c.upload(c.weights.var("kernel"), keras_kernel_desc(p), choice->weights)},
                                         {DNNL_ARG_DST, dst}};
    if (has_bias(c)) {
        memory bias(memory::desc({p.spec.filters}, dt::f32, tag::a), c.engine);
        const auto& values = c.weights.var("bias");
        std::memcpy(bias.get_data_handle(), values.data(), values.size() * sizeof(float));
        args[DNNL_ARG_BIAS] = bias;
    }
    unit.steps.push_back({choice->primitive, std::move(args)});
    unit.dsts = {dst};
    return unit;
}

// DepthwiseConv1D: a grouped convolution with G = Cin, Cout/G = depth_multiplier, Cin/G = 1; Keras kernel
// (k, Cin, M) gives w[g][m][0][t] = kernel[t][g][m]. SeparableConv1D adds a 1x1 convolution (pointwise_kernel
// (1, Cin*M, filters)) with the bias and activation.
LayerUnit build_depthwise(UnitContext& c) {
    if (pads_with_values(c.node)) return with_padded_input(c, build_depthwise);
    const LayerPlan& p = c.node;
    const LayerSpec& s = p.spec;
    const int64_t cin = p.input_shape.channels, m = s.depth_multiplier, k = s.kernel_size;
    const bool separable = s.type == LayerType::separable_conv1d;
    const Shape mid{p.output_shape.batch, p.output_shape.length, cin * m};
    LayerUnit unit;
    const bool dw_bias = !separable && has_bias(c);
    const auto prop = dnnl::prop_kind::forward_inference;
    memory::desc wei_md({cin, m, 1, k}, c.data_type(), tag::any);
    memory::desc bias_md({cin * m}, dt::f32, tag::a);
    dnnl::primitive_attr attr = separable ? dnnl::primitive_attr() : activation_attr(s.activation);
    const bool post = !separable && !eltwise_ops(s.activation).has_value();
    auto desc = dw_bias ? dnnl::convolution_forward::desc(prop, dnnl::algorithm::convolution_direct,
                                                          c.any(p.input_shape), wei_md, bias_md, c.any(mid),
                                                          {s.strides}, {s.dilation_rate - 1}, {p.padding->first},
                                                          {p.padding->second})
                        : dnnl::convolution_forward::desc(prop, dnnl::algorithm::convolution_direct,
                                                          c.any(p.input_shape), wei_md, c.any(mid), {s.strides},
                                                          {s.dilation_rate - 1}, {p.padding->first},
                                                          {p.padding->second});
    dnnl::convolution_forward::primitive_desc pd(desc, attr, c.engine);
    unit.impl = pd.impl_info_str();
    memory src = c.adapt(c.srcs[0], pd.src_desc(), unit);
    memory dw_dst(pd.dst_desc(), c.engine);
    // Keras (k, Cin, M): element (t, g, mm) at t*Cin*M + g*M + mm.
    memory::desc user({cin, m, 1, k}, dt::f32, memory::dims{m, 1, 1, cin * m});
    const char* kernel_name = separable ? "depthwise_kernel" : (c.weights.vars.count("kernel") ? "kernel" : "depthwise_kernel");
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src},
                                         {DNNL_ARG_WEIGHTS, c.upload(c.weights.var(kernel_name), user, pd.weights_desc())},
                                         {DNNL_ARG_DST, dw_dst}};
    if (dw_bias) {
        memory bias(bias_md, c.engine);
        const auto& values = c.weights.var("bias");
        std::memcpy(bias.get_data_handle(), values.data(), values.size() * sizeof(float));
        args[DNNL_ARG_BIAS] = bias;
    }
    unit.steps.push_back({dnnl::convolution_forward(pd), std::move(args)});
    if (!separable) {
        unit.dsts = {dw_dst};
        if (post) append_activation_steps(c, s.activation, dw_dst, unit);
        return unit;
    }
    const bool pw_post = !eltwise_ops(s.activation).has_value();
    memory::desc pw_wei({s.filters, cin * m, 1}, c.data_type(), tag::any);
    memory::desc pw_bias({s.filters}, dt::f32, tag::a);
    auto pw_desc = has_bias(c) ? dnnl::convolution_forward::desc(prop, dnnl::algorithm::convolution_direct,
                                                                dw_dst.get_desc(), pw_wei, pw_bias,
                                                                c.any(p.output_shape), {1}, {0}, {0}, {0})
                              : dnnl::convolution_forward::desc(prop, dnnl::algorithm::convolution_direct,
                                                                dw_dst.get_desc(), pw_wei, c.any(p.output_shape),
                                                                {1}, {0}, {0}, {0});
    dnnl::convolution_forward::primitive_desc pw_pd(pw_desc, activation_attr(s.activation), c.engine);
    unit.impl += std::string("+") + pw_pd.impl_info_str();
    memory pw_src = dw_dst;
    if (pw_pd.src_desc() != dw_dst.get_desc()) {
        pw_src = memory(pw_pd.src_desc(), c.engine);
        unit.steps.push_back({dnnl::reorder(dw_dst, pw_src), {{DNNL_ARG_FROM, dw_dst}, {DNNL_ARG_TO, pw_src}}, true});
    }
    memory dst(pw_pd.dst_desc(), c.engine);
    // Keras (1, Cin*M, filters): (0, i, f) at i*filters + f.
    memory::desc pw_user({s.filters, cin * m, 1}, dt::f32, memory::dims{1, s.filters, 1});
    std::unordered_map<int, memory> pw_args{{DNNL_ARG_SRC, pw_src},
                                            {DNNL_ARG_WEIGHTS, c.upload(c.weights.var("pointwise_kernel"), pw_user, pw_pd.weights_desc())},
                                            {DNNL_ARG_DST, dst}};
    if (has_bias(c)) {
        memory bias(pw_bias, c.engine);
        const auto& values = c.weights.var("bias");
        std::memcpy(bias.get_data_handle(), values.data(), values.size() * sizeof(float));
        pw_args[DNNL_ARG_BIAS] = bias;
    }
    unit.steps.push_back({dnnl::convolution_forward(pw_pd), std::move(pw_args)});
    if (pw_post) append_activation_steps(c, s.activation, dst, unit);
    unit.dsts = {dst};
    return unit;
}

// The kinds this file builds (layers/layer.hpp: C1R_LAYER_KINDS).
C1R_UNIT(conv1d, build_conv)
C1R_UNIT(conv1d_transpose, build_conv)
C1R_UNIT(depthwise_conv1d, build_depthwise)
C1R_UNIT(separable_conv1d, build_depthwise)

}  // namespace c1r
