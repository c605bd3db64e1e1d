// ONNX's shape-only operators on tensors (Transpose, Reshape, Flatten, Squeeze, Unsqueeze, Concat, Slice,
// Gather, Identity, Dropout): how the (N, C, L) axes of a value map to ours, and the reshapes, croppings and
// 0/1 selections that carry them out.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.hpp"
#include "import/onnx_lower.hpp"

namespace c1r {
namespace onnx_import {

namespace {

// Indices and shapes; PyTorch writes INT64_MAX/MIN for open slice ends: those clamp to +-2^62.
std::vector<int64_t> const_ints(const Value& v) {
    std::vector<int64_t> out;
    for (double d : v.data) {
        if (std::isnan(d)) throw Unsupported{"an index or shape value is not a number"};
        out.push_back(static_cast<int64_t>(std::clamp(d, -4.6e18, 4.6e18)));
    }
    return out;
}

// Axes from the attribute (older opsets) or the input k (newer ones).
std::vector<int64_t> axes_of(Lowerer& L, const OnnxNode& n, size_t k, size_t rank) {
    std::vector<int64_t> axes = L.has(n, k) ? const_ints(L.const_in(n, k)) : L.attr_ints(n, "axes", {});
    for (auto& a : axes) a = Lowerer::norm_axis(a, rank);
    std::sort(axes.begin(), axes.end());
    return axes;
}

// Input dims minus the '1' axes, with a direction axis merged into the features right after it.
void stripped(const Value& v, std::vector<int64_t>& dims, std::string& roles) {
    for (size_t i = 0; i < v.dims.size(); ++i) {
        if (v.roles[i] == '1') continue;
        if (v.roles[i] == 'C' && !roles.empty() && roles.back() == 'D') {
            dims.back() = mul_sizes(dims.back(), v.dims[i]);
            roles.back() = 'C';
            continue;
        }
        dims.push_back(v.dims[i]);
        roles.push_back(v.roles[i]);
    }
}

// Output dims that only drop or add size-1 axes of `v` (and merge a direction axis) relabel; else a reshape.
void reshape_to(Lowerer& L, const OnnxNode& n, const Value& v, const std::vector<int64_t>& out) {
    std::vector<int64_t> dims;
    std::string roles;
    stripped(v, dims, roles);
    std::vector<int64_t> out_big;
    for (int64_t d : out)
        if (d != 1) out_big.push_back(d);
    std::vector<int64_t> in_big;
    std::string in_big_roles;
    for (size_t i = 0; i < dims.size(); ++i)
        if (dims[i] != 1) {
            in_big.push_back(dims[i]);
            in_big_roles += roles[i];
        }
    if (in_big == out_big && roles.find('D') == std::string::npos) {
        // Same non-1 axes in the same order: label the output's axes; size-1 ones keep their role when the
        // input has that role with size 1 at the matching place, else become '1'.
        std::string out_roles;
        size_t big = 0;
        std::string small_roles;
        for (size_t i = 0; i < dims.size(); ++i)
            if (dims[i] == 1) small_roles += roles[i];
        for (int64_t d : out) {
            if (d != 1) out_roles += in_big_roles[big++];
            else out_roles += '1';
        }
        // Our axes of size 1 (batch 1, one step, one channel) must stay visible: give them to '1' slots in order.
        size_t s = 0;
        for (char& r : out_roles)
            if (r == '1' && s < small_roles.size()) r = small_roles[s++];
        if (s == small_roles.size() && out_roles.find('B') != std::string::npos) {
            L.set_tensor(n.outputs[0], v.ref, out, out_roles, v.rank);
            return;
        }
    }
    if (out.size() != 2 && out.size() != 3) throw Unsupported{"reshapes to rank " + std::to_string(out.size())};
    Value c = L.canonical(n, v);
    if (out[0] != c.dims[0]) throw Unsupported{"changes the batch dimension"};
    if (c.dims == out) {
        L.set_tensor(n.outputs[0], c.ref, out, c.roles, c.rank);
        return;
    }
    std::vector<int64_t> target(out.begin() + 1, out.end());
    std::string ref = L.add_layer(n, {{"type", "reshape"}, {"target_shape", target}}, {c.ref});
    L.set_tensor(n.outputs[0], ref, out, out.size() == 3 ? "BCL" : "BC", static_cast<int>(out.size()));
}

void select_axis(Lowerer& L, const OnnxNode& n, const Value& v, size_t axis, int64_t start, int64_t count,
                 bool keep_axis);

}  // namespace

void check_dropout_inference(Lowerer& L, const OnnxNode& n) {
    if (!L.has(n, 2)) return;  // opset 12+: training_mode defaults to false; earlier opsets have no training
    const Value& mode = L.in(n, 2);
    if (!mode.is_const) throw Unsupported{"training_mode is not a constant"};
    if (mode.data.empty() || mode.data[0] == 0) return;
    const double ratio = L.has(n, 1) ? L.const_in(n, 1).data.at(0) : 0.5;
    if (ratio != 0) {
        char text[32];
        std::snprintf(text, sizeof text, "%g", ratio);
        throw Unsupported{std::string("training_mode true with ratio ") + text + ": a random mask"};
    }
}

bool lower_shape_op(Lowerer& L, const OnnxNode& n) {
    const std::string& op = n.op;
    if (op == "Identity" || op == "Dropout") {
        if (op == "Dropout" && L.used(n, 1)) throw Unsupported{"its mask output is not supported"};
        if (op == "Dropout") check_dropout_inference(L, n);
        L.alias(n.outputs[0], L.tensor_in(n, 0));
        return true;
    }
    if (op == "Transpose") {
        const Value& v = L.tensor_in(n, 0);
        std::vector<int64_t> perm = L.attr_ints(n, "perm", {});
        if (perm.empty())
            for (size_t i = v.dims.size(); i-- > 0;) perm.push_back(static_cast<int64_t>(i));
        if (perm.size() != v.dims.size()) throw Unsupported{"perm does not match the input rank"};
        Value out = v;
        std::vector<bool> seen(perm.size(), false);
        for (size_t i = 0; i < perm.size(); ++i) {
            int64_t p = perm[i];
            if (p < 0 || p >= static_cast<int64_t>(perm.size()) || seen[static_cast<size_t>(p)])
                throw Unsupported{"perm is not a permutation"};
            seen[static_cast<size_t>(p)] = true;
            out.dims[i] = v.dims[static_cast<size_t>(p)];
            out.roles[i] = v.roles[static_cast<size_t>(p)];
        }
        L.alias(n.outputs[0], out);
        return true;
    }
    if (op == "Unsqueeze" || op == "Squeeze") {
        const Value& v = L.tensor_in(n, 0);
        std::vector<int64_t> out;
        if (op == "Unsqueeze") {
            size_t rank = v.dims.size() + (L.has(n, 1) ? L.const_in(n, 1).data.size() : L.attr_ints(n, "axes", {}).size());
            std::vector<int64_t> axes = axes_of(L, n, 1, rank);
            size_t src = 0;
            for (size_t i = 0; i < rank; ++i)
                out.push_back(std::binary_search(axes.begin(), axes.end(), static_cast<int64_t>(i)) ? 1 : v.dims.at(src++));
        } else {
            std::vector<int64_t> axes = axes_of(L, n, 1, v.dims.size());
            for (size_t i = 0; i < v.dims.size(); ++i) {
                bool drop = axes.empty() ? v.dims[i] == 1 : std::binary_search(axes.begin(), axes.end(), static_cast<int64_t>(i));
                if (drop && v.dims[i] != 1) throw Unsupported{"squeezes an axis of size " + std::to_string(v.dims[i])};
                if (!drop) out.push_back(v.dims[i]);
            }
        }
        reshape_to(L, n, v, out);
        return true;
    }
    if (op == "Reshape") {
        const Value& v = L.tensor_in(n, 0);
        std::vector<int64_t> shape = const_ints(L.const_in(n, 1));
        const bool allowzero = L.attr_i(n, "allowzero", 0) != 0;
        int64_t total = v.elements(), known = 1;
        int unknown = -1;
        for (size_t i = 0; i < shape.size(); ++i) {
            if (shape[i] == 0 && !allowzero) {
                if (i >= v.dims.size()) throw Unsupported{"shape entry 0 beyond the input rank"};
                shape[i] = v.dims[i];
            }
            if (shape[i] == -1) {
                if (unknown >= 0) throw Unsupported{"two -1 entries in the shape"};
                unknown = static_cast<int>(i);
            } else if (shape[i] < 1) {
                throw Unsupported{"shape entry " + std::to_string(shape[i]) + " is not supported"};
            } else {
                known = mul_sizes(known, shape[i]);
            }
        }
        if (unknown >= 0) {
            if (known == 0 || total % known != 0) throw Unsupported{"the shape does not divide the input"};
            shape[static_cast<size_t>(unknown)] = total / known;
        } else if (known != total) {
            throw Unsupported{"the shape holds " + std::to_string(known) + " values, the input " + std::to_string(total)};
        }
        reshape_to(L, n, v, shape);
        return true;
    }
    if (op == "Flatten") {
        const Value& v = L.tensor_in(n, 0);
        int64_t axis = Lowerer::norm_axis(L.attr_i(n, "axis", 1), v.dims.size() + 1);
        if (axis != 1) throw Unsupported{"axis " + std::to_string(axis) + " (only 1: keep the batch) is supported"};
        int64_t rest = 1;
        for (size_t i = 1; i < v.dims.size(); ++i) rest = mul_sizes(rest, v.dims[i]);
        reshape_to(L, n, v, {v.dims[0], rest});
        return true;
    }
    if (op == "Concat") {
        std::vector<Value> parts;
        for (size_t k = 0; k < n.inputs.size(); ++k) parts.push_back(L.canonical(n, L.tensor_in(n, k)));
        int64_t axis = Lowerer::norm_axis(L.attr_i(n, "axis", 0), parts[0].dims.size());
        if (axis == 0) throw Unsupported{"concatenates along the batch axis"};
        std::vector<int64_t> dims = parts[0].dims;
        std::vector<std::string> refs{parts[0].ref};
        for (size_t k = 1; k < parts.size(); ++k) {
            if (parts[k].dims.size() != dims.size()) throw Unsupported{"inputs of different ranks"};
            dims[static_cast<size_t>(axis)] += parts[k].dims[static_cast<size_t>(axis)];
            refs.push_back(parts[k].ref);
        }
        if (parts.size() == 1) {
            L.alias(n.outputs[0], parts[0]);
            return true;
        }
        std::string ref = L.add_layer(n, {{"type", "concatenate"}, {"axis", axis}}, refs);
        L.set_tensor(n.outputs[0], ref, dims, parts[0].roles, parts[0].rank);
        return true;
    }
    if (op == "Slice") {
        const Value& in = L.tensor_in(n, 0);
        const Value v = Lowerer::direct(in) ? in : L.canonical(n, in);
        std::vector<int64_t> starts, ends, axes, steps;
        if (L.graph.opset < 10) {
            starts = L.attr_ints(n, "starts", {});
            ends = L.attr_ints(n, "ends", {});
            axes = L.attr_ints(n, "axes", {});
        } else {
            starts = const_ints(L.const_in(n, 1));
            ends = const_ints(L.const_in(n, 2));
            if (L.has(n, 3)) axes = const_ints(L.const_in(n, 3));
            if (L.has(n, 4)) steps = const_ints(L.const_in(n, 4));
        }
        if (axes.empty())
            for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
        if (steps.empty()) steps.assign(starts.size(), 1);
        if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
            throw Unsupported{"starts, ends, axes and steps differ in length"};
        int changed = 0;
        size_t axis_done = 0;
        int64_t s0 = 0, count0 = 0;
        for (size_t i = 0; i < starts.size(); ++i) {
            size_t axis = static_cast<size_t>(Lowerer::norm_axis(axes[i], v.dims.size()));
            int64_t dim = v.dims[axis];
            if (steps[i] != 1) throw Unsupported{"step " + std::to_string(steps[i]) + " (only 1 is supported)"};
            int64_t s = starts[i] < 0 ? starts[i] + dim : starts[i];
            int64_t e = ends[i] < 0 ? ends[i] + dim : ends[i];
            s = std::clamp<int64_t>(s, 0, dim);
            e = std::clamp<int64_t>(e, 0, dim);
            if (e <= s) throw Unsupported{"an empty slice"};
            if (s == 0 && e == dim) continue;
            if (axis == 0) throw Unsupported{"slices the batch axis"};
            ++changed;
            axis_done = axis;
            s0 = s;
            count0 = e - s;
        }
        if (changed == 0) {
            L.alias(n.outputs[0], v);
            return true;
        }
        if (changed > 1) throw Unsupported{"slices more than one axis"};
        select_axis(L, n, v, axis_done, s0, count0, true);
        return true;
    }
    if (op == "Gather") {
        const Value& v = L.tensor_in(n, 0);
        const Value& idx = L.const_in(n, 1);
        if (idx.data.size() != 1) throw Unsupported{"gathers more than one index"};
        size_t axis = static_cast<size_t>(Lowerer::norm_axis(L.attr_i(n, "axis", 0), v.dims.size()));
        int64_t i = static_cast<int64_t>(idx.data[0]);
        if (i < 0) i += v.dims[axis];
        if (i < 0 || i >= v.dims[axis]) throw Unsupported{"index out of range"};
        const bool keep = !idx.dims.empty();
        if ((v.roles[axis] == '1' || v.roles[axis] == 'D') && v.dims[axis] == 1) {
            Value out = v;
            if (!keep) {
                out.dims.erase(out.dims.begin() + static_cast<long>(axis));
                out.roles.erase(axis, 1);
            }
            L.alias(n.outputs[0], out);
            return true;
        }
        select_axis(L, n, Lowerer::direct(v) ? v : L.canonical(n, v), axis, i, 1, keep);
        return true;
    }
    return false;
}

namespace {

// Keeps [start, start+count) of axis `axis` of a canonical value: a cropping of the length, a 0/1 selection
// (1x1 conv or dense, exact) of the features; `keep_axis` false drops the axis (count 1) with a reshape.
void select_axis(Lowerer& L, const OnnxNode& n, const Value& v, size_t axis, int64_t start, int64_t count,
                 bool keep_axis) {
    const int64_t dim = v.dims[axis];
    std::string ref;
    if (v.roles[axis] == 'L') {
        ref = L.add_layer(n, {{"type", "cropping1d"}, {"cropping", {start, dim - start - count}}}, {v.ref},
                          keep_axis ? "" : "/crop");
    } else if (v.roles[axis] == 'C') {
        const bool seq = v.rank == 3;
        json layer = seq ? json{{"type", "conv1d"}, {"filters", count}, {"kernel_size", 1}, {"use_bias", false}}
                         : json{{"type", "dense"}, {"units", count}, {"use_bias", false}};
        ref = L.add_layer(n, layer, {v.ref}, keep_axis ? "" : "/select");
        std::vector<float> w(static_cast<size_t>(dim * count), 0.0f);
        for (int64_t k = 0; k < count; ++k) w[static_cast<size_t>((start + k) * count + k)] = 1.0f;
        std::vector<int64_t> shape = seq ? std::vector<int64_t>{1, dim, count} : std::vector<int64_t>{dim, count};
        L.add_weight(ref, "kernel", shape, w);
    } else {
        throw Unsupported{"selects along an axis that is not the features or the length"};
    }
    std::vector<int64_t> dims = v.dims;
    dims[axis] = count;
    if (keep_axis) {
        L.set_tensor(n.outputs[0], ref, dims, v.roles, v.rank);
        return;
    }
    dims.erase(dims.begin() + static_cast<long>(axis));
    if (dims.size() < 2) throw Unsupported{"leaves only the batch axis"};
    std::vector<int64_t> target(dims.begin() + 1, dims.end());
    std::string out = L.add_layer(n, {{"type", "reshape"}, {"target_shape", target}}, {ref});
    std::string roles = v.roles;
    roles.erase(axis, 1);
    if (dims.size() == 2) roles = "BC";  // (batch, features): whatever was left is our features
    L.set_tensor(n.outputs[0], out, dims, roles, static_cast<int>(dims.size()));
}

}  // namespace
}  // namespace onnx_import
}  // namespace c1r
