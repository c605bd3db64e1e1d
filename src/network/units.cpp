// The unit dispatch (one builder per kind), the activation mapping onto oneDNN eltwise ops, and the helpers
// every builder uses.
#include "network/unit.hpp"

#include <chrono>
#include <cmath>
#include <cstring>

#include "core/error.hpp"

namespace c1r {

void Step::run(dnnl::stream& stream) const {
    if (loop) {
        stream.wait();  // a loop reads what the primitives before it wrote
        loop();
    } else {
        primitive.execute(stream, args);
    }
}

dnnl::memory UnitContext::adapt(const dnnl::memory& src, const dnnl::memory::desc& want, LayerUnit& unit) {
    if (src.get_desc() == want) return src;
    if (input_reorder) {
        dnnl::memory routed = input_reorder(src, want);
        if (routed) return routed;
    }
    dnnl::memory out(want, engine);
    dnnl::reorder::primitive_desc pd(src, out);
    unit.steps.push_back({dnnl::reorder(pd), {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, out}}, true});
    unit.reorder_before = true;
    return out;
}

dnnl::memory UnitContext::upload(const std::vector<float>& values, const dnnl::memory::desc& user,
                                 const dnnl::memory::desc& desc) {
    dnnl::memory user_mem(user, engine, const_cast<float*>(values.data()));
    dnnl::memory out(desc, engine);
    auto start = std::chrono::steady_clock::now();
    dnnl::reorder(user_mem, out).execute(stream, user_mem, out);
    stream.wait();  // `user_mem` wraps the caller's vector only for this call
    if (execution_ms)
        *execution_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return out;
}

std::optional<std::vector<EltwiseOp>> eltwise_ops(const ActivationSpec& a) {
    using alg = dnnl::algorithm;
    switch (a.fn) {
        case Activation::linear: return std::vector<EltwiseOp>{};
        case Activation::relu: return std::vector<EltwiseOp>{{alg::eltwise_relu}};
        case Activation::tanh: return std::vector<EltwiseOp>{{alg::eltwise_tanh}};
        case Activation::sigmoid: return std::vector<EltwiseOp>{{alg::eltwise_logistic}};
        case Activation::gelu: return std::vector<EltwiseOp>{{alg::eltwise_gelu_erf}};
        case Activation::gelu_tanh: return std::vector<EltwiseOp>{{alg::eltwise_gelu_tanh}};
        case Activation::elu: return std::vector<EltwiseOp>{{alg::eltwise_elu, 1.0f}};
        case Activation::swish: return std::vector<EltwiseOp>{{alg::eltwise_swish, 1.0f}};
        case Activation::relu6: return std::vector<EltwiseOp>{{alg::eltwise_clip_v2, 0.0f, 6.0f}};
        case Activation::leaky_relu: return std::vector<EltwiseOp>{{alg::eltwise_relu, 0.2f}};
        case Activation::selu:
            return std::vector<EltwiseOp>{{alg::eltwise_elu, 1.6732632423543772848170429916717f},
                                          {alg::eltwise_linear, 1.0507009873554804934193349852946f, 0.0f}};
        case Activation::softplus: return std::vector<EltwiseOp>{{alg::eltwise_soft_relu}};
        case Activation::hard_sigmoid:
            if (a.keras2)
                return std::vector<EltwiseOp>{{alg::eltwise_linear, 0.2f, 0.5f}, {alg::eltwise_clip_v2, 0.0f, 1.0f}};
            return std::vector<EltwiseOp>{{alg::eltwise_linear, 1.0f / 6.0f, 0.5f}, {alg::eltwise_clip_v2, 0.0f, 1.0f}};
        case Activation::hard_silu: return std::vector<EltwiseOp>{{alg::eltwise_hardswish}};
        case Activation::exponential: return std::vector<EltwiseOp>{{alg::eltwise_exp}};
        case Activation::mish: return std::vector<EltwiseOp>{{alg::eltwise_mish}};
        case Activation::log_sigmoid: return std::vector<EltwiseOp>{{alg::eltwise_logsigmoid}};
        case Activation::softsign:
        case Activation::softmax:
        case Activation::log_softmax: return std::nullopt;
    }
    return std::nullopt;
}

dnnl::primitive_attr activation_attr(const ActivationSpec& activation) {
    dnnl::primitive_attr attr;
    auto ops = eltwise_ops(activation);
    if (ops && !ops->empty()) {
        dnnl::post_ops post;
        for (const auto& op : *ops) post.append_eltwise(1.0f, op.alg, op.alpha, op.beta);
        attr.set_post_ops(post);
    }
    return attr;
}

Step softmax_step(UnitContext& c, const dnnl::memory& src, const dnnl::memory& dst, int axis, bool log,
                  std::string& impl) {
    const auto prop = dnnl::prop_kind::forward_inference;
    if (log) {
        dnnl::logsoftmax_forward::primitive_desc pd({prop, src.get_desc(), axis}, c.engine);
        impl += pd.impl_info_str();
        return {dnnl::logsoftmax_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}}};
    }
    dnnl::softmax_forward::primitive_desc pd({prop, src.get_desc(), axis}, c.engine);
    impl += pd.impl_info_str();
    return {dnnl::softmax_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}}};
}

void append_activation_steps(UnitContext& c, const ActivationSpec& activation, const dnnl::memory& dst,
                             LayerUnit& unit) {
    const dnnl::memory::desc md = dst.get_desc();
    if (auto ops = eltwise_ops(activation)) {
        for (const auto& op : *ops) {
            dnnl::eltwise_forward::desc desc(dnnl::prop_kind::forward_inference, op.alg, md, op.alpha, op.beta);
            dnnl::eltwise_forward::primitive_desc pd(desc, c.engine);
            unit.impl += std::string("+") + pd.impl_info_str();
            unit.steps.push_back({dnnl::eltwise_forward(pd), {{DNNL_ARG_SRC, dst}, {DNNL_ARG_DST, dst}}});
        }
        return;
    }
    if (activation.fn == Activation::softmax || activation.fn == Activation::log_softmax) {
        unit.impl += "+";  // over the channels, oneDNN's axis 1 in (N, C, W)
        unit.steps.push_back(softmax_step(c, dst, dst, 1, activation.fn == Activation::log_softmax, unit.impl));
        return;
    }
    // softsign x / (1 + |x|): no oneDNN 2.6 eltwise; a plain loop over an f32 buffer.
    if (md.data_type() != dt::f32) throw Error(ErrorKind::config, "softsign needs --dtype f32");
    dnnl::memory target = dst;
    const size_t count = md.get_size() / sizeof(float);
    unit.impl += "+loop:softsign";
    Step step;
    step.loop = [target, count]() {
        float* v = static_cast<float*>(target.get_data_handle());
        for (size_t i = 0; i < count; ++i) v[i] = v[i] / (1.0f + std::fabs(v[i]));
    };
    unit.steps.push_back(std::move(step));
}

LayerUnit build_unit(UnitContext& c) {
    switch (c.node.spec.type) {
#define C1R_UNIT_CASE(kind) \
    case LayerType::kind: return unit_##kind(c);
        C1R_LAYER_KINDS(C1R_UNIT_CASE)
#undef C1R_UNIT_CASE
        case LayerType::count_: break;
    }
    throw Error(ErrorKind::runtime, "no oneDNN unit for this layer kind");
}

}  // namespace c1r
