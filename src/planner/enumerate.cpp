// Enumerate: the layer shapes of a query, and for each the strides (and explicit output_paddings) that take
// an input length into a range of output lengths; for two-layer stacks, the intermediate lengths worth trying.
//
// Lengths come only from the length module (layer_rules.hpp); the search relies on one property of those
// rules: with everything else fixed, a layer's output length moves one way as its stride grows (down for conv
// and pools, up for conv1d_transpose and upsample1d). Strides that reach a length are therefore found by
// binary search over 1..max(L, M), not by trying every stride.
#include <algorithm>

#include "planner/search.hpp"

namespace c1r::planner_detail {
namespace {

// The strides (1..max_stride, an interval) whose output length can lie in [lo, hi]; with an explicit
// output_padding p < stride the length is length(p = 0) + p, so the interval is where that span meets [lo,
// hi].
std::pair<int64_t, int64_t> stride_range(const LayerShape& shape, int64_t in, int64_t lo, int64_t hi,
                                         Search& search) {
    const int64_t max_stride = search.max_stride;
    auto length = [&](int64_t s, std::optional<int64_t> op = std::nullopt) {
        return output_length(shape, in, s, op, search);
    };
    if (shape.output_padding == OutputPaddingMode::explicit_value)
        return {first_true(1, max_stride, [&](int64_t s) { return length(s, 0) + s - 1 >= lo; }),
                first_true(1, max_stride, [&](int64_t s) { return length(s, 0) > hi; }) - 1};
    if (shrinks(shape.type))
        return {first_true(1, max_stride, [&](int64_t s) { return length(s) <= hi; }),
                first_true(1, max_stride, [&](int64_t s) { return length(s) < lo; }) - 1};
    return {first_true(1, max_stride, [&](int64_t s) { return length(s) >= lo; }),
            first_true(1, max_stride, [&](int64_t s) { return length(s) > hi; }) - 1};
}

// One output step (conv, pools) or one input step (conv1d_transpose): every stride computes the same thing.
bool stride_matters(const LayerShape& shape, int64_t in, int64_t out) {
    return shrinks(shape.type) ? out > 1 : in > 1 || shape.type == LayerType::upsample1d;
}

}  // namespace

int64_t output_length(const LayerShape& shape, int64_t in, int64_t stride, std::optional<int64_t> output_padding,
                      Search& search) {
    ++search.work;
    return layer_window(shape.type, shape.kernel, shape.dilation, shape.padding, in, stride, output_padding)
        .output_length;
}

std::vector<LayerShape> layer_shapes(const PlanQuery& q, std::optional<int64_t> weights) {
    auto allowed = [&](LayerType t) { return std::find(q.types.begin(), q.types.end(), t) != q.types.end(); };
    std::vector<LayerShape> shapes;
    if (!weights || *weights == 0) {
        for (LayerType t : {LayerType::max_pool1d, LayerType::avg_pool1d})
            if (allowed(t))
                for (int64_t k = 1; k <= q.max_kernel; ++k)
                    for (PaddingKind p : {PaddingKind::valid, PaddingKind::same})
                        shapes.push_back({t, k, 1, p});
        if (allowed(LayerType::upsample1d))
            shapes.push_back({LayerType::upsample1d, 1, 1, PaddingKind::valid});
    }
    for (int64_t k = 1; k <= q.max_kernel; ++k) {
        if (weights && *weights != k) continue;
        // kernel_size 1 reads one step whatever the dilation: only dilation 1 is tried.
        for (int64_t d = 1; d <= (k == 1 ? 1 : q.max_dilation); ++d) {
            if (allowed(LayerType::conv1d))
                for (PaddingKind p : {PaddingKind::valid, PaddingKind::same, PaddingKind::causal})
                    shapes.push_back({LayerType::conv1d, k, d, p});
            if (allowed(LayerType::conv1d_transpose))
                for (PaddingKind p : {PaddingKind::valid, PaddingKind::same})
                    for (auto op : {OutputPaddingMode::null, OutputPaddingMode::explicit_value})
                        shapes.push_back({LayerType::conv1d_transpose, k, d, p, op});
        }
    }
    return shapes;
}

// Where the stride cannot matter (one output step of a conv or pool, one input step of a transposed conv)
// only the smallest stride for each output length is given.
void for_each_setting(const LayerShape& shape, int64_t in, int64_t lo, int64_t hi, Search& search,
                      SettingVisitor visit) {
    auto length = [&](int64_t s, std::optional<int64_t> op = std::nullopt) {
        return output_length(shape, in, s, op, search);
    };
    auto [s_lo, s_hi] = stride_range(shape, in, lo, hi, search);
    if (shape.output_padding == OutputPaddingMode::explicit_value) {
        int64_t longest_given = 0;  // one input step: the stride does not matter, each length once
        for (int64_t s = s_lo; s <= s_hi; ++s) {
            int64_t b = length(s, 0);
            int64_t op_lo = std::max<int64_t>(0, lo - b), op_hi = std::min(s - 1, hi - b);
            if (in == 1) op_lo = std::max(op_lo, longest_given - b + 1);
            for (int64_t op = op_lo; op <= op_hi; ++op) {
                int64_t out = length(s, op);
                if (out < lo || out > hi) continue;
                longest_given = std::max(longest_given, out);
                if (!visit(s, op, out)) return;
            }
        }
        return;
    }
    int64_t previous = -1;
    for (int64_t s = s_lo; s <= s_hi; ++s) {
        int64_t out = length(s);
        if (out < lo || out > hi) continue;
        const bool matters = stride_matters(shape, in, out);
        if (!matters && out == previous) continue;
        previous = out;
        if (!visit(s, -1, out)) return;
        if (!matters && shrinks(shape.type)) break;  // every larger stride also gives the one step
    }
}

// The stride ranges, counted.
int64_t count_settings(const std::vector<LayerShape>& shapes, int64_t in, int64_t out, Search& search) {
    int64_t total = 0;
    for (const auto& shape : shapes) {
        auto [s_lo, s_hi] = stride_range(shape, in, out, out, search);
        if (s_lo <= s_hi) total += stride_matters(shape, in, out) ? s_hi - s_lo + 1 : 1;
    }
    return total;
}

// Lengths grow with the input, so for each shape the lengths where its shortest and longest outputs bracket
// `out` are found by binary search; upsample1d reaches `out` only from its divisors.
std::vector<std::pair<int64_t, int64_t>> intermediate_ranges(const std::vector<LayerShape>& shapes, int64_t out,
                                                             Search& search) {
    std::vector<std::pair<int64_t, int64_t>> ranges;
    const int64_t smax = search.max_stride;
    for (const auto& shape : shapes) {
        auto len = [&](int64_t i, int64_t s, std::optional<int64_t> op = std::nullopt) {
            return output_length(shape, i, s, op, search);
        };
        int64_t a, b;
        if (shape.type == LayerType::upsample1d) {
            for (int64_t i = 1; i * i <= out; ++i)
                for (int64_t d : {i, out / i})
                    if (out % i == 0 && len(d, out / d) == out && out / d <= smax) ranges.emplace_back(d, d);
            continue;
        } else if (shrinks(shape.type)) {
            a = first_true(1, kPlannerMaxLength, [&](int64_t i) { return len(i, 1) >= out; });
            b = first_true(1, kPlannerMaxLength, [&](int64_t i) { return len(i, smax) > out; }) - 1;
        } else if (shape.output_padding == OutputPaddingMode::explicit_value) {
            a = first_true(1, kPlannerMaxLength,
                           [&](int64_t i) { return len(i, smax, 0) + smax - 1 >= out; });
            b = first_true(1, kPlannerMaxLength, [&](int64_t i) { return len(i, 1, 0) > out; }) - 1;
        } else {
            a = first_true(1, kPlannerMaxLength, [&](int64_t i) { return len(i, smax) >= out; });
            b = first_true(1, kPlannerMaxLength, [&](int64_t i) { return len(i, 1) > out; }) - 1;
        }
        if (a <= b) ranges.emplace_back(a, b);
    }
    std::sort(ranges.begin(), ranges.end());
    std::vector<std::pair<int64_t, int64_t>> merged;
    for (const auto& r : ranges) {
        if (!merged.empty() && r.first <= merged.back().second + 1)
            merged.back().second = std::max(merged.back().second, r.second);
        else
            merged.push_back(r);
    }
    return merged;
}

}  // namespace c1r::planner_detail
