// Evaluate: a setting's pads (the length module's), the input steps no output step reads and whether some
// output step reads only padding (counted exactly over sets of steps, from the layer's index map); and, for
// listed results, the public Candidate / Stack with every length checked through make_plan.
#include <algorithm>
#include <numeric>

#include "core/error.hpp"
#include "planner/int_math.hpp"
#include "planner/search.hpp"

namespace c1r::planner_detail {
namespace {

// ---- sets of steps: unions of arithmetic progressions with one common step, counted exactly ----

struct Progression {
    int64_t first = 0, count = 0;
};
struct StepSet {
    int64_t step = 1;
    std::vector<Progression> runs;  // first, first+step, ..., first+(count-1)*step; runs may overlap
};

// Adds the part of first + q*step (0 <= q < count) that lies in [0, limit).
void add_clipped(StepSet& set, int64_t first, int64_t count, int64_t limit) {
    int64_t q_lo = first >= 0 ? 0 : ceil_div(-first, set.step);
    int64_t q_hi = first > limit - 1 ? -1 : std::min(count - 1, floor_div(limit - 1 - first, set.step));
    if (q_lo <= q_hi) set.runs.push_back({first + q_lo * set.step, q_hi - q_lo + 1});
}

// Distinct steps in the set: per residue class the runs are intervals of the lattice, merged and summed.
int64_t count_distinct(const StepSet& set) {
    struct Span {
        int64_t residue, lo, hi;
        bool operator<(const Span& o) const { return residue != o.residue ? residue < o.residue : lo < o.lo; }
    };
    std::vector<Span> spans;
    spans.reserve(set.runs.size());
    for (const auto& r : set.runs) {
        int64_t q = floor_div(r.first, set.step);
        spans.push_back({r.first - q * set.step, q, q + r.count - 1});
    }
    std::sort(spans.begin(), spans.end());
    int64_t total = 0;
    for (size_t i = 0; i < spans.size();) {
        Span merged = spans[i++];
        while (i < spans.size() && spans[i].residue == merged.residue && spans[i].lo <= merged.hi + 1)
            merged.hi = std::max(merged.hi, spans[i++].hi);
        total += merged.hi - merged.lo + 1;
    }
    return total;
}

StepSet all_steps(int64_t length) { return {1, {{0, length}}}; }

// The input steps that the given output steps read.
StepSet read_inputs(const IndexMap& a, const StepSet& outputs) {
    StepSet inputs;
    switch (a.kind) {
        case IndexMap::Kind::window:
            inputs.step = outputs.step * a.stride;
            for (const auto& r : outputs.runs)
                for (int64_t j = 0; j < a.taps; ++j)
                    add_clipped(inputs, r.first * a.stride + a.offset + j * a.tap_step, r.count, a.in);
            break;
        case IndexMap::Kind::transpose: {
            // Input i feeds output i*stride + off: solve i*stride = first - off + q*step, 0 <= q < count.
            int64_t g = std::gcd(a.stride, outputs.step);
            int64_t t = outputs.step / g;
            int64_t inverse = t == 1 ? 0 : inverse_mod(floor_mod(a.stride / g, t), t);
            inputs.step = t;
            for (const auto& r : outputs.runs) {
                for (int64_t j = 0; j < a.taps; ++j) {
                    int64_t c = r.first - (a.offset + j * a.tap_step);
                    if (floor_mod(c, g) != 0) continue;
                    int64_t residue = t == 1 ? 0 : mul_mod(floor_mod(c / g, t), inverse, t);
                    int64_t lo = std::max<int64_t>(0, ceil_div(c, a.stride));
                    int64_t hi = std::min(a.in - 1, floor_div(c + (r.count - 1) * outputs.step, a.stride));
                    if (lo > hi) continue;
                    int64_t first = lo + floor_mod(residue - lo, t);
                    if (first <= hi) inputs.runs.push_back({first, (hi - first) / t + 1});
                }
            }
            break;
        }
        case IndexMap::Kind::repeat: {
            const int64_t z = a.stride;
            if (outputs.step <= z) {
                // Steps of at most `size` move x / size by 0 or 1: each progression covers an interval.
                inputs.step = 1;
                for (const auto& r : outputs.runs) {
                    int64_t lo = r.first / z, hi = (r.first + (r.count - 1) * outputs.step) / z;
                    inputs.runs.push_back({lo, hi - lo + 1});
                }
                break;
            }
            // x -> x / size: a progression with step t splits into size/gcd(t, size) progressions with step
            // t/gcd (at most count of them).
            int64_t g = std::gcd(outputs.step, z);
            int64_t period = z / g;
            inputs.step = outputs.step / g;
            for (const auto& r : outputs.runs)
                for (int64_t q0 = 0; q0 < std::min(period, r.count); ++q0)
                    inputs.runs.push_back(
                        {(r.first + q0 * outputs.step) / z, (r.count - q0 + period - 1) / period});
            break;
        }
    }
    return inputs;
}

// Output steps that read at least one input step.
int64_t covered_outputs(const IndexMap& a) {
    StepSet covered;
    switch (a.kind) {
        case IndexMap::Kind::window:
            for (int64_t j = 0; j < a.taps; ++j) {
                int64_t off = a.offset + j * a.tap_step;
                int64_t lo = std::max<int64_t>(0, ceil_div(-off, a.stride));
                int64_t hi = std::min(a.out - 1, floor_div(a.in - 1 - off, a.stride));
                if (lo <= hi) covered.runs.push_back({lo, hi - lo + 1});
            }
            break;
        case IndexMap::Kind::transpose:
            covered.step = a.stride;
            for (int64_t j = 0; j < a.taps; ++j) add_clipped(covered, a.offset + j * a.tap_step, a.in, a.out);
            break;
        case IndexMap::Kind::repeat:
            return a.out;
    }
    return count_distinct(covered);
}

// ---- listed results ----

LayerSpec layer_spec(const Setting& s) {
    LayerSpec l;
    l.type = s.type;
    l.pointer = "/layers/0";
    l.filters = 1;
    switch (s.type) {
        case LayerType::conv1d:
        case LayerType::conv1d_transpose:
            l.kernel_size = s.kernel;
            l.strides = s.stride;
            l.dilation_rate = s.dilation;
            l.padding.kind = s.padding;
            if (s.padding == PaddingKind::explicit_pads) {
                l.padding.left = s.pad_left;
                l.padding.right = s.pad_right;
            }
            if (s.output_padding >= 0) l.output_padding = s.output_padding;
            break;
        case LayerType::cropping1d:
            l.edges = {-s.pad_left, -s.pad_right};
            break;
        case LayerType::zero_padding1d:
            l.edges = {s.pad_left, s.pad_right};
            break;
        case LayerType::max_pool1d:
        case LayerType::avg_pool1d:
            l.pool_size = l.kernel_size = s.kernel;  // as the config parser stores it
            l.strides = s.stride;
            l.padding.kind = s.padding;
            break;
        default:
            l.size = s.kernel;
            break;
    }
    return l;
}

Candidate candidate_of(const Setting& s) {
    Candidate c;
    c.layer = layer_spec(s);
    c.in_length = s.in;
    c.out_length = s.out;
    c.weights = s.weights();
    if (s.type != LayerType::upsample1d) c.padding_amounts = std::pair{s.pad_left, s.pad_right};
    c.unread_steps = s.unread;
    c.reads_only_padding = s.reads_only_padding;
    return c;
}

Plan checked_plan(const std::vector<LayerSpec>& layers, int64_t in_length, int64_t out_length) {
    ConfigSpec config = config_spec(layers, in_length, 1, 1);
    Plan plan = make_plan(config, {1, in_length, 1});
    if (plan.output_shape.length != out_length)
        throw Error(ErrorKind::runtime, "plan: internal error: a listed setting gives length " +
                                            std::to_string(plan.output_shape.length) + ", not " +
                                            std::to_string(out_length));
    return plan;
}

}  // namespace

Setting base_setting(const LayerShape& shape, int64_t in, int64_t stride, int64_t output_padding, int64_t out) {
    Setting s;
    s.type = shape.type;
    s.padding = shape.padding;
    s.kernel = shape.type == LayerType::upsample1d ? stride : shape.kernel;
    s.dilation = is_conv(shape.type) ? shape.dilation : 1;
    s.stride = shape.type == LayerType::upsample1d ? 1 : stride;
    s.output_padding = output_padding;
    s.in = in;
    s.out = out;
    LayerWindow w = layer_window(shape.type, shape.kernel, shape.dilation, shape.padding, in, stride,
                                 output_padding < 0 ? std::nullopt : std::optional<int64_t>(output_padding));
    s.pad_left = w.pad_left;
    s.pad_right = w.pad_right;
    return s;
}

Found make_found(Setting s) {
    IndexMap a = s.index_map();
    s.unread = s.in - count_distinct(read_inputs(a, all_steps(s.out)));
    s.reads_only_padding = covered_outputs(a) < s.out;
    return classify(s);
}

Found make_found(const LayerShape& shape, int64_t in, int64_t stride, int64_t output_padding, int64_t out) {
    return make_found(base_setting(shape, in, stride, output_padding, out));
}

int64_t stack_unread(const Setting& a, const Setting& b) {
    return a.in - count_distinct(read_inputs(a.index_map(), read_inputs(b.index_map(), all_steps(b.out))));
}

Candidate finished_candidate(const Setting& s) {
    Candidate c = candidate_of(s);
    Plan plan = checked_plan({c.layer}, s.in, s.out);
    c.receptive_field = plan.layers[0].receptive_field.value_or(0);
    return c;
}

Stack finished_stack(const StackItem& item) {
    Stack stack;
    Candidate first = candidate_of(item.first), second = candidate_of(item.second);
    Plan plan = checked_plan({first.layer, second.layer}, item.first.in, item.second.out);
    // Per layer, as the run report: receptive field, unread steps and the flag for the stack up to that
    // layer.
    first.receptive_field = plan.layers[0].receptive_field.value_or(0);
    second.receptive_field = plan.layers[1].receptive_field.value_or(0);
    second.unread_steps = item.unread;
    second.reads_only_padding = item.reads_only_padding;
    stack.weights = first.weights + second.weights;
    stack.receptive_field = second.receptive_field;
    stack.unread_steps = item.unread;
    stack.reads_only_padding = item.reads_only_padding;
    stack.layers = {first, second};
    return stack;
}

}  // namespace c1r::planner_detail
