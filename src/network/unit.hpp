// What a oneDNN unit builder gets and gives: one builder per layer kind (network/units_*.cpp, registered there
// with C1R_UNIT), dispatched by build_unit() in network/units.cpp from the kind list, so a kind without a
// builder does not link.
#pragma once

#include <functional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "io/tensor.hpp"
#include "plan/plan.hpp"

namespace c1r {

// One call inside a unit: a oneDNN primitive with its arguments, or (where oneDNN 2.6 has no primitive for
// the operation, e.g. an embedding lookup) a plain loop that the report marks as such.
struct Step {
    Step() = default;
    Step(dnnl::primitive p, std::unordered_map<int, dnnl::memory> a, bool reorder = false)
        : primitive(std::move(p)), args(std::move(a)), is_reorder(reorder) {}
    dnnl::primitive primitive;
    std::unordered_map<int, dnnl::memory> args;
    bool is_reorder = false;
    std::function<void()> loop;  // set instead of `primitive` for a plain loop
    void run(dnnl::stream& stream) const;
};

struct LayerUnit {
    std::vector<Step> steps;
    std::vector<dnnl::memory> dsts;  // one per output of the node
    std::string impl;                // oneDNN's implementation name(s), e.g. "jit:avx512_core"; "loop:..." for loops
    std::string dst_layout;          // e.g. "nCw16c"
    bool reorder_before = false;     // a reorder between the producer's layout and this unit's
    bool includes_next_activation = false;  // the next (activation) node runs inside this one as a post-op
    // Its output tensor ends up holding a later node's result (a fused activation, or an add run as the sum
    // post-op): compare that node's output, not this one's.
    bool holds_later_result = false;
    std::string note;                // e.g. "folded into layer 3", "fused into layer 2", shown in reports
};

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

// oneDNN dims of a tensor: (N, C, W). Rank-2 tensors are (N, C, 1).
inline dnnl::memory::dims dims_of(const Shape& s) { return {s.batch, s.channels, s.length}; }

struct UnitContext {
    dnnl::engine& engine;
    dnnl::stream& stream;
    DType dtype;
    DataFormat format;
    const LayerPlan& node;
    const LayerWeights& weights;  // Keras layout (batch normalisation already folded where it was)
    std::vector<dnnl::memory> srcs;  // the inputs, in whatever layout their producers left them
    // Time spent running primitives at build time (weight reorders, layout trials): not creation time.
    double* execution_ms = nullptr;
    // Makes the model input memory `src` available in `want`: the runner reorders it once before timing.
    std::function<dnnl::memory(const dnnl::memory& src, const dnnl::memory::desc& want)> input_reorder;

