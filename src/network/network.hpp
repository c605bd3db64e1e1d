// Builds oneDNN primitives from a plan and runs them: one unit per layer kind, layouts negotiated with
// format_tag::any, reorders only where neighbouring layouts differ and at the ends of the stack.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "plan/plan.hpp"
#include "io/tensor.hpp"

namespace c1r {

// The oneDNN engine and stream, one per process; passed to whatever needs them.
class Context {
public:
    Context();
    dnnl::engine& engine() { return engine_; }
    dnnl::stream& stream() { return stream_; }

    static std::string onednn_version();  // e.g. "2.6.3"
    static std::string cpu_isa();         // oneDNN's effective ISA, e.g. "avx512_core"
    static bool has_native_bf16();
    static int max_threads();             // cores oneDNN may use
    static void set_threads(int threads);  // before creating and running primitives

private:
    dnnl::engine engine_;
    dnnl::stream stream_;
};

// One oneDNN call inside a layer: the primitive, its arguments, and whether it only moves data between layouts.
struct Step {
    dnnl::primitive primitive;
    std::unordered_map<int, dnnl::memory> args;
    bool is_reorder = false;
};

struct LayerUnit {
    std::vector<Step> steps;
    dnnl::memory dst;
    std::string impl;           // oneDNN's implementation name(s), e.g. "jit:avx512_core"
    std::string dst_layout;     // e.g. "nCw16c" style description of the output layout
    bool reorder_before = false;  // a reorder between the previous layer's layout and this one's
    bool includes_next_activation = false;  // the next (activation) layer is fused in as a post-op
    bool fused = false;                     // this activation layer runs inside the previous layer
};

class Network {
public:
    Network(Context& context, const Plan& plan, const std::vector<LayerWeights>& weights, DType dtype);

    // Uses `input` as the stack's source (it must outlive the forward passes); reorders it into the first
    // layer's layout when that differs (outside any timed loop).
    void set_input(const Tensor& input);
    // Runs the whole stack and waits for it.
    void forward();
    // Runs one step of one layer and waits (for the per-layer timing pass).
    void run_step(size_t layer, size_t step);

    Tensor output() const { return read(units_.back().dst, plan_.output_shape); }
    Tensor layer_output(size_t layer) const { return read(units_[layer].dst, plan_.layers[layer].output_shape); }

    const std::vector<LayerUnit>& units() const { return units_; }
    double create_ms() const { return create_ms_; }
    bool input_reordered() const { return static_cast<bool>(input_reorder_); }

private:
    Tensor read(const dnnl::memory& memory, const Shape& shape) const;

    Context& context_;
    const Plan& plan_;
    DType dtype_;
    dnnl::memory input_user_;  // the caller's (batch, length, channels) f32 data
    dnnl::memory input_;       // the first layer's source, in its layout
    std::unique_ptr<dnnl::reorder> input_reorder_;
    std::vector<LayerUnit> units_;
    std::vector<std::pair<dnnl::memory, dnnl::memory>> views_;  // reshape views and the memory they show
    double create_ms_ = 0.0;
};

}  // namespace c1r
