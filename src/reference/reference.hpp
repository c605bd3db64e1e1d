// The plain reference implementation for --verify and the tests: direct loops, double accumulation, Keras
// semantics, one function per kind (reference/kinds.hpp). Shares nothing with the oneDNN executor but the plan.
#pragma once

#include <vector>

#include "io/tensor.hpp"
#include "plan/plan.hpp"

namespace c1r {

// One node's forward pass: its outputs from its inputs (every tensor (batch, length, channels)).
std::vector<Tensor> reference_node(const LayerPlan& layer, const std::vector<const Tensor*>& inputs,
                                   const LayerWeights& weights, DataFormat format);
// A one-input node's first output.
Tensor reference_layer(const LayerPlan& layer, const Tensor& input, const LayerWeights& weights, DataFormat format);

}  // namespace c1r
