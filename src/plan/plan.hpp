// The model graph planned for given input shapes: every node's shapes, paddings, params, FLOPs, receptive
// field and jump, in topological order, and the memory estimate. No oneDNN and no allocation here; --dry-run,
// the executor, the reference, the planner and the tests use it. The length rules live in layers/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "layers/kind.hpp"
#include "layers/shape.hpp"
#include "model/spec.hpp"

namespace c1r {

// A tensor of the graph: a model input (producer -1) or output `output` of node `producer`.
struct TensorInfo {
    std::string name;  // "input", a layer's name, or "name:k" for a layer's output k > 0
    Shape shape;
    int producer = -1;
    int output = 0;
    std::vector<int> readers;  // nodes that read it, in order
};

struct Plan {
    DataFormat data_format = DataFormat::channels_last;
    Shape input_shape, output_shape;  // the first model input and the first model output
    std::vector<LayerPlan> layers;    // nodes in topological order (a chain keeps the config's order)
    std::vector<TensorInfo> tensors;
    std::vector<int> input_tensors, output_tensors;
    // Each model input's and output's axis order in its file and in reports (layers/layout.hpp), never empty.
    std::vector<std::string> input_layouts, output_layouts;
    int64_t total_params = 0;
    int64_t total_flops = 0;
    int64_t memory_bytes = 0;  // estimate: inputs, weights (user and primitive layout), live outputs, scratch
    int64_t live_tensor_bytes = 0;  // the most node-output bytes alive at once (buffers are reused after)
    std::vector<std::string> warnings;  // e.g. a model input no layer reads (the runner prints them)
    bool is_chain() const;     // one input, one output, every node reading the one before
};

// Plans a config for the given input shapes (one per model input, in the config's order). Throws
// Error(config) naming the layer's pointer, with the arithmetic, when a shape rule fails.
Plan make_plan(const ConfigSpec& config, const std::vector<Shape>& input_shapes);
inline Plan make_plan(const ConfigSpec& config, const Shape& input_shape) {
    return make_plan(config, std::vector<Shape>{input_shape});
}

// Shape text in the user's data format, "(1, 20, 32)" / "(1, 64)" and "1x20x32".
std::string shape_text(const Shape& shape, DataFormat format);
std::string shape_text_x(const Shape& shape, DataFormat format);
// Shape text of a model input or output in its axis order.
std::string layout_shape_text(const Shape& shape, const std::string& layout);

// oneDNN benchdnn problem descriptor for conv/deconv/pool layers (empty for others), e.g. "mb1ic32iw20oc16ow10kw2sw2pw0".
std::string benchdnn_descriptor(const LayerPlan& layer);

}  // namespace c1r
