// oneDNN executor: conv/deconv/pool/resampling/eltwise/reorder units chained in their preferred layouts.
#include "network/network.hpp"

#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstring>

#include "core/error.hpp"

namespace c1r {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

memory::data_type data_type_of(DType dtype) { return dtype == DType::bf16 ? dt::bf16 : dt::f32; }

memory::dims dims_of(const Shape& s) { return {s.batch, s.channels, s.length}; }  // oneDNN's N, C, W

std::optional<std::pair<dnnl::algorithm, float>> eltwise_of(Activation activation) {
    switch (activation) {
        case Activation::linear: return std::nullopt;
        case Activation::relu: return std::pair{dnnl::algorithm::eltwise_relu, 0.0f};
        case Activation::tanh: return std::pair{dnnl::algorithm::eltwise_tanh, 0.0f};
        case Activation::sigmoid: return std::pair{dnnl::algorithm::eltwise_logistic, 0.0f};
        case Activation::gelu: return std::pair{dnnl::algorithm::eltwise_gelu_erf, 0.0f};
        case Activation::elu: return std::pair{dnnl::algorithm::eltwise_elu, 1.0f};
        case Activation::swish: return std::pair{dnnl::algorithm::eltwise_swish, 1.0f};
    }
    return std::nullopt;
}

// Short text for a memory layout: plain tags by name, blocked ones by their inner block, e.g. "nCw16c".
std::string layout_name(const memory::desc& md) {
    const auto& d = md.data;
    if (d.format_kind != dnnl_blocked) return "other";
    const auto& b = d.format_desc.blocking;
    std::string inner;
    for (int i = 0; i < b.inner_nblks; ++i) inner += std::to_string(b.inner_blks[i]) + "c";
    if (d.ndims == 3) {
        bool channels_innermost = b.strides[1] <= b.strides[2];
        if (!inner.empty()) return "nCw" + inner;
        return channels_innermost ? "nwc" : "ncw";
    }
    return inner.empty() ? "plain" : "blocked" + inner;
}

double ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

Context::Context() : engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {}

std::string Context::onednn_version() {
    const dnnl_version_t* v = dnnl_version();
    return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
}

std::string Context::cpu_isa() {
    switch (dnnl::get_effective_cpu_isa()) {
        case dnnl::cpu_isa::sse41: return "sse41";
        case dnnl::cpu_isa::avx: return "avx";
        case dnnl::cpu_isa::avx2: return "avx2";
        case dnnl::cpu_isa::avx512_mic: return "avx512_mic";
        case dnnl::cpu_isa::avx512_mic_4ops: return "avx512_mic_4ops";
        case dnnl::cpu_isa::avx512_core: return "avx512_core";
        case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
        case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
        case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
        case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
        default: return "other";
    }
}

bool Context::has_native_bf16() {
    auto isa = dnnl::get_effective_cpu_isa();
    return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

int Context::max_threads() { return omp_get_num_procs(); }

void Context::set_threads(int threads) { omp_set_num_threads(threads); }

// ---- construction ----

namespace {

struct Builder {
    Context& context;
    DType dtype;
    std::vector<LayerUnit>& units;
    memory& input;  // the stack's first source; replaced by the first layer's preferred layout
    std::unique_ptr<dnnl::reorder>& input_reorder;
    memory input_user;
    double execution_ms = 0;  // weight reorders and layout trials: not primitive creation
    std::vector<std::pair<memory, memory>>& views;  // (view, the memory whose buffer it shows)

    // Makes `src` available in layout `want`: as is, by a reorder step in the layer, or (first layer) by the
    // input reorder that runs once outside the timed loop.
    memory adapt(const memory& src, const memory::desc& want, LayerUnit& unit, bool first) {
        if (src.get_desc() == want) return src;
        memory out(want, context.engine());
        if (first) {
            input = out;
            input_reorder = std::make_unique<dnnl::reorder>(input_user, out);
            return out;
        }
        dnnl::reorder::primitive_desc pd(src, out);
        unit.steps.push_back({dnnl::reorder(pd), {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, out}}, true});
        unit.reorder_before = true;
        return out;
    }

    memory weights_memory(const LayerPlan& p, const LayerWeights& w, const memory::desc& want) {
        const LayerSpec& s = p.spec;
        const int64_t k = s.kernel_size, f = s.filters;
        memory::desc user_md;
        if (s.type == LayerType::conv1d) {
            const int64_t cin_g = p.input_shape.channels / s.groups;
            // Keras (k, Cin/g, filters) described in place: no host-side transpose.
            if (s.groups == 1) user_md = memory::desc({f, cin_g, k}, dt::f32, memory::dims{1, f, cin_g * f});
            else
                user_md = memory::desc({s.groups, f / s.groups, cin_g, k}, dt::f32,
                                       memory::dims{f / s.groups, 1, f, cin_g * f});
        } else {
            const int64_t cin = p.input_shape.channels;  // Keras (k, filters, Cin)
            user_md = memory::desc({f, cin, k}, dt::f32, memory::dims{cin, 1, f * cin});
        }
        memory user(user_md, context.engine(), const_cast<float*>(w.kernel.data()));
        memory out(want, context.engine());
        auto start = std::chrono::steady_clock::now();
        dnnl::reorder(user, out).execute(context.stream(), user, out);
        context.stream().wait();  // `user` wraps the caller's vector only for this call
        execution_ms += ms_since(start);
        return out;
    }

    memory bias_memory(const LayerWeights& w, const memory::desc& want) {
        memory out(want, context.engine());
        std::memcpy(out.get_data_handle(), w.bias.data(), w.bias.size() * sizeof(float));
        return out;
    }

    dnnl::primitive_attr activation_attr(Activation activation) {
        dnnl::primitive_attr attr;
        if (auto elt = eltwise_of(activation)) {
            dnnl::post_ops ops;
            ops.append_eltwise(1.0f, elt->first, elt->second, 0.0f);
            attr.set_post_ops(ops);
        }
        return attr;
    }

    // A conv or deconv primitive built for given source and destination layouts.
    struct ConvChoice {
        dnnl::primitive primitive;
        memory::desc src, weights, dst;
        std::string impl;
    };

    // Transposed convs get their bias and activation from separate in-place steps (see epilogue()). Not with a
    // single filter: oneDNN 2.6's binary add then leaves the bias out (test_epilogue), and with a handful of
    // channels the fused reference pass costs little anyway.
    static bool separate_epilogue(const LayerSpec& s) {
        return s.type == LayerType::conv1d_transpose && s.filters >= 4;
    }

    std::optional<ConvChoice> make_conv(const LayerPlan& p, const memory::desc& src_md, const memory::desc& dst_md,
                                        const dnnl::primitive_attr& attr) {
        const LayerSpec& s = p.spec;
        const bool with_bias = s.use_bias && !separate_epilogue(s);
        memory::dims wei_dims = s.groups > 1 ? memory::dims{s.groups, s.filters / s.groups,
                                                            p.input_shape.channels / s.groups, s.kernel_size}
                                             : memory::dims{s.filters, p.input_shape.channels, s.kernel_size};
        memory::desc wei_md(wei_dims, data_type_of(dtype), tag::any);
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
                dnnl::convolution_forward::primitive_desc pd(desc, attr, context.engine());
                return ConvChoice{dnnl::convolution_forward(pd), pd.src_desc(), pd.weights_desc(), pd.dst_desc(),
                                  pd.impl_info_str()};
            }
            auto alg = dnnl::algorithm::deconvolution_direct;
            auto desc = with_bias ? dnnl::deconvolution_forward::desc(prop, alg, src_md, wei_md, bias_md, dst_md,
                                                                        strides, dilates, pad_l, pad_r)
                                   : dnnl::deconvolution_forward::desc(prop, alg, src_md, wei_md, dst_md, strides,
                                                                        dilates, pad_l, pad_r);
            dnnl::deconvolution_forward::primitive_desc pd(desc, attr, context.engine());
            return ConvChoice{dnnl::deconvolution_forward(pd), pd.src_desc(), pd.weights_desc(), pd.dst_desc(),
                              pd.impl_info_str()};
        } catch (const dnnl::error& e) {
            if (e.status == dnnl_unimplemented) return std::nullopt;  // no kernel for these layouts: try others
            throw;
        }
    }

