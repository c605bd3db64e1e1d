// The plain-loop recurrent cell: LSTM, GRU and SimpleRNN in Keras' own formulas, for the activations oneDNN
// 2.6's RNN cells do not have (network/units_rnn.cpp marks such a layer "loop:<kind>").
#pragma once

#include <cstdint>
#include <vector>

#include <dnnl.hpp>

#include "layers/layer.hpp"

namespace c1r {

inline int64_t gate_count(LayerType t) { return t == LayerType::lstm ? 4 : t == LayerType::gru ? 3 : 1; }

// One side of the layer in plain loops, in Keras' own formulas (REAL-MODELS §2a), double accumulation.
struct LoopSide {
    std::vector<float> kernel, recurrent, bias;  // Keras layout; bias empty: none
    std::vector<float> peephole;                 // LSTM (3, H) rows i, f, o; empty: no peepholes
    bool backwards = false, flip = false;
    dnnl::memory seq, h, c;  // f32 nwc outputs: (N, H, T) when return_sequences; (N, H, 1); (N, H, 1) LSTM
};

struct LoopLayer {
    LayerType type;
    bool reset_after;
    ActivationSpec activation, recurrent_activation;
    int64_t T, N, I, H;
    dnnl::memory src;  // f32 nwc (N, I, T)
    std::vector<LoopSide> sides;

    void run() const;  // every side, samples in parallel

private:
    void run_sample(const LoopSide& side, const float* x_seq, float* seq, float* h_out, float* c_out) const;
};

}  // namespace c1r
