// The plain reference implementation for --verify and the tests: direct loops, double accumulation, Keras semantics.
// Deliberately shares nothing with the oneDNN executor but the plan's shapes and paddings.
#pragma once

#include "plan/plan.hpp"
#include "io/tensor.hpp"

namespace c1r {

double apply_activation(Activation activation, double x);

// One layer's forward pass on a (batch, length, channels) tensor.
Tensor reference_layer(const LayerPlan& layer, const Tensor& input, const LayerWeights& weights,
                       DataFormat format);

}  // namespace c1r
