// oneDNN executor: the graph's nodes in topological order, each a unit (network/units*.cpp) reading its inputs
// in the layouts their producers left, with model inputs reordered once outside the timed loop.
#include "network/network.hpp"

#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstring>

#include "core/error.hpp"
#include "network/cache.hpp"

namespace c1r {
namespace {

using dnnl::memory;

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

bool is_conv(LayerType t) { return t == LayerType::conv1d || t == LayerType::conv1d_transpose; }

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

void clear_primitive_cache() {
    const int capacity = dnnl::get_primitive_cache_capacity();
    dnnl::set_primitive_cache_capacity(0);  // evicts everything
    dnnl::set_primitive_cache_capacity(capacity);
}

Network::Network(Context& context, const Plan& plan, const std::vector<LayerWeights>& weights, DType dtype)
    : context_(context), plan_(plan), dtype_(dtype) {
    auto start = std::chrono::steady_clock::now();
    double execution_ms = 0;
    std::vector<memory> tensor_mem(plan.tensors.size());
    for (int t : plan.input_tensors) {
        InputSlot slot;
        slot.user = memory({dims_of(plan.tensors[static_cast<size_t>(t)].shape), dt::f32, tag::nwc}, context.engine());
        slot.tensor = t;
        tensor_mem[static_cast<size_t>(t)] = slot.user;
        inputs_.push_back(std::move(slot));
    }
    // A model input read in another layout is reordered once, before timing, into the first reader's layout.
    auto input_reorder = [this](const memory& src, const memory::desc& want) -> memory {
        for (auto& slot : inputs_) {
            if (src.get_data_handle() != slot.user.get_data_handle() || !(src.get_desc() == slot.user.get_desc()))
                continue;
            if (slot.reorder) return slot.routed.get_desc() == want ? slot.routed : memory();
            slot.routed = memory(want, context_.engine());
            slot.reorder = std::make_unique<dnnl::reorder>(slot.user, slot.routed);
            return slot.routed;
        }
        return memory();
    };
    for (size_t i = 0; i < plan.layers.size(); ++i) {
        const LayerPlan& layer = plan.layers[i];
        LayerUnit unit;
        std::vector<memory> srcs;
        for (int t : layer.input_tensors) srcs.push_back(tensor_mem[static_cast<size_t>(t)]);
        if (layer.folded_into) {  // batch normalisation folded into its conv's weights: nothing to run
            unit.dsts = srcs;
            unit.impl = "folded";
            unit.note = "folded into layer " + std::to_string(*layer.folded_into);
        } else if (i > 0 && units_.back().includes_next_activation) {
            unit.dsts = srcs;
            unit.impl = "fused into layer " + std::to_string(i - 1);
            unit.note = unit.impl;
        } else {
            UnitContext c{context.engine(), context.stream(), dtype, plan.data_format, layer, weights[i], srcs,
                          &execution_ms, input_reorder};
            try {
                // An activation node that is a linear conv's only reader runs inside it as a post-op.
                std::optional<ActivationSpec> fuse;
                if (is_conv(layer.spec.type) && layer.spec.activation.fn == Activation::linear &&
                    i + 1 < plan.layers.size() && plan.layers[i + 1].spec.type == LayerType::activation &&
                    eltwise_ops(plan.layers[i + 1].spec.activation) &&
                    plan.tensors[static_cast<size_t>(layer.output_tensors[0])].readers == std::vector<int>{static_cast<int>(i + 1)} &&
                    std::find(plan.output_tensors.begin(), plan.output_tensors.end(), layer.output_tensors[0]) ==
                        plan.output_tensors.end())
                    fuse = plan.layers[i + 1].spec.activation;
                unit = fuse ? build_conv_fused(c, fuse) : build_unit(c);
            } catch (const dnnl::error& e) {
                throw Error(ErrorKind::runtime,
                            "layer " + std::to_string(i) + " (" + to_string(layer.spec.type) +
                                "): oneDNN could not create a primitive: " + e.what() + " (status " +
                                std::to_string(e.status) + ")",
                            layer.spec.pointer);
            }
        }
        if (unit.dsts.size() != layer.output_tensors.size())
            throw Error(ErrorKind::runtime, "layer " + std::to_string(i) + " (" + to_string(layer.spec.type) +
                                                "): its unit gave " + std::to_string(unit.dsts.size()) +
                                                " outputs, the plan has " + std::to_string(layer.output_tensors.size()));
        for (size_t k = 0; k < unit.dsts.size(); ++k) tensor_mem[static_cast<size_t>(layer.output_tensors[k])] = unit.dsts[k];
        unit.dst_layout = layout_name(unit.dsts[0].get_desc());
        units_.push_back(std::move(unit));
    }
    tensor_mem_ = std::move(tensor_mem);
    context.stream().wait();  // weight reorders
    create_ms_ = ms_since(start) - execution_ms;
}

void Network::set_inputs(const std::vector<const Tensor*>& inputs) {
    // Read the caller's tensors in place: no second copy of an input. Views of a buffer follow its handle.
    for (size_t k = 0; k < inputs_.size() && k < inputs.size(); ++k) {
        auto& slot = inputs_[k];
        void* old = slot.user.get_data_handle();
        slot.user.set_data_handle(const_cast<float*>(inputs[k]->data.data()));
        for (auto& m : tensor_mem_)
            if (m && m.get_data_handle() == old) m.set_data_handle(slot.user.get_data_handle());
        for (auto& unit : units_)
            for (auto& step : unit.steps)
                for (auto& [arg, m] : step.args)
                    if (m.get_data_handle() == old) m.set_data_handle(slot.user.get_data_handle());
        if (slot.reorder) slot.reorder->execute(context_.stream(), slot.user, slot.routed);
    }
    context_.stream().wait();
}

void Network::forward() {
    auto& stream = context_.stream();
    for (auto& unit : units_)
        for (auto& step : unit.steps) step.run(stream);
    stream.wait();
}

void Network::run_step(size_t layer, size_t step) {
    units_[layer].steps[step].run(context_.stream());
    context_.stream().wait();
}

Tensor Network::output(size_t k) const {
    int t = plan_.output_tensors.at(k);
    return read(tensor_mem_[static_cast<size_t>(t)], plan_.tensors[static_cast<size_t>(t)].shape);
}

Tensor Network::layer_output(size_t layer, size_t k) const {
    int t = plan_.layers[layer].output_tensors.at(k);
    return read(tensor_mem_[static_cast<size_t>(t)], plan_.tensors[static_cast<size_t>(t)].shape);
}

Tensor Network::read(const memory& source, const Shape& shape) const {
    Tensor out{shape, std::vector<float>(static_cast<size_t>(shape.elements()))};
    memory user({dims_of(shape), dt::f32, tag::nwc}, context_.engine(), out.data.data());
    dnnl::reorder(const_cast<memory&>(source), user).execute(context_.stream(), const_cast<memory&>(source), user);
    context_.stream().wait();
    return out;
}

}  // namespace c1r
