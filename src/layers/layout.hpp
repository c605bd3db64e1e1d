// Axis orders of model inputs and outputs: a config may give a model input or output a `layout`, the order in
// which its file (--input, --save-output) holds our axes, e.g. "LBC" for (length, batch, channels) or "BL1C"
// for (batch, length, 1, channels). Letters: B batch, L length, C channels (features), 1 an extra axis of
// size 1. B and C appear once, L once for a sequence and never for a rank-2 (batch, features) tensor.
#pragma once

#include <string>
#include <vector>

#include "layers/shape.hpp"

namespace c1r {

constexpr size_t kMaxLayoutAxes = 8;

// Empty when `layout` is a valid axis order; else why not (one phrase).
std::string layout_problem(const std::string& layout);
// The order a tensor is held in without a layout: BLC / BCL by data format, BC for rank 2.
std::string default_layout(int rank, DataFormat format);
// The layout, or the default when empty.
std::string effective_layout(const std::string& layout, int rank, DataFormat format);
// Rank 3 when the layout has L, else 2.
int layout_rank(const std::string& layout);
// The shape's dims in the layout's order (a 1 for each '1').
std::vector<int64_t> layout_dims(const Shape& shape, const std::string& layout);
// Our shape from dims in the layout's order; empty string when they fit, else why not.
std::string shape_from_layout_dims(const std::vector<int64_t>& dims, const std::string& layout, Shape& shape);
// For each axis of the layout, the stride of that axis in our (batch, length, channels) row-major buffer.
std::vector<int64_t> layout_strides(const Shape& shape, const std::string& layout);

}  // namespace c1r
