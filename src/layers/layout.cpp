// Model input and output axis orders (layers/layout.hpp).
#include "layers/layout.hpp"

#include <algorithm>

namespace c1r {

std::string layout_problem(const std::string& layout) {
    if (layout.empty()) return "empty axis order";
    if (layout.size() > kMaxLayoutAxes) return "more than " + std::to_string(kMaxLayoutAxes) + " axes";
    for (char c : layout)
        if (c != 'B' && c != 'L' && c != 'C' && c != '1')
            return std::string("unknown axis letter '") + c + "'";
    for (char c : {'B', 'L', 'C'})
        if (std::count(layout.begin(), layout.end(), c) > 1) return std::string("axis ") + c + " appears twice";
    if (layout.find('B') == std::string::npos) return "no batch axis B";
    if (layout.find('C') == std::string::npos) return "no channels axis C";
    return "";
}

std::string default_layout(int rank, DataFormat format) {
    if (rank == 2) return "BC";
    return format == DataFormat::channels_last ? "BLC" : "BCL";
}

std::string effective_layout(const std::string& layout, int rank, DataFormat format) {
    return layout.empty() ? default_layout(rank, format) : layout;
}

int layout_rank(const std::string& layout) { return layout.find('L') == std::string::npos ? 2 : 3; }

std::vector<int64_t> layout_dims(const Shape& shape, const std::string& layout) {
    std::vector<int64_t> dims;
    for (char c : layout) dims.push_back(c == 'B' ? shape.batch : c == 'L' ? shape.length : c == 'C' ? shape.channels : 1);
    return dims;
}

std::string shape_from_layout_dims(const std::vector<int64_t>& dims, const std::string& layout, Shape& shape) {
    if (dims.size() != layout.size())
        return "has " + std::to_string(dims.size()) + " axes, the layout \"" + layout + "\" " +
               std::to_string(layout.size());
    shape = {1, 1, 1, layout_rank(layout)};
    for (size_t i = 0; i < dims.size(); ++i) {
        const char c = layout[i];
        if (c == '1' && dims[i] != 1)
            return "axis " + std::to_string(i) + " is " + std::to_string(dims[i]) + ", where the layout \"" + layout +
                   "\" has a size-1 axis";
        if (c == 'B') shape.batch = dims[i];
        else if (c == 'L') shape.length = dims[i];
        else if (c == 'C') shape.channels = dims[i];
    }
    return "";
}

std::vector<int64_t> layout_strides(const Shape& shape, const std::string& layout) {
    std::vector<int64_t> strides;
    for (char c : layout)
        strides.push_back(c == 'B' ? shape.length * shape.channels : c == 'L' ? shape.channels : c == 'C' ? 1 : 0);
    return strides;
}

}  // namespace c1r
