// Builds oneDNN primitives from a plan and runs them: one unit per node (network/unit.hpp), layouts negotiated
// with format_tag::any, reorders only where neighbouring layouts differ and (once, untimed) at model inputs.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "network/unit.hpp"

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
    static int max_threads();              // cores oneDNN may use
    static void set_threads(int threads);  // before creating and running primitives

private:
    dnnl::engine engine_;
    dnnl::stream stream_;
};

class Network {
public:
    // `weights` per node, in Keras layout, batch normalisation already folded where the plan says so.
    Network(Context& context, const Plan& plan, const std::vector<LayerWeights>& weights, DType dtype);

    // Uses the tensors as the model inputs (they must outlive the forward passes); reorders each into its
    // first reader's layout when that differs (outside any timed loop).
    void set_inputs(const std::vector<const Tensor*>& inputs);
    void set_input(const Tensor& input) { set_inputs({&input}); }
    // Runs the whole graph and waits for it.
    void forward();
    // Runs one step of one node and waits (for the per-layer timing pass).
    void run_step(size_t layer, size_t step);

    Tensor output(size_t k = 0) const;  // model output k
    Tensor layer_output(size_t layer, size_t k = 0) const;

    const std::vector<LayerUnit>& units() const { return units_; }
    double create_ms() const { return create_ms_; }

private:
    struct InputSlot {
        int tensor = -1;
        dnnl::memory user;    // the caller's (batch, length, channels) f32 data
        dnnl::memory routed;  // its copy in the first reader's layout, when that differs
        std::unique_ptr<dnnl::reorder> reorder;
    };
    Tensor read(const dnnl::memory& memory, const Shape& shape) const;

    Context& context_;
    const Plan& plan_;
    DType dtype_;
    std::vector<InputSlot> inputs_;
    std::vector<LayerUnit> units_;
    std::vector<dnnl::memory> tensor_mem_;
    double create_ms_ = 0.0;
};

}  // namespace c1r
