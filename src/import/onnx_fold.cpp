// Constant folding: the Shape/Gather/Unsqueeze/Concat/Cast arithmetic torch.onnx.export writes for view and
// flatten, Constant/ConstantOfShape/Expand (an RNN's zero initial state), and small arithmetic on constants.
#include <algorithm>
#include <cmath>

#include "import/onnx_lower.hpp"

namespace c1r::onnx_import {
namespace {

int64_t product(const std::vector<int64_t>& dims, size_t from, size_t to) {
    int64_t n = 1;
    for (size_t i = from; i < to && i < dims.size(); ++i) n = mul_sizes(n, dims[i]);
    return n;
}

std::vector<int64_t> ints(const Value& v) {
    std::vector<int64_t> out;
    for (double d : v.data) {  // INT64_MAX/MIN (open slice ends) clamp to +-4.6e18
        if (std::isnan(d)) throw Unsupported{"an index or shape value is not a number"};
        out.push_back(static_cast<int64_t>(std::clamp(d, -4.6e18, 4.6e18)));
    }
    return out;
}

// Folded constants are shape arithmetic and small states: at most 2^20 values each, 2^24 in all per model (a
// file chaining ConstantOfShape/Expand nodes must not cost minutes).
constexpr int64_t kMaxFolded = int64_t{1} << 20;
void check_size(Lowerer& L, int64_t n) {
    if (n < 0 || n > kMaxFolded) throw Unsupported{"a folded constant would hold more than " + std::to_string(kMaxFolded) + " values"};
    L.fold_budget -= n;
    if (L.fold_budget < 0) throw Unsupported{"constant folding beyond 2^24 values in all"};
}

// NumPy broadcasting of a and b (either may be the target shape only, with data empty).
std::vector<int64_t> broadcast_dims(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
    size_t r = std::max(a.size(), b.size());
    std::vector<int64_t> out(r, 1);
    for (size_t i = 0; i < r; ++i) {
        int64_t x = i < r - a.size() ? 1 : a[i - (r - a.size())];
        int64_t y = i < r - b.size() ? 1 : b[i - (r - b.size())];
        if (x != y && x != 1 && y != 1) throw Unsupported{"shapes do not broadcast"};
        out[i] = x == 1 ? y : x;
    }
    return out;
}

// The values of `v` broadcast to `dims`.
std::vector<double> expand(Lowerer& L, const Value& v, const std::vector<int64_t>& dims) {
    int64_t n = product(dims, 0, dims.size());
    check_size(L, n);
    std::vector<double> out(static_cast<size_t>(n));
    const size_t r = dims.size(), off = r - v.dims.size();
    for (int64_t i = 0; i < n; ++i) {
        int64_t rest = i, src = 0, stride = 1;
        for (size_t k = r; k-- > 0;) {
            int64_t coord = rest % dims[k];
            rest /= dims[k];
            if (k >= off) {
                int64_t d = v.dims[k - off];
                src += (d == 1 ? 0 : coord) * stride;
                stride *= d;
            }
        }
        out[static_cast<size_t>(i)] = v.data.at(static_cast<size_t>(src));
    }
    return out;
}

Value constant_attr(Lowerer& L, const OnnxNode& n) {
    Value v;
    v.is_const = true;
    auto it = n.attrs.find("value");
    if (it != n.attrs.end() && it->second.t) {
        v.dims = it->second.t->dims;
        v.data = it->second.t->values;
        v.integer = it->second.t->integer;
    } else if (n.attrs.count("value_float")) {
        v.data = {L.attr_f(n, "value_float", 0)};
    } else if (n.attrs.count("value_int")) {
        v.data = {static_cast<double>(L.attr_i(n, "value_int", 0))};
        v.integer = true;
    } else if (n.attrs.count("value_ints")) {
        for (int64_t x : L.attr_ints(n, "value_ints", {})) v.data.push_back(static_cast<double>(x));
        v.dims = {static_cast<int64_t>(v.data.size())};
        v.integer = true;
    } else if (auto f = n.attrs.find("value_floats"); f != n.attrs.end()) {
        v.data = f->second.floats;
        v.dims = {static_cast<int64_t>(v.data.size())};
    } else {
        throw Unsupported{"a Constant without a supported value attribute"};
    }
    return v;
}

}  // namespace

bool fold_constant(Lowerer& L, const OnnxNode& n) {
    const std::string& op = n.op;
    Value out;
    out.is_const = true;
    auto arg = [&](size_t k) -> const Value& { return L.const_in(n, k); };
    if (op == "Constant") {
        out = constant_attr(L, n);
    } else if (op == "Identity" || op == "Dropout") {
        if (op == "Dropout") check_dropout_inference(L, n);
        out = arg(0);
    } else if (op == "Cast") {
        out = arg(0);
        const int64_t to = L.attr_i(n, "to", 1);
        out.integer = !(to == 1 || to == 10 || to == 11 || to == 16);
        if (out.integer)
            for (double& d : out.data) d = std::trunc(d);
    } else if (op == "ConstantOfShape") {
        std::vector<int64_t> dims = ints(arg(0));
        Value fill;
        fill.data = {0.0};
        auto it = n.attrs.find("value");
        if (it != n.attrs.end() && it->second.t && it->second.t->values.size() == 1) {
            fill.data = it->second.t->values;
            out.integer = it->second.t->integer;
        }
        for (int64_t d : dims)
            if (d < 0) throw Unsupported{"a negative dimension"};
        out.dims = dims;
        out.data = expand(L, fill, dims);
    } else if (op == "Expand") {
        const Value& v = arg(0);
        out.dims = broadcast_dims(v.dims, ints(arg(1)));
        out.data = expand(L, v, out.dims);
        out.integer = v.integer;
    } else if (op == "Unsqueeze" || op == "Squeeze" || op == "Reshape" || op == "Flatten") {
        // Only the shape changes; the values keep their order. Shapes come from the shape-op rules on tensors.
        const Value& v = arg(0);
        out = v;
        if (op == "Flatten") {
            int64_t axis = Lowerer::norm_axis(L.attr_i(n, "axis", 1), v.dims.size() + 1);
            out.dims = {product(v.dims, 0, static_cast<size_t>(axis)), product(v.dims, static_cast<size_t>(axis), v.dims.size())};
        } else if (op == "Reshape") {
            std::vector<int64_t> shape = ints(arg(1));
            int64_t known = 1, unknown = -1;
            for (size_t i = 0; i < shape.size(); ++i) {
                if (shape[i] == 0 && L.attr_i(n, "allowzero", 0) == 0 && i < v.dims.size()) shape[i] = v.dims[i];
                if (shape[i] == -1) unknown = static_cast<int64_t>(i);
                else known = mul_sizes(known, shape[i]);
            }
            if (unknown >= 0 && known > 0) shape[static_cast<size_t>(unknown)] = v.elements() / known;
            if (product(shape, 0, shape.size()) != v.elements()) throw Unsupported{"the shape does not match"};
            out.dims = shape;
        } else {
            std::vector<int64_t> axes = L.has(n, 1) ? ints(arg(1)) : L.attr_ints(n, "axes", {});
            const size_t rank = op == "Unsqueeze" ? v.dims.size() + axes.size() : v.dims.size();
            std::vector<bool> marked(rank, false);
            for (int64_t a : axes) marked[static_cast<size_t>(Lowerer::norm_axis(a, rank))] = true;
            out.dims.clear();
            size_t src = 0;
            for (size_t i = 0; i < rank; ++i) {
                if (op == "Unsqueeze") {
                    out.dims.push_back(marked[i] ? 1 : v.dims.at(src++));
                } else if (!(axes.empty() ? v.dims[i] == 1 : marked[i])) {
                    out.dims.push_back(v.dims[i]);
                }
            }
        }
    } else if (op == "Concat") {
        const Value& first = arg(0);
        const size_t rank = first.dims.size();
        if (rank == 0) throw Unsupported{"concatenates scalars"};
        const size_t axis = static_cast<size_t>(Lowerer::norm_axis(L.attr_i(n, "axis", 0), rank));
        out.dims = first.dims;
        out.dims[axis] = 0;
        out.integer = first.integer;
        for (size_t k = 0; k < n.inputs.size(); ++k) {
            if (arg(k).dims.size() != rank) throw Unsupported{"inputs of different ranks"};
            out.dims[axis] += arg(k).dims[axis];
        }
        const int64_t outer = product(first.dims, 0, axis), inner = product(first.dims, axis + 1, rank);
        for (int64_t o = 0; o < outer; ++o)
            for (size_t k = 0; k < n.inputs.size(); ++k) {
                const Value& v = arg(k);
                const int64_t block = v.dims[axis] * inner;
                out.data.insert(out.data.end(), v.data.begin() + o * block, v.data.begin() + (o + 1) * block);
            }
    } else if (op == "Gather") {
        const Value& v = arg(0);
        const Value& idx = arg(1);
        if (v.dims.empty()) throw Unsupported{"gathers from a scalar"};
        const size_t axis = static_cast<size_t>(Lowerer::norm_axis(L.attr_i(n, "axis", 0), v.dims.size()));
        const int64_t outer = product(v.dims, 0, axis), inner = product(v.dims, axis + 1, v.dims.size()), d = v.dims[axis];
        out.dims.assign(v.dims.begin(), v.dims.begin() + static_cast<long>(axis));
        out.dims.insert(out.dims.end(), idx.dims.begin(), idx.dims.end());
        out.dims.insert(out.dims.end(), v.dims.begin() + static_cast<long>(axis) + 1, v.dims.end());
        out.integer = v.integer;
        std::vector<int64_t> is = ints(idx);
        check_size(L, mul_sizes(mul_sizes(outer, static_cast<int64_t>(is.size())), inner));
        for (int64_t o = 0; o < outer; ++o)
            for (int64_t i : is) {
                if (i < 0) i += d;
                if (i < 0 || i >= d) throw Unsupported{"index out of range"};
                auto from = v.data.begin() + (o * d + i) * inner;
                out.data.insert(out.data.end(), from, from + inner);
            }
    } else if (op == "Slice" && L.graph.opset >= 10) {
        out = arg(0);
        std::vector<int64_t> starts = ints(arg(1)), ends = ints(arg(2)), axes, steps;
        if (L.has(n, 3)) axes = ints(arg(3));
        if (L.has(n, 4)) steps = ints(arg(4));
        for (size_t i = 0; i < starts.size(); ++i) {
            const size_t axis = static_cast<size_t>(Lowerer::norm_axis(axes.empty() ? static_cast<int64_t>(i) : axes.at(i), out.dims.size()));
            const int64_t step = steps.empty() ? 1 : steps.at(i), d = out.dims[axis];
            if (step == 0) throw Unsupported{"step 0"};
            int64_t s = starts[i] < 0 ? starts[i] + d : starts[i], e = ends.at(i) < 0 ? ends[i] + d : ends[i];
            s = step > 0 ? std::clamp<int64_t>(s, 0, d) : std::clamp<int64_t>(s, 0, d - 1);
            e = step > 0 ? std::clamp<int64_t>(e, 0, d) : std::clamp<int64_t>(e, -1, d - 1);
            std::vector<int64_t> pick;
            for (int64_t j = s; step > 0 ? j < e : j > e; j += step) pick.push_back(j);
            const int64_t outer = product(out.dims, 0, axis), inner = product(out.dims, axis + 1, out.dims.size());
            std::vector<double> data;
            for (int64_t o = 0; o < outer; ++o)
                for (int64_t j : pick) {
                    auto from = out.data.begin() + (o * d + j) * inner;
                    data.insert(data.end(), from, from + inner);
                }
            out.data = std::move(data);
            out.dims[axis] = static_cast<int64_t>(pick.size());
        }
    } else if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
        const Value& a = arg(0);
        const Value& b = arg(1);
        out.dims = broadcast_dims(a.dims, b.dims);
        std::vector<double> x = expand(L, a, out.dims), y = expand(L, b, out.dims);
        out.integer = a.integer && b.integer;
        out.data.resize(x.size());
        for (size_t i = 0; i < x.size(); ++i) {
            double r = op == "Add" ? x[i] + y[i] : op == "Sub" ? x[i] - y[i] : op == "Mul" ? x[i] * y[i] : x[i] / y[i];
            if (op == "Div" && out.integer) {
                if (y[i] == 0) throw Unsupported{"integer division by zero"};
                r = std::floor(x[i] / y[i]);
            }
            out.data[i] = r;
        }
    } else if (op == "Transpose") {
        const Value& v = arg(0);
        const size_t r = v.dims.size();
        std::vector<int64_t> perm = L.attr_ints(n, "perm", {});
        if (perm.empty())
            for (size_t i = r; i-- > 0;) perm.push_back(static_cast<int64_t>(i));
        if (perm.size() != r) throw Unsupported{"perm does not match the rank"};
        std::vector<bool> seen(r, false);
        for (int64_t p : perm) {
            if (p < 0 || p >= static_cast<int64_t>(r) || seen[static_cast<size_t>(p)]) throw Unsupported{"perm is not a permutation"};
            seen[static_cast<size_t>(p)] = true;
        }
        out.integer = v.integer;
        for (int64_t p : perm) out.dims.push_back(v.dims[static_cast<size_t>(p)]);
        std::vector<int64_t> stride(r, 1);  // of the input
        for (size_t k = r; k-- > 1;) stride[k - 1] = stride[k] * v.dims[k];
        out.data.resize(v.data.size());
        for (int64_t i = 0; i < static_cast<int64_t>(out.data.size()); ++i) {
            int64_t rest = i, src = 0;
            for (size_t k = r; k-- > 0;) {
                src += (rest % out.dims[k]) * stride[static_cast<size_t>(perm[k])];
                rest /= out.dims[k];
            }
            out.data[static_cast<size_t>(i)] = v.data[static_cast<size_t>(src)];
        }
    } else if (op == "Sqrt" || op == "Neg") {
        out = arg(0);
        for (double& d : out.data) d = op == "Neg" ? -d : std::sqrt(d);
    } else {
        return false;
    }
    check_size(L, static_cast<int64_t>(out.data.size()));
    if (static_cast<int64_t>(out.data.size()) != out.elements()) throw Unsupported{"internal: folded sizes disagree"};
    L.alias(n.outputs.at(0), out);
    return true;
}

}  // namespace c1r::onnx_import
