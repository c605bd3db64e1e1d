// oneDNN executor: the graph's nodes in topological order, each a unit (network/units*.cpp) reading its inputs
// in the layouts their producers left, with model inputs reordered once outside the timed loop.
#include "network/network.hpp"

#include <omp.h>
#include <sys/mman.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>

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

// Kinds whose builders give each output a fresh buffer that their steps reach only through memory objects the
// network sees (destinations and step arguments, plain loops through those same objects): such an output can
// move into a pooled buffer. Views, zero padding (edges zeroed once at build time) and the recurrent units (views
// at offsets inside their own buffers) keep theirs.
bool poolable(LayerType t) {
    switch (t) {
        case LayerType::conv1d: case LayerType::conv1d_transpose: case LayerType::depthwise_conv1d:
        case LayerType::separable_conv1d: case LayerType::max_pool1d: case LayerType::avg_pool1d:
        case LayerType::global_max_pool1d: case LayerType::global_avg_pool1d: case LayerType::upsample1d:
        case LayerType::cropping1d: case LayerType::permute: case LayerType::dense:
        case LayerType::batch_normalization: case LayerType::layer_normalization: case LayerType::activation:
        case LayerType::relu: case LayerType::leaky_relu: case LayerType::elu: case LayerType::softmax:
        case LayerType::prelu: case LayerType::add: case LayerType::subtract: case LayerType::multiply:
        case LayerType::average: case LayerType::maximum: case LayerType::minimum: case LayerType::concatenate:
            return true;
        default: return false;
    }
}

bool is_model_output(const Plan& plan, int tensor) {
    return std::find(plan.output_tensors.begin(), plan.output_tensors.end(), tensor) != plan.output_tensors.end();
}

// The last node that reads a tensor (its producer when none does); SIZE_MAX for a model output.
size_t last_use(const Plan& plan, int tensor) {
    if (is_model_output(plan, tensor)) return SIZE_MAX;
    const TensorInfo& t = plan.tensors[static_cast<size_t>(tensor)];
    size_t last = t.producer < 0 ? 0 : static_cast<size_t>(t.producer);
    for (int r : t.readers) last = std::max(last, static_cast<size_t>(r));
    return last;
}