    dt data_type() const { return dtype == DType::bf16 ? dt::bf16 : dt::f32; }
    dnnl::memory::desc any(const Shape& s) const { return {dims_of(s), data_type(), tag::any}; }
    dnnl::memory::desc nwc(const Shape& s) const { return {dims_of(s), data_type(), tag::nwc}; }
    // `src` in layout `want`: as it is, through a reorder step added to `unit`, or for a model input
    // through the input reorder outside the timed loop.
    dnnl::memory adapt(const dnnl::memory& src, const dnnl::memory::desc& want, LayerUnit& unit);
    // Input k in plain nwc of the data type (channels innermost): what plain loops and views need.
    dnnl::memory plain_src(size_t k, LayerUnit& unit) { return adapt(srcs[k], nwc(node.input_shapes[k]), unit); }
    // The layout to read input k in for a primitive that takes any layout: the producer's, unless the data
    // type differs (a model input is f32), then plain nwc.
    dnnl::memory::desc src_desc(size_t k) const {
        const auto md = srcs[k].get_desc();
        return md.data_type() == data_type() ? md : nwc(node.input_shapes[k]);
    }
    // Copies host f32 values into a new memory of `desc` (a reorder from a plain f32 view of `values` laid
    // out as `user`), outside any timed loop.
    dnnl::memory upload(const std::vector<float>& values, const dnnl::memory::desc& user,
                        const dnnl::memory::desc& desc);
};

// Eltwise post-ops or steps for an activation: empty for linear; nullopt when oneDNN 2.6 has no exact
// equivalent (softsign, softmax): the builder then adds a separate step (or a plain loop).
struct EltwiseOp {
    dnnl::algorithm alg;
    float alpha = 0.0f, beta = 0.0f;
};
std::optional<std::vector<EltwiseOp>> eltwise_ops(const ActivationSpec& activation);
// The activation as steps running in place on `dst` (eltwise chain, softmax/log_softmax over channels, or a
// plain loop).
void append_activation_steps(UnitContext& c, const ActivationSpec& activation, const dnnl::memory& dst,
                             LayerUnit& unit);
dnnl::primitive_attr activation_attr(const ActivationSpec& activation);  // post-ops; only if eltwise_ops has it
// A softmax or log-softmax step over oneDNN axis `axis` (0 batch, 1 channels, 2 length) from `src` into `dst`
// (the same memory for in place); its implementation name is appended to `impl`.
Step softmax_step(UnitContext& c, const dnnl::memory& src, const dnnl::memory& dst, int axis, bool log,
                  std::string& impl);

// padding_mode other than zeros (network/units_pad.cpp). padded_input: input 0 with `left`/`right` steps filled
// as `mode` says, in a new plain nwc buffer (a reorder and a plain loop added to `unit`). with_padded_input:
// `build` run on the node over that buffer with its padding set to 0. pads_with_values: the node needs it.
dnnl::memory padded_input(UnitContext& c, int64_t left, int64_t right, PaddingMode mode, LayerUnit& unit);
LayerUnit with_padded_input(UnitContext& c, const std::function<LayerUnit(UnitContext&)>& build);
bool pads_with_values(const LayerPlan& p);

// Builds the unit of context.node. Throws dnnl::error or Error.
LayerUnit build_unit(UnitContext& context);

// One builder per kind, unit_<kind>, generated from C1R_LAYER_KINDS; `C1R_UNIT(kind, builder)` defines it
// beside the group's builder. build_unit() dispatches to them, so a kind without one does not link.
#define C1R_DECLARE_UNIT(kind) LayerUnit unit_##kind(UnitContext& c);
C1R_LAYER_KINDS(C1R_DECLARE_UNIT)
#undef C1R_DECLARE_UNIT
#define C1R_UNIT(kind, builder) \
    LayerUnit unit_##kind(UnitContext& c) { return builder(c); }

// The builders, by group (network/units_<group>.cpp).
LayerUnit build_conv(UnitContext& c);            // conv1d, conv1d_transpose
// A conv running the next node's activation as its post-op (the network fuses an activation layer so).
LayerUnit build_conv_fused(UnitContext& c, std::optional<ActivationSpec> fused);
// A conv1d running a following add as its sum post-op: `dst = activation(conv(src)) + addend`. With `in_place`,
// the destination is `addend`'s own buffer when oneDNN takes its layout (the addend is dead after the add);
// otherwise a copy step puts the addend into a new destination first. nullopt when oneDNN has no kernel.
std::optional<LayerUnit> build_conv_sum(UnitContext& c, const dnnl::memory& addend, bool in_place);
LayerUnit build_depthwise(UnitContext& c);       // depthwise_conv1d, separable_conv1d
LayerUnit build_pool(UnitContext& c);            // max_pool1d, avg_pool1d
LayerUnit build_global_pool(UnitContext& c);     // global_max_pool1d, global_avg_pool1d
LayerUnit build_upsample(UnitContext& c);
LayerUnit build_edges(UnitContext& c);           // zero_padding1d, cropping1d
LayerUnit build_permute(UnitContext& c);
LayerUnit build_view(UnitContext& c);            // reshape, flatten, dropout (no data movement)
LayerUnit build_repeat(UnitContext& c);          // repeat_vector
LayerUnit build_dense(UnitContext& c);           // dense, time_distributed(dense)
LayerUnit build_embedding(UnitContext& c);
LayerUnit build_norm(UnitContext& c);            // batch_normalization, layer_normalization
LayerUnit build_activation(UnitContext& c);      // activation, relu, leaky_relu, elu, softmax
LayerUnit build_prelu(UnitContext& c);
LayerUnit build_merge(UnitContext& c);           // add, subtract, multiply, average, maximum, minimum
LayerUnit build_concat(UnitContext& c);
LayerUnit build_recurrent(UnitContext& c);       // lstm, gru, simple_rnn, bidirectional

}  // namespace c1r