    // Fastest of a few executions of a step list, for choosing between layouts at build time.
    double quick_time(const std::vector<Step>& steps) {
        auto trial_start = std::chrono::steady_clock::now();
        double best = INFINITY;
        for (int run = 0; run < 4; ++run) {
            auto start = std::chrono::steady_clock::now();
            for (const auto& step : steps) step.primitive.execute(context.stream(), step.args);
            context.stream().wait();
            if (run > 0) best = std::min(best, ms_since(start));  // the first run warms caches
        }
        execution_ms += ms_since(trial_start);
        return best;
    }

    // oneDNN 2.6 applies a deconvolution's fused bias and post-ops in a slow reference pass (deconv_up: 27.7 ms
    // fused against 15.1 ms as two steps, measured with bench/raw_onednn): add the bias in place in a binary
    // primitive, then run the activation in place.
    void epilogue(const LayerPlan& p, const LayerWeights& w, Activation activation, LayerUnit& unit) {
        const LayerSpec& s = p.spec;
        const memory::desc dst_md = unit.dst.get_desc();
        if (s.use_bias) {
            // The bias as a {1, F, 1} tensor in the destination's own layout, so the binary kernel is a jit one.
            memory::desc bias_md = memory::desc({1, s.filters, 1}, dt::f32, memory::dims{s.filters, 1, s.filters});
            const auto& blocking = dst_md.data.format_desc.blocking;
            if (dst_md.data.format_kind == dnnl_blocked && blocking.inner_nblks == 1 && blocking.inner_idxs[0] == 1)
                bias_md = memory::desc({1, s.filters, 1}, dt::f32,
                                       blocking.inner_blks[0] == 16 ? tag::aBc16b : tag::aBc8b);
            memory bias(bias_md, context.engine());
            std::memset(bias.get_data_handle(), 0, bias_md.get_size());
            memory user_bias(memory::desc({1, s.filters, 1}, dt::f32, tag::abc), context.engine(),
                             const_cast<float*>(w.bias.data()));
            dnnl::reorder(user_bias, bias).execute(context.stream(), user_bias, bias);
            context.stream().wait();
            dnnl::binary::desc desc(dnnl::algorithm::binary_add, dst_md, bias_md, dst_md);
            dnnl::binary::primitive_desc pd(desc, context.engine());
            unit.impl += std::string("+") + pd.impl_info_str();
            unit.steps.push_back(
                {dnnl::binary(pd), {{DNNL_ARG_SRC_0, unit.dst}, {DNNL_ARG_SRC_1, bias}, {DNNL_ARG_DST, unit.dst}}});
        }
        // Not as the binary's post-op: oneDNN 2.6's jit:uni binary gave wrong results with an eltwise post-op on
        // some layouts (8 filters, nCw16c destination; caught by --verify).
        if (auto elt = eltwise_of(activation)) {
            dnnl::eltwise_forward::desc desc(dnnl::prop_kind::forward_inference, elt->first, dst_md, elt->second, 0.0f);
            dnnl::eltwise_forward::primitive_desc pd(desc, context.engine());
            unit.impl += std::string("+") + pd.impl_info_str();
            unit.steps.push_back({dnnl::eltwise_forward(pd), {{DNNL_ARG_SRC, unit.dst}, {DNNL_ARG_DST, unit.dst}}});
        }
    }