// The add node that conv node `i` may run as its sum post-op, and the add's other input: the conv's output
// has that add as its only reader and is no model output, the other input has the same shape and is ready
// before the conv runs (a model input, or made by an earlier node).
std::optional<std::pair<size_t, int>> sum_candidate(const Plan& plan, size_t i) {
    const LayerPlan& conv = plan.layers[i];
    if (conv.spec.type != LayerType::conv1d || conv.output_tensors.size() != 1 ||
        !eltwise_ops(conv.spec.activation))
        return std::nullopt;
    const int out = conv.output_tensors[0];
    const TensorInfo& t = plan.tensors[static_cast<size_t>(out)];
    if (t.readers.size() != 1 || is_model_output(plan, out)) return std::nullopt;
    const LayerPlan& add = plan.layers[static_cast<size_t>(t.readers[0])];
    if (add.spec.type != LayerType::add || add.input_tensors.size() != 2 || add.folded_into) return std::nullopt;
    const int other = add.input_tensors[0] == out ? add.input_tensors[1] : add.input_tensors[0];
    if (other == out) return std::nullopt;
    const TensorInfo& o = plan.tensors[static_cast<size_t>(other)];
    if (!(o.shape == t.shape) || !(add.output_shape == t.shape)) return std::nullopt;
    if (o.producer >= static_cast<int>(i)) return std::nullopt;
    return std::make_pair(static_cast<size_t>(t.readers[0]), other);
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

NetworkOptions NetworkOptions::from_environment() {
    NetworkOptions options;
    const char* fuse = std::getenv("C1R_FUSE_SUM");
    if (fuse && std::string(fuse) == "0") options.fuse_sum = false;
    return options;
}

void clear_primitive_cache() {
    const int capacity = dnnl::get_primitive_cache_capacity();
    dnnl::set_primitive_cache_capacity(0);  // evicts everything
    dnnl::set_primitive_cache_capacity(capacity);
}

Network::Network(Context& context, const Plan& plan, const std::vector<LayerWeights>& weights, DType dtype,
                 NetworkOptions options)
    : context_(context), plan_(plan), dtype_(dtype), options_(options) {
    auto start = std::chrono::steady_clock::now();
    double execution_ms = 0;
    std::vector<memory> tensor_mem(plan.tensors.size());
    for (int t : plan.input_tensors) {
        InputSlot slot;
        slot.user = memory({dims_of(plan.tensors[static_cast<size_t>(t)].shape), dt::f32, tag::nwc}, context.engine());
        slot.tensor = t;
        tensor_mem[static_cast<size_t>(t)] = slot.user;
        regions_.push_back({static_cast<char*>(slot.user.get_data_handle()), slot.user.get_desc().get_size(),
                            last_use(plan, t), -1, {}});
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
            regions_.push_back({static_cast<char*>(slot.routed.get_data_handle()), want.get_size(), SIZE_MAX, -1, {}});
            return slot.routed;
        }
        return memory();
    };
    std::vector<int> sum_of(plan.layers.size(), -1);  // an add node: the conv node running it as its sum post-op
    for (size_t i = 0; i < plan.layers.size(); ++i) {
        const LayerPlan& layer = plan.layers[i];
        LayerUnit unit;
        std::vector<memory> srcs;
        for (int t : layer.input_tensors) srcs.push_back(tensor_mem[static_cast<size_t>(t)]);
        bool built = false;  // the unit's outputs are fresh buffers of its own (not views of its inputs)
        if (sum_of[i] >= 0) {  // an add that its conv runs as the sum post-op
            unit.dsts = {units_[static_cast<size_t>(sum_of[i])].dsts[0]};
            unit.impl = "fused as sum post-op of layer " + std::to_string(sum_of[i]);
            unit.note = unit.impl;
        } else if (layer.folded_into) {  // batch normalisation folded into its conv's weights: nothing to run
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
                // An add reading this conv's output runs inside it as the sum post-op: in place on the add's
                // other input when nothing reads that afterwards (and it sits in a pooled buffer), else on a copy.
                std::optional<LayerUnit> summed;
                if (options_.fuse_sum)
                    if (auto sum = sum_candidate(plan, i)) {
                        const memory& addend = tensor_mem[static_cast<size_t>(sum->second)];
                        summed = build_conv_sum(c, addend, options_.reuse_buffers && overwritable(addend, i, sum->first));
                        if (summed) sum_of[sum->first] = static_cast<int>(i);
                    }
                // An activation node that is a linear conv's only reader runs inside it as a post-op.
                std::optional<ActivationSpec> fuse;
                if (is_conv(layer.spec.type) && layer.spec.activation.fn == Activation::linear &&
                    i + 1 < plan.layers.size() && plan.layers[i + 1].spec.type == LayerType::activation &&
                    eltwise_ops(plan.layers[i + 1].spec.activation) &&
                    plan.tensors[static_cast<size_t>(layer.output_tensors[0])].readers == std::vector<int>{static_cast<int>(i + 1)} &&
                    !is_model_output(plan, layer.output_tensors[0]))
                    fuse = plan.layers[i + 1].spec.activation;
                unit = summed ? std::move(*summed) : fuse ? build_conv_fused(c, fuse) : build_unit(c);
                unit.holds_later_result = summed.has_value() || unit.includes_next_activation;
                built = true;
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
        place_outputs(i, built && poolable(layer.spec.type), tensor_mem, unit);
        unit.dst_layout = layout_name(unit.dsts[0].get_desc());
        units_.push_back(std::move(unit));
    }
    regions_.clear();
    tensor_mem_ = std::move(tensor_mem);
    context.stream().wait();  // weight reorders
    create_ms_ = ms_since(start) - execution_ms;
}

Network::Region* Network::region_of(const void* handle) {
    const char* h = static_cast<const char*>(handle);
    for (auto& r : regions_)
        if (h >= r.base && h < r.base + r.size) return &r;
    return nullptr;
}

// The add's other input may take the conv's result in place: it sits in a pooled buffer that no node reads
// from the conv on (the conv itself included), except the add.
bool Network::overwritable(const memory& addend, size_t conv, size_t add) {
    const Region* r = region_of(addend.get_data_handle());
    if (!r || r->block < 0 || r->last_use > add) return false;
    return std::all_of(r->readers.begin(), r->readers.end(), [&](size_t n) { return n < conv || n == add; });
}

// Liveness over the topological order, at build time: each output of node `layer` either lives in a buffer
// already tracked (a view, a fused node: the buffer lives on until this tensor's last reader too), or is a
// fresh buffer. A fresh buffer of a poolable unit moves into the smallest free pooled block that holds it (a
// new block when none does), and every memory of the network on it follows. Blocks whose tensors have all been
// read become free for the nodes after this one.
void Network::place_outputs(size_t layer, bool fresh, std::vector<memory>& tensor_mem, LayerUnit& unit) {
    const LayerPlan& node = plan_.layers[layer];
    for (int t : node.output_tensors) {
        const memory& m = tensor_mem[static_cast<size_t>(t)];
        char* handle = static_cast<char*>(m.get_data_handle());
        if (!handle) continue;
        const TensorInfo& info = plan_.tensors[static_cast<size_t>(t)];
        const size_t last = last_use(plan_, t);
        if (Region* r = region_of(handle)) {
            r->last_use = std::max(r->last_use, last);
            r->readers.insert(r->readers.end(), info.readers.begin(), info.readers.end());
            continue;
        }
        // The buffer's size: the largest description of any of the unit's memories on this handle.
        size_t size = m.get_desc().get_size();
        for (const auto& step : unit.steps)
            for (const auto& [arg, other] : step.args)
                if (other.get_data_handle() == handle) size = std::max(size, other.get_desc().get_size());
        Region region{handle, size, last, -1, std::vector<size_t>(info.readers.begin(), info.readers.end())};
        if (fresh && options_.reuse_buffers) {
            int best = -1;
            for (size_t b = 0; b < blocks_.size(); ++b)
                if (!blocks_[b].busy && blocks_[b].size >= size &&
                    (best < 0 || blocks_[b].size < blocks_[static_cast<size_t>(best)].size))
                    best = static_cast<int>(b);
            if (best < 0) {
                // An anonymous mapping: its pages read as zeros (padding lanes of blocked layouts, never NaN)
                // and take memory only once written, so a block costs nothing while the rest of the network is
                // built (the units' layout trials run on buffers of their own), and unmapping returns it at once.
                // Its first-touch faults fall in the first forward pass: a warmup one (5 by default).
                constexpr size_t kPage = 4096;
                const size_t bytes = (size + kPage - 1) / kPage * kPage;
                void* raw = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (raw == MAP_FAILED) throw std::bad_alloc();
                blocks_.push_back({std::shared_ptr<char>(static_cast<char*>(raw), [bytes](char* p) { munmap(p, bytes); }),
                                   bytes, false});
                pooled_bytes_ += static_cast<int64_t>(bytes);
                best = static_cast<int>(blocks_.size() - 1);
            }
            Block& block = blocks_[static_cast<size_t>(best)];
            block.busy = true;
            rebind(handle, size, block.memory.get(), tensor_mem, unit);
            region.base = block.memory.get();
            region.block = best;
        }
        regions_.push_back(std::move(region));
    }
    for (auto it = regions_.begin(); it != regions_.end();) {
        if (it->last_use <= layer) {
            if (it->block >= 0) blocks_[static_cast<size_t>(it->block)].busy = false;
            it = regions_.erase(it);
        } else {
            ++it;
        }
    }
}

// Points every memory of the network inside [from, from + size) at the same offset from `to`. The unit that
// allocated the buffer releases it as its memory object moves.
void Network::rebind(char* from, size_t size, char* to, std::vector<memory>& tensor_mem, LayerUnit& unit) {
    auto move = [&](const memory& m) {
        if (!m) return;
        char* h = static_cast<char*>(m.get_data_handle());
        if (h >= from && h < from + size) m.set_data_handle(to + (h - from));
    };
    auto move_unit = [&](LayerUnit& u) {
        for (auto& step : u.steps)
            for (auto& [arg, m] : step.args) move(m);
        for (auto& m : u.dsts) move(m);
    };
    for (auto& u : units_) move_unit(u);
    move_unit(unit);
    for (auto& m : tensor_mem) move(m);
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

bool Network::input_copied(size_t k) const {
    const InputSlot& slot = inputs_.at(k);
    if (!slot.reorder || is_model_output(plan_, slot.tensor)) return false;
    const void* user = slot.user.get_data_handle();
    const void* routed = slot.routed.get_data_handle();
    // Each reader's unit reads the copy in a step of its own and never the caller's buffer. A reader without
    // steps (a view, a fused node) or with a plain loop (which may hold the buffer without naming it) does not
    // count as reading the copy, so the caller's tensor stays.
    for (int reader : plan_.tensors[static_cast<size_t>(slot.tensor)].readers) {
        const LayerUnit& unit = units_[static_cast<size_t>(reader)];
        bool reads_copy = false;
        for (const auto& step : unit.steps) {
            if (step.loop) return false;
            for (const auto& [arg, m] : step.args) {
                if (m.get_data_handle() == user) return false;
                reads_copy |= m.get_data_handle() == routed;
            }
        }
        for (const auto& m : unit.dsts)
            if (m.get_data_handle() == user) return false;
        if (!reads_copy) return false;
    }
    return true;
}

void Network::forward() {
    auto& stream = context_.stream();
    for (auto& unit : units_)
        for (auto& step : unit.steps) step.run(stream);
    stream.wait();
}

void Network::run_node(size_t layer) {
    for (auto& step : units_[layer].steps) step.run(context_.stream());
    context_.stream().wait();
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
