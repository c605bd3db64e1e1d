// Padding with real values (padding_mode reflect / replicate / circular, as PyTorch and ONNX Pad): oneDNN
// convolutions and pooling pad with zeros only, so the padded input is built explicitly — a reorder of the
// input into the middle of a larger plain (nwc) buffer, then a plain loop copying the edge steps — and the
// convolution runs over it without padding. The report's implementation text shows "loop:pad_<mode>".
#include <cstring>

#include "network/unit.hpp"

namespace c1r {

using dnnl::memory;

memory padded_input(UnitContext& c, int64_t left, int64_t right, PaddingMode mode, LayerUnit& unit) {
    const Shape& in = c.node.input_shapes[0];
    const Shape padded{in.batch, in.length + left + right, in.channels, in.rank};
    memory buffer(c.nwc(padded), c.engine);
    std::memset(buffer.get_data_handle(), 0, buffer.get_desc().get_size());  // zeros stay: nothing overwrites them
    memory window(buffer.get_desc().submemory_desc(dims_of(in), {0, 0, left}), c.engine, buffer.get_data_handle());
    // The reorder converts layout and data type itself: the source as its producer left it.
    dnnl::reorder::primitive_desc pd(c.srcs[0], window);
    unit.impl += std::string(unit.impl.empty() ? "" : "+") + pd.impl_info_str();
    unit.steps.push_back({dnnl::reorder(pd), {{DNNL_ARG_FROM, c.srcs[0]}, {DNNL_ARG_TO, window}}, true});
    if (mode == PaddingMode::zeros || left + right == 0) return buffer;
    unit.impl += std::string("+loop:pad_") + to_string(mode);
    // One step (all channels) is a contiguous row in nwc: copy whole rows from the steps each mode reads.
    const size_t row = static_cast<size_t>(in.channels) * (c.data_type() == dt::f32 ? 4 : 2);
    const int64_t length = in.length, total = padded.length, batch = in.batch;
    Step step;
    step.loop = [buffer, row, length, total, batch, left, mode]() {
        char* base = static_cast<char*>(buffer.get_data_handle());
        auto source = [&](int64_t i) -> int64_t {  // i outside [0, length): the step it copies
            switch (mode) {
                case PaddingMode::reflect: return i < 0 ? -i : 2 * (length - 1) - i;
                case PaddingMode::replicate: return i < 0 ? 0 : length - 1;
                default: return ((i % length) + length) % length;  // circular
            }
        };
        for (int64_t n = 0; n < batch; ++n) {
            char* seq = base + static_cast<size_t>(n * total) * row;
            for (int64_t p = 0; p < total; ++p) {
                if (p == left) p = left + length;  // skip the input's own steps
                if (p >= total) break;
                std::memcpy(seq + static_cast<size_t>(p) * row, seq + static_cast<size_t>(left + source(p - left)) * row,
                            row);
            }
        }
    };
    unit.steps.push_back(std::move(step));
    return buffer;
}

LayerUnit with_padded_input(UnitContext& c, const std::function<LayerUnit(UnitContext&)>& build) {
    const LayerPlan& p = c.node;
    LayerUnit pre;
    memory padded = padded_input(c, p.padding->first, p.padding->second, p.spec.padding_mode, pre);
    // The same node over the padded input, without padding of its own.
    LayerPlan inner = p;
    inner.input_shape.length += p.padding->first + p.padding->second;
    inner.input_shapes[0] = inner.input_shape;
    inner.padding = std::pair<int64_t, int64_t>{0, 0};
    UnitContext ic{c.engine, c.stream, c.dtype, c.format, inner, c.weights, {padded}, c.execution_ms, c.input_reorder};
    LayerUnit unit = build(ic);
    unit.steps.insert(unit.steps.begin(), pre.steps.begin(), pre.steps.end());
    unit.impl = pre.impl + "+" + unit.impl;
    unit.reorder_before = true;
    return unit;
}

bool pads_with_values(const LayerPlan& p) {
    return p.spec.padding_mode != PaddingMode::zeros && p.padding && (p.padding->first > 0 || p.padding->second > 0);
}

}  // namespace c1r