    LayerUnit conv_unit(const LayerPlan& p, const LayerWeights& w, const memory& src, bool first,
                        const ConvChoice& choice, Activation activation) {
        LayerUnit unit;
        unit.impl = choice.impl;
        memory conv_src = adapt(src, choice.src, unit, first);
        unit.dst = memory(choice.dst, context.engine());
        std::unordered_map<int, memory> args{{DNNL_ARG_SRC, conv_src},
                                             {DNNL_ARG_WEIGHTS, weights_memory(p, w, choice.weights)},
                                             {DNNL_ARG_DST, unit.dst}};
        if (p.spec.use_bias && !separate_epilogue(p.spec))
            args[DNNL_ARG_BIAS] = bias_memory(w, memory::desc({p.spec.filters}, dt::f32, tag::a));
        unit.steps.push_back({choice.primitive, std::move(args)});
        if (separate_epilogue(p.spec)) epilogue(p, w, activation, unit);
        return unit;
    }

    // `fused` is an activation to run as a post-op in place of the layer's own (linear) one.
    // Layouts: the primitive's preferred ones (tag::any). Where that preference differs from the layout the
    // previous layer produced, a primitive that reads the previous layout directly (if oneDNN has a non-reference
    // kernel for it) is timed against reorder + preferred primitive, and the faster is kept.
    LayerUnit conv(const LayerPlan& p, const LayerWeights& w, const memory& src, bool first,
                   std::optional<Activation> fused) {
        const Activation activation = fused.value_or(p.spec.activation);
        auto attr = separate_epilogue(p.spec) ? dnnl::primitive_attr() : activation_attr(activation);
        memory::desc any_src(dims_of(p.input_shape), data_type_of(dtype), tag::any);
        memory::desc any_dst(dims_of(p.output_shape), data_type_of(dtype), tag::any);
        std::optional<ConvChoice> preferred = make_conv(p, any_src, any_dst, attr);
        if (!preferred) throw dnnl::error(dnnl_unimplemented, "no implementation for this convolution");
        LayerUnit unit = conv_unit(p, w, src, first, *preferred, activation);
        if (first || !unit.reorder_before) {
            unit.includes_next_activation = fused.has_value();
            return unit;
        }
        std::optional<ConvChoice> direct;
        for (const memory::desc& dst_md :
             {any_dst, memory::desc(dims_of(p.output_shape), data_type_of(dtype), tag::nwc),
              memory::desc(dims_of(p.output_shape), data_type_of(dtype), tag::nCw16c)}) {
            direct = make_conv(p, src.get_desc(), dst_md, attr);
            if (direct && direct->impl.rfind("ref", 0) != 0) break;
            direct.reset();
        }
        if (direct) {
            LayerUnit alternative = conv_unit(p, w, src, false, *direct, activation);
            if (quick_time(alternative.steps) < quick_time(unit.steps)) unit = std::move(alternative);
        }
        unit.includes_next_activation = fused.has_value();
        return unit;
    }

