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

// How the executor may save memory and passes. Both on by default; the tests compare with them off. The
// environment variable C1R_FUSE_SUM=0 turns the sum post-op off in the binary (for comparing the two paths).
struct NetworkOptions {
    bool reuse_buffers = true;  // a node's output goes into a pooled buffer whose tensors are all dead
    bool fuse_sum = true;       // an add right after a conv1d runs as the conv's sum post-op
    static NetworkOptions from_environment();
};

class Network {
public:
    // `weights` per node, in Keras layout, batch normalisation already folded where the plan says so.
    Network(Context& context, const Plan& plan, const std::vector<LayerWeights>& weights, DType dtype,
            NetworkOptions options = NetworkOptions::from_environment());

    // Uses the tensors as the model inputs (they must outlive the forward passes); reorders each into its
    // first reader's layout when that differs (outside any timed loop).
    void set_inputs(const std::vector<const Tensor*>& inputs);
    void set_input(const Tensor& input) { set_inputs({&input}); }
    // Runs the whole graph and waits for it.
    void forward();
    // Runs every step of node `layer` and waits. Running nodes 0, 1, ... in turn is a forward pass, with each
    // node's output readable (layer_output) right after it runs: buffers are reused once their last reader is
    // done, so after a whole forward() only the model outputs are sure to be intact.
    void run_node(size_t layer);
    // Runs one step of one node and waits (for the per-layer timing pass).
    void run_step(size_t layer, size_t step);

    // Model input k lives only in the network's own copy (every node reads it through the copy made in
    // set_inputs): the caller's tensor may be freed once set_inputs is done, if nothing else needs it.
    bool input_copied(size_t k) const;

    Tensor output(size_t k = 0) const;  // model output k
    Tensor layer_output(size_t layer, size_t k = 0) const;  // valid while the tensor is alive (see run_node)

    // Bytes of the shared buffers that hold the nodes' outputs (each reused once its last reader is done).
    int64_t pooled_bytes() const { return pooled_bytes_; }

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
    // A buffer some tensors live in, from its producer to its tensors' last reader (SIZE_MAX: a model output).
    struct Region {
        char* base = nullptr;
        size_t size = 0;
        size_t last_use = 0;
        int block = -1;  // index into blocks_, or -1 for a buffer the pool does not own (inputs, some units')
        std::vector<size_t> readers;  // every node reading a tensor that lives in it
    };
    struct Block {
        std::shared_ptr<char> memory;
        size_t size = 0;
        bool busy = false;
    };
    Region* region_of(const void* handle);
    void place_outputs(size_t layer, bool fresh, std::vector<dnnl::memory>& tensor_mem, LayerUnit& unit);
    bool overwritable(const dnnl::memory& addend, size_t conv, size_t add);
    void rebind(char* from, size_t size, char* to, std::vector<dnnl::memory>& tensor_mem, LayerUnit& unit);

    Context& context_;
    const Plan& plan_;
    DType dtype_;
    NetworkOptions options_;
    std::vector<InputSlot> inputs_;
    std::vector<LayerUnit> units_;
    std::vector<dnnl::memory> tensor_mem_;
    std::vector<Region> regions_;  // live during construction
    std::vector<Block> blocks_;
    int64_t pooled_bytes_ = 0;
    double create_ms_ = 0.0;
};

}  // namespace c1r