    LayerUnit pool(const LayerPlan& p, const memory& src, bool first) {
        const LayerSpec& s = p.spec;
        LayerUnit unit;
        memory::desc src_md = first ? memory::desc(dims_of(p.input_shape), data_type_of(dtype), tag::nwc)
                                    : src.get_desc();
        memory::desc dst_md(dims_of(p.output_shape), data_type_of(dtype), tag::any);
        auto alg = s.type == LayerType::max_pool1d ? dnnl::algorithm::pooling_max
                                                   : dnnl::algorithm::pooling_avg_exclude_padding;
        dnnl::pooling_forward::desc desc(dnnl::prop_kind::forward_inference, alg, src_md, dst_md, {s.strides},
                                         {s.pool_size}, {p.padding->first}, {p.padding->second});
        dnnl::pooling_forward::primitive_desc pd(desc, context.engine());
        unit.impl = pd.impl_info_str();
        memory pool_src = adapt(src, pd.src_desc(), unit, first);
        unit.dst = memory(pd.dst_desc(), context.engine());
        unit.steps.push_back({dnnl::pooling_forward(pd), {{DNNL_ARG_SRC, pool_src}, {DNNL_ARG_DST, unit.dst}}});
        return unit;
    }

    LayerUnit upsample(const LayerPlan& p, const memory& src, bool first) {
        LayerUnit unit;
        memory::desc src_md = first ? memory::desc(dims_of(p.input_shape), data_type_of(dtype), tag::nwc)
                                    : src.get_desc();
        memory::desc dst_md(dims_of(p.output_shape), data_type_of(dtype), tag::any);
        // Nearest resampling with an integer factor repeats each step `size` times, as UpSampling1D.
        dnnl::resampling_forward::desc desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::resampling_nearest,
                                            src_md, dst_md);
        dnnl::resampling_forward::primitive_desc pd(desc, context.engine());
        unit.impl = pd.impl_info_str();
        memory up_src = adapt(src, pd.src_desc(), unit, first);
        unit.dst = memory(pd.dst_desc(), context.engine());
        unit.steps.push_back({dnnl::resampling_forward(pd), {{DNNL_ARG_SRC, up_src}, {DNNL_ARG_DST, unit.dst}}});
        return unit;
    }

    LayerUnit activation(const LayerPlan& p, const memory& src, bool first) {
        LayerUnit unit;
        memory::desc src_md = first ? memory::desc(dims_of(p.input_shape), data_type_of(dtype), tag::nwc)
                                    : src.get_desc();
        auto elt = eltwise_of(p.spec.activation);
        auto alg = elt ? elt->first : dnnl::algorithm::eltwise_linear;
        float alpha = elt ? elt->second : 1.0f;  // linear: 1*x + 0
        dnnl::eltwise_forward::desc desc(dnnl::prop_kind::forward_inference, alg, src_md, alpha, 0.0f);
        dnnl::eltwise_forward::primitive_desc pd(desc, context.engine());
        unit.impl = pd.impl_info_str();
        memory elt_src = adapt(src, pd.src_desc(), unit, first);
        unit.dst = memory(pd.dst_desc(), context.engine());
        unit.steps.push_back({dnnl::eltwise_forward(pd), {{DNNL_ARG_SRC, elt_src}, {DNNL_ARG_DST, unit.dst}}});
        return unit;
    }

    // Permute [2,1] is a real data movement: a reorder into a plain buffer of the swapped shape, written
    // through a view of that buffer whose axes are permuted back to the source's order.
    LayerUnit permute(const LayerPlan& p, const memory& src, bool first) {
        LayerUnit unit;
        memory::desc src_md = first ? memory::desc(dims_of(p.input_shape), data_type_of(dtype), tag::nwc)
                                    : src.get_desc();
        memory perm_src = adapt(src, src_md, unit, first);
        if (p.spec.dims[0] == 1) {
            unit.dst = perm_src;
            unit.impl = "identity";
            return unit;
        }
        memory::desc out_md(dims_of(p.output_shape), data_type_of(dtype), tag::nwc);
        unit.dst = memory(out_md, context.engine());
        memory view(out_md.permute_axes({0, 2, 1}), context.engine(), unit.dst.get_data_handle());
        dnnl::reorder::primitive_desc pd(perm_src, view);
        unit.impl = pd.impl_info_str();
        unit.steps.push_back({dnnl::reorder(pd), {{DNNL_ARG_FROM, perm_src}, {DNNL_ARG_TO, view}}});
        return unit;
    }

    // Reshape is a view of the data in the data format's plain order (nwc or ncw); a reorder only when the
    // previous layer left it in another layout.
    LayerUnit reshape(const LayerPlan& p, const memory& src, bool first, DataFormat format) {
        LayerUnit unit;
        tag plain = format == DataFormat::channels_last ? tag::nwc : tag::ncw;
        memory::desc want(dims_of(p.input_shape), data_type_of(dtype), plain);
        memory plain_src = adapt(src, want, unit, first);
        memory::desc out_md(dims_of(p.output_shape), data_type_of(dtype), plain);
        unit.dst = memory(out_md, context.engine(), plain_src.get_data_handle());
        views.emplace_back(unit.dst, plain_src);
        unit.impl = unit.reorder_before || (first && input_reorder) ? "reorder+view" : "view";
        return unit;
    }
};

}  // namespace

Network::Network(Context& context, const Plan& plan, const std::vector<LayerWeights>& weights, DType dtype)
    : context_(context), plan_(plan), dtype_(dtype) {
    auto start = std::chrono::steady_clock::now();
    input_user_ = memory({dims_of(plan.input_shape), dt::f32, tag::nwc}, context.engine());
    input_ = input_user_;
    Builder builder{context, dtype, units_, input_, input_reorder_, input_user_, 0.0, views_};
    memory current = input_user_;
    for (size_t i = 0; i < plan.layers.size(); ++i) {
        const LayerPlan& layer = plan.layers[i];
        const bool first = i == 0;
        // The first layer of a bf16 stack must see bf16 data: route the input through the input reorder.
        if (first && dtype == DType::bf16 && layer.spec.type != LayerType::conv1d &&
            layer.spec.type != LayerType::conv1d_transpose) {
            memory::desc want(dims_of(layer.input_shape), dt::bf16, tag::nwc);
            LayerUnit scratch;
            current = builder.adapt(current, want, scratch, true);
        }
        LayerUnit unit;
        // An activation layer right after a linear conv runs inside it as a post-op: no extra pass over memory.
        std::optional<Activation> fuse;
        const bool is_conv = layer.spec.type == LayerType::conv1d || layer.spec.type == LayerType::conv1d_transpose;
        if (is_conv && layer.spec.activation == Activation::linear && i + 1 < plan.layers.size() &&
            plan.layers[i + 1].spec.type == LayerType::activation)
            fuse = plan.layers[i + 1].spec.activation;
        if (i > 0 && units_.back().includes_next_activation) {
            unit.dst = current;
            unit.fused = true;
            unit.impl = "fused into layer " + std::to_string(i - 1);
            unit.dst_layout = units_.back().dst_layout;
            units_.push_back(std::move(unit));
            continue;
        }
        try {
            switch (layer.spec.type) {
                case LayerType::conv1d:
                case LayerType::conv1d_transpose: unit = builder.conv(layer, weights[i], current, first, fuse); break;
                case LayerType::max_pool1d:
                case LayerType::avg_pool1d: unit = builder.pool(layer, current, first); break;
                case LayerType::upsample1d: unit = builder.upsample(layer, current, first); break;
                case LayerType::permute: unit = builder.permute(layer, current, first); break;
                case LayerType::reshape: unit = builder.reshape(layer, current, first, plan.data_format); break;
                case LayerType::activation: unit = builder.activation(layer, current, first); break;
            }
        } catch (const dnnl::error& e) {
            throw Error(ErrorKind::runtime,
                        "layer " + std::to_string(i) + " (" + to_string(layer.spec.type) + "): oneDNN could not " +
                            "create a primitive: " + e.what() + " (status " + std::to_string(e.status) + ")",
                        layer.spec.pointer);
        }
        unit.dst_layout = layout_name(unit.dst.get_desc());
        current = unit.dst;
        units_.push_back(std::move(unit));
    }
    context.stream().wait();  // weight reorders
    create_ms_ = ms_since(start) - builder.execution_ms;
}

void Network::set_input(const Tensor& input) {
    // Read the caller's tensor in place: no second copy of the input.
    input_user_.set_data_handle(const_cast<float*>(input.data.data()));
    for (auto& [view, source] : views_) view.set_data_handle(source.get_data_handle());  // in stack order
    if (input_reorder_) input_reorder_->execute(context_.stream(), input_user_, input_);
    context_.stream().wait();
}

void Network::forward() {
    auto& stream = context_.stream();
    for (auto& unit : units_)
        for (auto& step : unit.steps) step.primitive.execute(stream, step.args);
    stream.wait();
}

void Network::run_step(size_t layer, size_t step) {
    auto& s = units_[layer].steps[step];
    s.primitive.execute(context_.stream(), s.args);
    context_.stream().wait();
}

Tensor Network::read(const memory& source, const Shape& shape) const {
    Tensor out{shape, std::vector<float>(static_cast<size_t>(shape.elements()))};
    memory user({dims_of(shape), dt::f32, tag::nwc}, context_.engine(), out.data.data());
    dnnl::reorder(const_cast<memory&>(source), user).execute(context_.stream(), const_cast<memory&>(source), user);
    context_.stream().wait();
    return out;
}

}  // namespace c1r
