// Planner search (SPEC §6): every layer setting within bounds that maps one length to another, ranked.
//
// Lengths, paddings and crops come only from the length module (conv_window, transpose_window,
// dilated_kernel); the search relies on one property of those rules: with everything else fixed, a layer's
// output length moves one way as its stride grows (down for conv and pools, up for conv1d_transpose and
// upsample1d). Strides that reach a length are therefore found by binary search over 1..max(L, M), not by
// trying every stride.
//
// "Computes the same thing" (listed once): two settings are the same computation when, for every input and
// every set of weights, they give the same output. For layers with weights (same type and kernel_size) that
// means every output step applies the same kernel tap to the same input step — each tap's map from output
// steps to input steps (conv1d) or input steps to output steps (conv1d_transpose), restricted to steps inside
// the data, is the same, and so is the output length. So: kernel_size 1 with any dilation is dilation 1;
// padding whose amounts come to zero is no padding (`same` with pads [0, 0] is `valid`, `causal` with kernel
// 1 is `valid`); an explicit output_padding equal to the default is null; with one output step (conv, pools)
// or one input step (conv1d_transpose) the stride does not matter. For layers without weights the output is a
// function of the input alone: each output step is the max or the mean of the input steps its window covers
// (padding excluded, as Keras), or one input step repeated (upsample1d). Windows of exactly one input step
// make max, mean and repetition the same computation (max_pool1d pool_size 1 = avg_pool1d pool_size 1 = a
// plain subsample). Each class is listed once, by its best-ranked member. Classes are told apart by a 128-bit
// fingerprint of that exact description (per-tap maps, or the run-length code of the window sequence).
//
// Ranking, simplest first: fewest weights per channel pair (kernel_size for conv types, 0 for pools and
// upsample1d), then no padding (amounts that come to zero count as none; for conv1d_transpose the crop), then
// no dilation (SPEC §6); then, to break ties: fewer unread input steps, no output step reading only padding,
// smaller stride, type order (conv1d, conv1d_transpose, max_pool1d, avg_pool1d, upsample1d), padding order
// (valid, same, causal), output_padding (null first, then smaller), smaller kernel_size / pool_size / size,
// smaller dilation.
//
// Two-layer stacks rank by total weights, then the number of padded layers, then of dilated layers, then
// unread stack-input steps, then whether some layer reads only padding, then layer 1's key, then layer 2's.
// Every layer comes from the same space as single layers (strides up to max(L, M)), every intermediate length
// is 1..1e6. A stack with an identity layer is the other layer alone, so it is left out; two layers without
// weights whose combined windows are again a max / mean / subsample window sequence are compared as that
// sequence, so a stack that equals a single layer (or an earlier stack) is left out. Other compositions are
// not merged.
#include "planner/planner.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <numeric>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "core/error.hpp"

namespace c1r {
namespace {

// Two-layer work budget in length-rule evaluations (tens of ns each): about half a second on one core.
constexpr int64_t kTwoLayerBudget = 12'000'000;
constexpr int64_t kFoundWork = 20;  // building a setting: pads, unread steps, class
constexpr int64_t kStackWork = 10;  // a stack's exact unread count
constexpr int64_t kNone = std::numeric_limits<int64_t>::min();

int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }
int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
int64_t floor_mod(int64_t a, int64_t b) { return a - floor_div(a, b) * b; }

// Inverse of a modulo m (gcd(a, m) = 1, m > 1).
int64_t inverse_mod(int64_t a, int64_t m) {
    int64_t old_r = a, r = m, old_s = 1, s = 0;
    while (r != 0) {
        int64_t q = old_r / r;
        std::tie(old_r, r) = std::pair{r, old_r - q * r};
        std::tie(old_s, s) = std::pair{s, old_s - q * s};
    }
    return floor_mod(old_s, m);
}

__extension__ typedef __int128 Wide;  // a product of two values below 2^63, reduced before it narrows

int64_t mul_mod(int64_t a, int64_t b, int64_t m) {
    return static_cast<int64_t>(static_cast<Wide>(a) * b % m);
}

// ---- fingerprints: 128 bits of an exact description, so classes are told apart without keeping it ----

struct Fingerprint {
    uint64_t a = 0, b = 0;
    bool operator==(const Fingerprint&) const = default;
};
struct FingerprintHash {
    size_t operator()(const Fingerprint& f) const {
        return static_cast<size_t>(f.a ^ (f.b * 0x9e3779b97f4a7c15ULL));
    }
};

uint64_t splitmix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

class Hasher {
public:
    Hasher& add(int64_t value) {
        auto v = static_cast<uint64_t>(value);
        a_ = splitmix(a_ ^ v);
        b_ = splitmix(b_ + v * 0xff51afd7ed558ccdULL + 0x2545f4914f6cdd1dULL);
        return *this;
    }
    Fingerprint done() const { return {a_, b_}; }

private:
    uint64_t a_ = 0x243f6a8885a308d3ULL, b_ = 0x13198a2e03707344ULL;
};

// ---- settings ----

enum class OutputPaddingMode { none, null, explicit_value };
// What a layer without weights does over a window; `one`: each window is one step (max = mean = pick).
enum class Reduce { max, mean, one };
enum Tag : int64_t { kTagWeighted = 1, kTagWeightFree = 2, kTagPair = 3 };

bool is_conv(LayerType t) { return t == LayerType::conv1d || t == LayerType::conv1d_transpose; }
bool is_pool(LayerType t) { return t == LayerType::max_pool1d || t == LayerType::avg_pool1d; }
// Output length falls as the stride grows (conv, pools) or rises (conv1d_transpose, upsample1d).
bool shrinks(LayerType t) { return t == LayerType::conv1d || is_pool(t); }

// A layer setting without its stride (and without its output_padding when that is explicit).
struct LayerShape {
    LayerType type = LayerType::conv1d;
    int64_t kernel = 1;  // kernel_size or pool_size; unused for upsample1d (its size plays the stride's part)
    int64_t dilation = 1;
    PaddingKind padding = PaddingKind::valid;
    OutputPaddingMode output_padding = OutputPaddingMode::none;
    int64_t weights() const { return is_conv(type) ? kernel : 0; }
};

// How a layer's output steps read its input steps.
//   window:    output o reads input o*stride + offset + j*tap_step, j < taps (conv1d, pools)
//   transpose: input i adds into output i*stride + offset + j*tap_step, j < taps (conv1d_transpose)
//   repeat:    output o reads input o / stride (upsample1d; stride = size)
struct Access {
    enum class Kind { window, transpose, repeat } kind = Kind::window;
    int64_t in = 0, out = 0, stride = 1, taps = 1, tap_step = 1, offset = 0;
};

// One single-layer setting with everything the search needs; a Candidate is made only for listed ones.
struct Setting {
    LayerType type = LayerType::conv1d;
    PaddingKind padding = PaddingKind::valid;
    int64_t kernel = 1;  // kernel_size, pool_size or size
    int64_t dilation = 1;
    int64_t stride = 1;           // 1 for upsample1d
    int64_t output_padding = -1;  // -1: null (or not a conv1d_transpose)
    int64_t in = 0, out = 0;
    int64_t pad_left = 0, pad_right = 0;  // conv1d_transpose: crop
    int64_t unread = 0;
    bool reads_only_padding = false;

    int64_t weights() const { return is_conv(type) ? kernel : 0; }
    bool padded() const { return pad_left != 0 || pad_right != 0; }
    bool dilated() const { return dilation > 1; }
    int64_t taps() const { return type == LayerType::upsample1d ? 1 : kernel; }
    Access access() const {
        Access a;
        a.in = in;
        a.out = out;
        switch (type) {
            case LayerType::conv1d_transpose:
                a.kind = Access::Kind::transpose;
                a.offset = -pad_left;
                break;
            case LayerType::upsample1d:
                a.kind = Access::Kind::repeat;
                a.stride = kernel;
                return a;
            default:
                a.offset = -pad_left;
                break;
        }
        a.stride = stride;
        a.taps = kernel;
        a.tap_step = type == LayerType::conv1d || type == LayerType::conv1d_transpose ? dilation : 1;
        return a;
    }
};

using RankKey = std::array<int64_t, 11>;

RankKey rank_key(const Setting& s) {
    int64_t padding_rank = s.padding == PaddingKind::valid ? 0 : s.padding == PaddingKind::same ? 1 : 2;
    return {s.weights(),
            s.padded(),
            s.dilated(),
            s.unread,
            s.reads_only_padding,
            s.stride,
            static_cast<int64_t>(s.type),
            padding_rank,
            s.output_padding,
            s.kernel,
            s.dilation};
}

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
StepSet read_inputs(const Access& a, const StepSet& outputs) {
    StepSet inputs;
    switch (a.kind) {
        case Access::Kind::window:
            inputs.step = outputs.step * a.stride;
            for (const auto& r : outputs.runs)
                for (int64_t j = 0; j < a.taps; ++j)
                    add_clipped(inputs, r.first * a.stride + a.offset + j * a.tap_step, r.count, a.in);
            break;
        case Access::Kind::transpose: {
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
        case Access::Kind::repeat: {
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
int64_t covered_outputs(const Access& a) {
    StepSet covered;
    switch (a.kind) {
        case Access::Kind::window:
            for (int64_t j = 0; j < a.taps; ++j) {
                int64_t off = a.offset + j * a.tap_step;
                int64_t lo = std::max<int64_t>(0, ceil_div(-off, a.stride));
                int64_t hi = std::min(a.out - 1, floor_div(a.in - 1 - off, a.stride));
                if (lo <= hi) covered.runs.push_back({lo, hi - lo + 1});
            }
            break;
        case Access::Kind::transpose:
            covered.step = a.stride;
            for (int64_t j = 0; j < a.taps; ++j) add_clipped(covered, a.offset + j * a.tap_step, a.in, a.out);
            break;
        case Access::Kind::repeat:
            return a.out;
    }
    return count_distinct(covered);
}

// ---- the exact description of a layer without weights: its window sequence, run-length coded ----

struct InputRange {
    int64_t lo, hi;  // input steps lo..hi (empty when lo > hi)
};

InputRange window_at(const Setting& s, int64_t o) {
    if (s.type == LayerType::upsample1d) return {o / s.kernel, o / s.kernel};
    int64_t start = o * s.stride - s.pad_left;
    return {std::max<int64_t>(0, start), std::min(s.in - 1, start + s.kernel - 1)};
}

// A run of windows whose ends move by constant amounts.
struct WindowRun {
    int64_t lo, hi, dlo, dhi, length;
    bool operator==(const WindowRun&) const = default;
};

// Greedy run-length code of a window sequence: maximal runs of constant differences. It is a function of the
// sequence alone (however it is computed), so equal codes mean equal sequences. `next_change(t)` is the first
// index c > t at which the difference window(c+1) - window(c) may differ from the one before (or n when
// none).
template <typename At, typename NextChange>
std::vector<WindowRun> run_code(int64_t n, At&& at, NextChange&& next_change) {
    std::vector<WindowRun> runs;
    auto diff = [&](int64_t t) {
        InputRange a = at(t), b = at(t + 1);
        return std::pair{b.lo - a.lo, b.hi - a.hi};
    };
    for (int64_t i = 0; i < n;) {
        InputRange w = at(i);
        if (i == n - 1) {
            runs.push_back({w.lo, w.hi, 0, 0, 1});
            break;
        }
        auto delta = diff(i);
        int64_t end = n - 1, t = i;
        while (true) {
            int64_t c = next_change(t);
            if (c > n - 2) break;
            if (diff(c) != delta) {
                end = c;
                break;
            }
            t = c;
        }
        runs.push_back({w.lo, w.hi, delta.first, delta.second, end - i + 1});
        i = end + 1;
    }
    return runs;
}

// The indices t at which a layer's window difference window(t+1) - window(t) may differ from the one before.
struct Changes {
    int64_t block = 0;                // upsample1d: the size; t % size in {0, size-1}
    std::array<int64_t, 4> points{};  // pools, sorted
    int64_t next(int64_t t) const {   // the first one after t
        if (block == 1) return std::numeric_limits<int64_t>::max();
        if (block > 1) {
            int64_t next_start = (t / block + 1) * block;
            int64_t next_end =
                t % block == block - 1 ? next_start + block - 1 : (t / block) * block + block - 1;
            return std::min(next_start, next_end);
        }
        for (int64_t c : points)
            if (c > t) return c;
        return std::numeric_limits<int64_t>::max();
    }
};

Changes changes_of(const Setting& s) {
    Changes c;
    if (s.type == LayerType::upsample1d) {
        c.block = s.kernel;  // the difference is 1 where a block of `size` repeats ends, 0 inside it
        return c;
    }
    // Window starts are clipped at 0 before o_start and ends at in-1 from o_end on: differences change there.
    int64_t o_start = ceil_div(s.pad_left, s.stride);
    int64_t o_end = floor_div(s.in - 1 + s.pad_left - (s.kernel - 1), s.stride) + 1;
    c.points = {o_start - 1, o_start, o_end - 1, o_end};
    std::sort(c.points.begin(), c.points.end());
    return c;
}

std::vector<WindowRun> window_code(const Setting& s) {
    Changes changes = changes_of(s);
    return run_code(
        s.out, [&](int64_t o) { return window_at(s, o); }, [&](int64_t t) { return changes.next(t); });
}

Reduce reduce_of(LayerType type, const std::vector<WindowRun>& runs) {
    bool single = std::all_of(runs.begin(), runs.end(), [](const WindowRun& r) {
        return r.hi == r.lo && r.dhi == r.dlo;  // hi - lo is 0 at the start and does not change along the run
    });
    if (single || type == LayerType::upsample1d) return Reduce::one;
    return type == LayerType::max_pool1d ? Reduce::max : Reduce::mean;
}

bool is_identity(int64_t in, int64_t out, Reduce reduce, const std::vector<WindowRun>& runs) {
    if (in != out || reduce != Reduce::one || runs.size() != 1) return false;
    const WindowRun& r = runs.front();
    return r.lo == 0 && r.hi == 0 && (out == 1 || (r.dlo == 1 && r.dhi == 1));
}

Fingerprint weight_free_fingerprint(Reduce reduce, int64_t in, int64_t out,
                                    const std::vector<WindowRun>& runs) {
    Hasher h;
    h.add(kTagWeightFree)
        .add(static_cast<int64_t>(reduce))
        .add(in)
        .add(out)
        .add(static_cast<int64_t>(runs.size()));
    for (const auto& r : runs) h.add(r.lo).add(r.hi).add(r.dlo).add(r.dhi).add(r.length);
    return h.done();
}

// Layers with weights: per kernel tap, the steps it connects (an interval of one side, mapped with slope
// stride).
Fingerprint weighted_fingerprint(const Setting& s) {
    Access a = s.access();
    Hasher h;
    h.add(kTagWeighted).add(static_cast<int64_t>(s.type)).add(s.kernel).add(s.in).add(s.out);
    const bool transpose = a.kind == Access::Kind::transpose;
    const int64_t from_length = transpose ? a.in : a.out, to_length = transpose ? a.out : a.in;
    for (int64_t j = 0; j < a.taps; ++j) {
        int64_t off = a.offset + j * a.tap_step;
        int64_t lo = std::max<int64_t>(0, ceil_div(-off, a.stride));
        int64_t hi = std::min(from_length - 1, floor_div(to_length - 1 - off, a.stride));
        if (lo > hi)
            h.add(-1).add(-1).add(-1).add(-1);
        else
            h.add(lo).add(hi).add(lo * a.stride + off).add(hi > lo ? a.stride : 0);
    }
    return h.done();
}

// A setting with its rank, its class and (for layers without weights) its window sequence summary.
struct Found {
    Setting setting;
    Fingerprint fingerprint;
    Reduce reduce = Reduce::one;
    bool identity = false;
};

bool ranks_before(const Found& a, const Found& b) { return rank_key(a.setting) < rank_key(b.setting); }

// ---- the search ----

struct Search {
    const PlanQuery& query;
    int64_t max_stride;
    int64_t work = 0;  // length-rule evaluations and stack evaluations
};

int64_t output_length(const LayerShape& shape, int64_t in, int64_t stride,
                      std::optional<int64_t> output_padding, Search& search) {
    ++search.work;
    switch (shape.type) {
        case LayerType::conv1d:
            return conv_window(in, shape.kernel, stride, shape.dilation, PaddingSpec{shape.padding, 0, 0})
                .output_length;
        case LayerType::max_pool1d:
        case LayerType::avg_pool1d:
            return conv_window(in, shape.kernel, stride, 1, PaddingSpec{shape.padding, 0, 0}).output_length;
        case LayerType::conv1d_transpose:
            return transpose_window(in, shape.kernel, stride, shape.dilation, shape.padding, output_padding)
                .output_length;
        case LayerType::upsample1d:
            return checked_mul(in, stride);  // UpSampling1D repeats each step `size` times
        default:
            return 0;
    }
}

// Smallest x in [lo, hi] with pred(x) true (pred false...true over the range), or hi + 1.
template <typename Pred>
int64_t first_true(int64_t lo, int64_t hi, Pred&& pred) {
    while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (pred(mid))
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return lo;
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

// Calls emit(stride, output_padding or -1, output length) for every setting of `shape` on an input of length
// `in` whose output length lies in [lo, hi], until emit returns false. Where the stride cannot matter (one
// output step of a conv or pool, one input step of a transposed conv) only the smallest stride for each
// output length is given.
template <typename Emit>
void for_each_setting(const LayerShape& shape, int64_t in, int64_t lo, int64_t hi, Search& search,
                      Emit&& emit) {
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
                if (!emit(s, op, out)) return;
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
        if (!emit(s, -1, out)) return;
        if (!matters && shrinks(shape.type)) break;  // every larger stride also gives the one step
    }
}

// A setting with its pads from the length module; unread steps and coverage still unknown (zero).
Setting base_setting(const LayerShape& shape, int64_t in, int64_t stride, int64_t output_padding,
                     int64_t out) {
    Setting s;
    s.type = shape.type;
    s.padding = shape.padding;
    s.kernel = shape.type == LayerType::upsample1d ? stride : shape.kernel;
    s.dilation = is_conv(shape.type) ? shape.dilation : 1;
    s.stride = shape.type == LayerType::upsample1d ? 1 : stride;
    s.output_padding = output_padding;
    s.in = in;
    s.out = out;
    if (shape.type == LayerType::conv1d_transpose) {
        TransposeWindow w =
            transpose_window(in, shape.kernel, stride, shape.dilation, shape.padding,
                             output_padding < 0 ? std::nullopt : std::optional<int64_t>(output_padding));
        s.pad_left = w.crop_left;
        s.pad_right = w.crop_right;
    } else if (shape.type != LayerType::upsample1d) {
        Window w = conv_window(in, shape.kernel, stride, s.dilation, PaddingSpec{shape.padding, 0, 0});
        s.pad_left = w.pad_left;
        s.pad_right = w.pad_right;
    }
    return s;
}

// The full setting: unread steps and coverage from the access pattern, and its class.
Found make_found(Setting s) {
    Access a = s.access();
    s.unread = s.in - count_distinct(read_inputs(a, all_steps(s.out)));
    s.reads_only_padding = covered_outputs(a) < s.out;
    Found f;
    f.setting = s;
    if (is_conv(s.type)) {
        f.fingerprint = weighted_fingerprint(s);
    } else {
        std::vector<WindowRun> runs = window_code(s);
        f.reduce = reduce_of(s.type, runs);
        f.identity = is_identity(s.in, s.out, f.reduce, runs);
        f.fingerprint = weight_free_fingerprint(f.reduce, s.in, s.out, runs);
    }
    return f;
}

Found make_found(const LayerShape& shape, int64_t in, int64_t stride, int64_t output_padding, int64_t out) {
    return make_found(base_setting(shape, in, stride, output_padding, out));
}

// Sorts by rank and keeps the best member of each class.
void keep_best_of_each_class(std::vector<Found>& found) {
    std::sort(found.begin(), found.end(), ranks_before);
    std::unordered_set<Fingerprint, FingerprintHash> seen;
    std::erase_if(found, [&](const Found& f) { return !seen.insert(f.fingerprint).second; });
}

// Every class of single-layer settings from `in` to exactly `out` among the shapes, best member each, ranked.
std::vector<Found> single_layers(const std::vector<LayerShape>& shapes, int64_t in, int64_t out,
                                 Search& search) {
    std::vector<Found> found;
    for (const auto& shape : shapes)
        for_each_setting(shape, in, out, out, search, [&](int64_t s, int64_t op, int64_t length) {
            found.push_back(make_found(shape, in, s, op, length));
            return true;
        });
    keep_best_of_each_class(found);
    return found;
}

// How many settings (before merging classes) map `in` to `out`: the stride ranges, without building them.
int64_t count_settings(const std::vector<LayerShape>& shapes, int64_t in, int64_t out, Search& search) {
    int64_t total = 0;
    for (const auto& shape : shapes) {
        auto [s_lo, s_hi] = stride_range(shape, in, out, out, search);
        if (s_lo <= s_hi) total += stride_matters(shape, in, out) ? s_hi - s_lo + 1 : 1;
    }
    return total;
}

// ---- a bounded, class-merging list of the best items ----

template <typename Item, size_t N>
class TopList {
public:
    using Key = std::array<int64_t, N>;
    explicit TopList(size_t capacity) : capacity_(capacity) {}

    bool full() const { return capacity_ > 0 && entries_.size() >= capacity_; }
    // False when nothing ranking at or after `bound` can enter any more.
    bool open_to(const Key& bound) const { return !full() || bound < entries_.rbegin()->first; }
    bool truncated() const { return truncated_; }
    const Key& last() const { return entries_.rbegin()->first; }  // the list must not be empty
    bool has_class(const Fingerprint& f) const { return classes_.count(f) > 0; }
    void note_left_out(const Fingerprint& f) {
        if (!has_class(f)) truncated_ = true;
    }
    void mark_truncated() { truncated_ = true; }

    void insert(const Key& key, const Fingerprint& fingerprint, Item item) {
        auto known = classes_.find(fingerprint);
        if (known != classes_.end()) {
            if (!(key < known->second)) return;  // the class is listed by a member that ranks no later
            entries_.erase(known->second);
            known->second = key;
            entries_.emplace(key, std::pair{fingerprint, std::move(item)});
            return;
        }
        if (full() && !(key < entries_.rbegin()->first)) {
            truncated_ = true;
            return;
        }
        entries_.emplace(key, std::pair{fingerprint, std::move(item)});
        classes_.emplace(fingerprint, key);
        if (capacity_ > 0 && entries_.size() > capacity_) {
            // Forgetting the evicted class is safe: a later member can only enter by ranking before the new
            // last.
            auto last = std::prev(entries_.end());
            classes_.erase(last->second.first);
            entries_.erase(last);
            truncated_ = true;
        }
    }

    std::vector<Item> items() const {
        std::vector<Item> out;
        for (const auto& [key, entry] : entries_) out.push_back(entry.second);
        return out;
    }

private:
    size_t capacity_;
    std::map<Key, std::pair<Fingerprint, Item>> entries_;
    std::unordered_map<Fingerprint, Key, FingerprintHash> classes_;
    bool truncated_ = false;
};

// The lowest rank key of any setting with these weights.
RankKey weight_bound(int64_t weights) {
    RankKey key;
    key.fill(kNone);
    key[0] = weights;
    return key;
}

// ---- listed results: LayerSpec, receptive field and a check of every length through make_plan ----

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
            if (s.output_padding >= 0) l.output_padding = s.output_padding;
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

Candidate finished_candidate(const Setting& s) {
    Candidate c = candidate_of(s);
    Plan plan = checked_plan({c.layer}, s.in, s.out);
    c.receptive_field = plan.layers[0].receptive_field.value_or(0);
    return c;
}

// ---- two-layer stacks ----

using StackKey = std::array<int64_t, 5 + 2 * std::tuple_size_v<RankKey>>;

StackKey stack_key(const Setting& a, const Setting& b, int64_t unread, bool reads_only_padding) {
    StackKey key{a.weights() + b.weights(), int64_t{a.padded()} + b.padded(),
                 int64_t{a.dilated()} + b.dilated(), unread, reads_only_padding};
    RankKey ka = rank_key(a), kb = rank_key(b);
    std::copy(ka.begin(), ka.end(), key.begin() + 5);
    std::copy(kb.begin(), kb.end(), key.begin() + 5 + ka.size());
    return key;
}

// Lowest key any stack with this first layer (and, if given, this second) could have.
StackKey stack_bound(const Setting& a, const Setting* b, int64_t total_weights, int64_t unread_bound) {
    StackKey key{};
    key.fill(kNone);
    key[0] = total_weights;
    key[1] = int64_t{a.padded()} + (b ? b->padded() : 0);
    key[2] = int64_t{a.dilated()} + (b ? b->dilated() : 0);
    key[3] = unread_bound;
    key[4] = a.reads_only_padding || (b && b->reads_only_padding);
    RankKey ka = rank_key(a);
    std::copy(ka.begin(), ka.end(), key.begin() + 5);
    if (b) {
        RankKey kb = rank_key(*b);
        std::copy(kb.begin(), kb.end(), key.begin() + 5 + ka.size());
    }
    return key;
}

// First o in [0, n) with key(o) >= target for a non-decreasing key, or n.
template <typename Key>
int64_t first_at_least(int64_t n, int64_t target, Key&& key) {
    return first_true(0, n - 1, [&](int64_t o) { return key(o) >= target; });
}

// Two layers without weights whose combined windows are again one window per output step: the class of that
// sequence (so it meets single layers and other stacks); otherwise none. Work stays proportional to the run
// codes of the two layers, not to the lengths: the combined differences change only where the second layer's
// do or where its window ends cross a run boundary of the first layer's windows.
std::optional<Fingerprint> combined_fingerprint(const Found& first, const Found& second, int64_t& work) {
    const Setting &a = first.setting, &b = second.setting;
    if (a.reads_only_padding || b.reads_only_padding) return std::nullopt;  // an empty window joins nothing
    Reduce reduce;
    if (second.reduce == Reduce::one)
        reduce = first.reduce;  // each output picks one intermediate step: that step's window
    else if (first.reduce == Reduce::one || first.reduce == second.reduce)
        reduce = second.reduce;
    else
        return std::nullopt;
    if (reduce == Reduce::mean && first.reduce == Reduce::mean && second.reduce == Reduce::mean)
        return std::nullopt;  // a mean of means weighs steps unevenly
    if (a.type == LayerType::upsample1d && b.type == LayerType::upsample1d) {
        Setting both = b;  // (o / z2) / z1 = o / (z1 * z2): one upsampling, coded without walking its blocks
        both.in = a.in;
        both.kernel = a.kernel * b.kernel;
        return weight_free_fingerprint(Reduce::one, a.in, b.out, window_code(both));
    }
    const std::vector<WindowRun> runs1 = window_code(a);
    auto lo2 = [&](int64_t o) { return window_at(b, o).lo; };
    auto hi2 = [&](int64_t o) { return window_at(b, o).hi; };
    work += static_cast<int64_t>(runs1.size());

    if (second.reduce != Reduce::one) {
        // Neighbours x, x+1 inside one second-layer window must join: no gap between their windows, and for a
        // mean over picked steps, exactly the next step (a repeated step would count twice).
        const bool exact_next = second.reduce == Reduce::mean;
        auto bad = [&](int64_t gap_term) { return exact_next ? gap_term != 1 : gap_term > 1; };
        std::vector<std::pair<int64_t, int64_t>>
            bad_ranges;  // intermediate steps x whose pair (x, x+1) is bad
        int64_t xs = 0;
        for (size_t r = 0; r < runs1.size(); ++r) {
            const WindowRun& run = runs1[r];
            const int64_t xe = xs + run.length - 1;
            // Inside the run: next.lo - this.hi = g0 + t*m at x = xs + t, 0 <= t <= xe-1-xs.
            const int64_t g0 = run.lo - run.hi + run.dlo, m = run.dlo - run.dhi, t_max = xe - 1 - xs;
            if (t_max >= 0) {
                if (m == 0) {
                    if (bad(g0)) bad_ranges.emplace_back(xs, xe - 1);
                } else if (exact_next) {
                    return std::nullopt;  // cannot happen: picked steps (the first layer's `one`) have m == 0
                } else {
                    // g > 1 holds on a suffix (m > 0) or a prefix (m < 0) of the run.
                    int64_t t_lo = m > 0 ? std::max<int64_t>(0, floor_div(1 - g0, m) + 1) : 0;
                    int64_t t_hi = m > 0 ? t_max : std::min(t_max, floor_div(g0 - 2, -m));
                    if (t_lo <= t_hi) bad_ranges.emplace_back(xs + t_lo, xs + t_hi);
                }
            }
            if (r + 1 < runs1.size()) {
                const WindowRun& next = runs1[r + 1];
                int64_t hi_end = run.hi + (run.length - 1) * run.dhi;
                if (bad(next.lo - hi_end)) bad_ranges.emplace_back(xe, xe);
            }
            xs = xe + 1;
        }
        for (const auto& [u, v] : bad_ranges) {
            // Second-layer windows holding a pair (x, x+1) with u <= x <= v: hi - 1 >= u and lo <= v, size
            // >= 2.
            int64_t o = first_at_least(b.out, u + 1, hi2);
            for (int scanned = 0; o < b.out && lo2(o) <= v; ++o, ++scanned) {
                if (hi2(o) > lo2(o)) return std::nullopt;
                if (scanned > 64) return std::nullopt;  // not worth more: left as its own class
            }
            work += 20;
        }
    }

    // Where the combined difference may change: around the second layer's own changes, and where its window
    // ends cross a boundary between runs of the first layer.
    std::vector<int64_t> changes;
    Changes changes2 = changes_of(b);
    for (int64_t c = changes2.next(-1); c <= b.out - 2; c = changes2.next(c))
        for (int64_t d = c - 1; d <= c + 1; ++d) changes.push_back(d);
    int64_t boundary = 0;
    for (size_t r = 0; r + 1 < runs1.size(); ++r) {
        boundary += runs1[r].length;
        for (bool upper : {false, true}) {
            int64_t o =
                first_at_least(b.out, boundary - 1, [&](int64_t t) { return upper ? hi2(t) : lo2(t); });
            for (int64_t d = o - 2; d <= o + 2; ++d) changes.push_back(d);
        }
    }
    std::sort(changes.begin(), changes.end());
    changes.erase(std::unique(changes.begin(), changes.end()), changes.end());
    work += static_cast<int64_t>(changes.size()) * 4;
    auto at = [&](int64_t o) {
        InputRange outer = window_at(b, o);
        return InputRange{window_at(a, outer.lo).lo, window_at(a, outer.hi).hi};
    };
    auto runs = run_code(b.out, at, [&](int64_t t) {
        auto it = std::upper_bound(changes.begin(), changes.end(), t);
        return it == changes.end() ? std::numeric_limits<int64_t>::max() : *it;
    });
    if (reduce_of(LayerType::avg_pool1d, runs) == Reduce::one) reduce = Reduce::one;
    return weight_free_fingerprint(reduce, a.in, b.out, runs);
}

Fingerprint stack_fingerprint(const Found& first, const Found& second, int64_t& work) {
    if (!is_conv(first.setting.type) && !is_conv(second.setting.type))
        if (auto combined = combined_fingerprint(first, second, work)) return *combined;
    Hasher h;
    h.add(kTagPair)
        .add(static_cast<int64_t>(first.fingerprint.a))
        .add(static_cast<int64_t>(first.fingerprint.b))
        .add(static_cast<int64_t>(second.fingerprint.a))
        .add(static_cast<int64_t>(second.fingerprint.b));
    return h.done();
}

int64_t stack_unread(const Setting& a, const Setting& b) {
    return a.in - count_distinct(read_inputs(a.access(), read_inputs(b.access(), all_steps(b.out))));
}

// Intermediate lengths (a superset, as sorted disjoint intervals) from which some shape reaches `out`.
// Lengths grow with the input, so for each shape the lengths where its shortest and longest outputs bracket
// `out` are found by binary search; upsample1d reaches `out` only from its divisors.
std::vector<std::pair<int64_t, int64_t>> intermediate_ranges(const std::vector<LayerShape>& shapes,
                                                             int64_t out, Search& search) {
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

struct StackItem {
    Setting first, second;
    int64_t unread = 0;
    bool reads_only_padding = false;
};

// Branch and bound over levels of total weight. At each level, first-layer shapes and then the second-layer
// shapes are taken in order of a lower bound on the key of any stack they can start, and each setting is held
// to such a bound before it is built; once the list is full (and known to leave something out) and the bound
// is no better than its last entry, the rest is skipped. The unread bound: every final step reads at most
// taps2 intermediate steps, each of which reads at most taps1 input steps.
class TwoLayerSearch {
public:
    TwoLayerSearch(const PlanQuery& q, Search& search,
                   std::unordered_set<Fingerprint, FingerprintHash> singles)
        : q_(q), search_(search), singles_(std::move(singles)), list_(static_cast<size_t>(q.two_layer_top)) {}

    void run() {
        auto allowed = [&](LayerType t) {
            return std::find(q_.types.begin(), q_.types.end(), t) != q_.types.end();
        };
        if (allowed(LayerType::max_pool1d) || allowed(LayerType::avg_pool1d) ||
            allowed(LayerType::upsample1d))
            weights_.push_back(0);
        if (allowed(LayerType::conv1d) || allowed(LayerType::conv1d_transpose))
            for (int64_t k = 1; k <= q_.max_kernel; ++k) weights_.push_back(k);
        if (weights_.empty()) return;
        // Every stack of a level ranks before every stack of the next: the search ends with the first level
        // after which the list is full and something more is known to exist.
        for (int64_t total = 0; total <= 2 * weights_.back() && search_.work < kTwoLayerBudget; ++total) {
            level_budget_end_ = search_.work + (kTwoLayerBudget - search_.work) / 2;
            run_level(total);
            if (list_.full() && list_.truncated()) break;
        }
    }

    std::vector<StackItem> items() const { return list_.items(); }
    bool truncated() const { return list_.truncated(); }
    bool cut() const { return cut_; }

private:
    // Each level may spend at most half of what is left, so that a level with nothing new to give (all its
    // stacks equal single layers) cannot starve the levels after it.
    bool over_budget() {
        if (search_.work > level_budget_end_) cut_ = true;
        return search_.work > level_budget_end_;
    }

    // True when a stack ranking at or after `bound` can be skipped without losing anything: the list is full,
    // and what it leaves out is already known to be more than nothing.
    bool closed(const StackKey& bound) const { return list_.truncated() && !list_.open_to(bound); }

    // The shortest intermediate length from which a first layer with `taps` taps can still start a stack that
    // enters: once the last entry has no padded or dilated layer, a newcomer may leave no more input steps
    // unread than it, and reads at most `taps` input steps per intermediate step.
    int64_t shortest_useful(int64_t total, int64_t taps) const {
        if (!list_.full() || !list_.truncated()) return 1;
        const StackKey& last = list_.last();
        if (last[0] != total || last[1] != 0 || last[2] != 0) return 1;
        return ceil_div(q_.in_length - last[3], taps);
    }

    bool has_weight(int64_t w) const {
        return std::find(weights_.begin(), weights_.end(), w) != weights_.end();
    }

    const std::vector<LayerShape>& shapes_for(int64_t weights) {
        auto it = shapes_.find(weights);
        if (it == shapes_.end()) it = shapes_.emplace(weights, layer_shapes(q_, weights)).first;
        return it->second;
    }

    const std::vector<std::pair<int64_t, int64_t>>& ranges_for(int64_t weights) {
        auto it = ranges_.find(weights);
        if (it == ranges_.end())
            it = ranges_.emplace(weights, intermediate_ranges(shapes_for(weights), q_.out_length, search_))
                     .first;
        return it->second;
    }

    // Settings of one second-layer shape from an intermediate length to the output length.
    const std::vector<Found>& second_settings(int64_t length, int64_t weights, size_t shape_index) {
        auto key = std::tuple{length, weights, shape_index};
        auto it = seconds_.find(key);
        if (it != seconds_.end()) return it->second;
        const LayerShape& shape = shapes_for(weights)[shape_index];
        std::vector<Found> found;
        for_each_setting(shape, length, q_.out_length, q_.out_length, search_,
                         [&](int64_t s, int64_t op, int64_t out) {
                             found.push_back(make_found(shape, length, s, op, out));
                             search_.work += kFoundWork;
                             return true;
                         });
        return seconds_.emplace(key, std::move(found)).first->second;
    }

    static int64_t shape_taps(const LayerShape& shape) {
        return shape.type == LayerType::upsample1d ? 1 : shape.kernel;
    }

    int64_t unread_bound(int64_t unread1, int64_t reads_bound) const {
        return std::max(unread1, q_.in_length - std::min(q_.in_length, reads_bound));
    }

    void run_level(int64_t total) {
        struct FirstShape {
            StackKey bound;
            const LayerShape* shape;
            int64_t w2;
        };
        std::vector<FirstShape> first_shapes;
        for (int64_t w1 : weights_) {
            int64_t w2 = total - w1;
            if (!has_weight(w2) || ranges_for(w2).empty()) continue;
            const int64_t most_taps2 = w2 > 0 ? w2 : q_.max_kernel;
            for (const auto& shape : shapes_for(w1)) {
                StackKey bound;
                bound.fill(kNone);
                bound[0] = total;
                bound[1] = 0;
                bound[2] = is_conv(shape.type) && shape.dilation > 1;
                bound[3] = unread_bound(0, q_.out_length * most_taps2 * shape_taps(shape));
                bound[4] = 0;
                bound[5] = w1;
                first_shapes.push_back({bound, &shape, w2});
            }
        }
        // Equal bounds: valid padding first, then larger kernels (they read more), then type order, so that
        // good stacks fill the list early and the bounds close sooner.
        auto order = [](const FirstShape& f) {
            return std::tuple{f.bound,
                              f.shape->padding != PaddingKind::valid,
                              -f.shape->kernel,
                              f.shape->type,
                              f.shape->padding,
                              f.shape->dilation,
                              f.shape->output_padding};
        };
        std::sort(first_shapes.begin(), first_shapes.end(),
                  [&](const FirstShape& x, const FirstShape& y) { return order(x) < order(y); });
        for (const FirstShape& fs : first_shapes) {
            if (closed(fs.bound) || over_budget()) break;
            const int64_t most_taps2 = fs.w2 > 0 ? fs.w2 : q_.max_kernel;
            // Settings stream in stride order; each is first held to a bound from its pads alone (unread
            // steps taken as none), and built in full only if a stack starting with it could still enter the
            // list.
            for (const auto& [lo, hi] : ranges_for(fs.w2))
                for_each_setting(*fs.shape, q_.in_length, lo, std::min(hi, kPlannerMaxLength), search_,
                                 [&](int64_t s, int64_t op, int64_t out) {
                                     if (over_budget() || closed(fs.bound)) return false;
                                     if (out < shortest_useful(total, shape_taps(*fs.shape)))
                                         return !shrinks(fs.shape->type);  // shrinking: larger strides too
                                     Setting base = base_setting(*fs.shape, q_.in_length, s, op, out);
                                     // At most min(out, M * taps2) intermediate steps are read, each reading
                                     // at most taps1 input steps.
                                     const int64_t reads =
                                         std::min(out, q_.out_length * most_taps2) * base.taps();
                                     if (closed(stack_bound(base, nullptr, total, unread_bound(0, reads))))
                                         return true;
                                     Found f = make_found(base);
                                     search_.work += kFoundWork;
                                     if (f.identity)
                                         return true;  // the stack would be its second layer alone
                                     int64_t bound = unread_bound(f.setting.unread, reads);
                                     if (closed(stack_bound(f.setting, nullptr, total, bound))) return true;
                                     pair_up(f, fs.w2, total);
                                     return true;
                                 });
        }
    }

    void pair_up(const Found& first, int64_t w2, int64_t total) {
        const Setting& a = first.setting;
        const auto& shapes = shapes_for(w2);
        std::vector<std::pair<StackKey, size_t>> order;
        for (size_t i = 0; i < shapes.size(); ++i) {
            StackKey bound = stack_bound(
                a, nullptr, total,
                unread_bound(a.unread, std::min(q_.out_length * shape_taps(shapes[i]), a.out) * a.taps()));
            bound[2] += is_conv(shapes[i].type) && shapes[i].dilation > 1;
            bound[5 + std::tuple_size_v<RankKey>] = w2;
            order.emplace_back(bound, i);
        }
        std::sort(order.begin(), order.end());
        for (const auto& [shape_bound, index] : order) {
            if (closed(shape_bound)) break;
            if (over_budget()) return;
            for (const Found& second : second_settings(a.out, w2, index)) {
                ++search_.work;
                if (second.identity) continue;  // the stack would be its first layer alone
                const Setting& b = second.setting;
                StackKey bound = stack_bound(
                    a, &b, total,
                    unread_bound(a.unread, std::min(q_.out_length * b.taps(), b.in - b.unread) * a.taps()));
                if (!list_.open_to(bound)) {
                    note_left_out(first, second);
                    continue;
                }
                // The exact key is cheap; the class (for two layers without weights, O(M) to find) only if it
                // can enter.
                StackItem item{a, b, stack_unread(a, b), a.reads_only_padding || b.reads_only_padding};
                search_.work += kStackWork;
                StackKey key = stack_key(a, b, item.unread, item.reads_only_padding);
                if (!list_.open_to(key)) {
                    note_left_out(first, second);
                    continue;
                }
                Fingerprint fingerprint = stack_fingerprint(first, second, search_.work);
                if (singles_.count(fingerprint)) continue;  // the stack computes what one single layer does
                list_.insert(key, fingerprint, item);
            }
        }
    }

    // A stack turned away by rank: the list is truncated if it is a class of its own (not listed, not a
    // single).
    void note_left_out(const Found& first, const Found& second) {
        if (list_.truncated()) return;
        Fingerprint fingerprint = stack_fingerprint(first, second, search_.work);
        if (!singles_.count(fingerprint)) list_.note_left_out(fingerprint);
    }

    const PlanQuery& q_;
    Search& search_;
    std::unordered_set<Fingerprint, FingerprintHash> singles_;
    TopList<StackItem, std::tuple_size_v<StackKey>> list_;
    std::vector<int64_t> weights_;
    std::map<std::tuple<int64_t, int64_t, size_t>, std::vector<Found>> seconds_;
    std::map<int64_t, std::vector<LayerShape>> shapes_;
    std::map<int64_t, std::vector<std::pair<int64_t, int64_t>>> ranges_;
    bool cut_ = false;
    int64_t level_budget_end_ = 0;
};

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

std::string type_list() {
    std::string text;
    const auto& types = planner_types();
    for (size_t i = 0; i < types.size(); ++i)
        text += std::string(i == 0 ? "" : i + 1 == types.size() ? " or " : ", ") + to_string(types[i]);
    return text;
}

void check_range(const std::string& flag, int64_t value, int64_t lo, int64_t hi) {
    if (value < lo || value > hi)
        throw Error(ErrorKind::usage, flag + " " + std::to_string(value) + ": must be between " +
                                          std::to_string(lo) + " and " + std::to_string(hi));
}

}  // namespace

const std::vector<LayerType>& planner_types() {
    static const std::vector<LayerType> types{LayerType::conv1d, LayerType::conv1d_transpose,
                                              LayerType::max_pool1d, LayerType::avg_pool1d,
                                              LayerType::upsample1d};
    return types;
}

std::optional<LayerType> planner_type_from_string(const std::string& name) {
    for (LayerType t : planner_types())
        if (name == to_string(t)) return t;
    return std::nullopt;
}

void validate_query(const PlanQuery& q) {
    check_range("--in-length", q.in_length, 1, kPlannerMaxLength);
    check_range("--out-length", q.out_length, 1, kPlannerMaxLength);
    check_range("--max-kernel", q.max_kernel, 1, kPlannerMaxKernelDilation);
    check_range("--max-dilation", q.max_dilation, 1, kPlannerMaxKernelDilation);
    if (q.max_kernel * q.max_dilation > kPlannerMaxKernelDilation)
        throw Error(ErrorKind::usage, "--max-kernel " + std::to_string(q.max_kernel) + " x --max-dilation " +
                                          std::to_string(q.max_dilation) + " = " +
                                          std::to_string(q.max_kernel * q.max_dilation) + ": at most " +
                                          std::to_string(kPlannerMaxKernelDilation) +
                                          " pairs can be searched");
    if (q.types.empty()) throw Error(ErrorKind::usage, "--types: name at least one of " + type_list());
    for (LayerType t : q.types)
        if (std::find(planner_types().begin(), planner_types().end(), t) == planner_types().end())
            throw Error(ErrorKind::usage, std::string("--types: the planner cannot search ") + to_string(t) +
                                              " (expected " + type_list() + ")");
    if (q.top != 0) check_range("--top", q.top, 1, kPlannerMaxListed);
    check_range("--top", q.two_layer_top, 1, kPlannerMaxListed);
}

PlanResult search_plan(const PlanQuery& q) {
    validate_query(q);
    Search search{q, std::max(q.in_length, q.out_length)};
    PlanResult result;
    std::vector<LayerShape> shapes = layer_shapes(q, std::nullopt);

    if (q.top == 0) {
        int64_t settings = count_settings(shapes, q.in_length, q.out_length, search);
        if (settings > kPlannerMaxListed)
            throw Error(ErrorKind::usage,
                        "plan: " + std::to_string(settings) + " settings map length " +
                            std::to_string(q.in_length) + " to " + std::to_string(q.out_length) +
                            " within these bounds, more than " + std::to_string(kPlannerMaxListed) +
                            " to list; pass --top N, or narrow --types, --max-kernel or --max-dilation");
        for (const Found& f : single_layers(shapes, q.in_length, q.out_length, search))
            result.candidates.push_back(finished_candidate(f.setting));
    } else {
        // Shapes come lightest first, so once the list is full most settings are turned away by their
        // weights, and most others by a bound from their pads alone (unread steps taken as none) before they
        // are built.
        TopList<Setting, std::tuple_size_v<RankKey>> list(static_cast<size_t>(q.top));
        for (const auto& shape : shapes) {
            for_each_setting(shape, q.in_length, q.out_length, q.out_length, search,
                             [&](int64_t s, int64_t op, int64_t out) {
                                 if (!list.open_to(weight_bound(shape.weights()))) {
                                     list.mark_truncated();  // heavier than every listed class: a new class
                                     return false;
                                 }
                                 Setting base = base_setting(shape, q.in_length, s, op, out);
                                 if (!list.open_to(rank_key(base)) && list.truncated()) return true;
                                 Found f = make_found(base);
                                 list.insert(rank_key(f.setting), f.fingerprint, f.setting);
                                 return true;
                             });
        }
        for (const Setting& s : list.items()) result.candidates.push_back(finished_candidate(s));
        result.candidates_truncated = list.truncated();
    }

    if (q.two_layer) {
        // Classes of single layers without weights, which a stack of two such layers may equal.
        std::unordered_set<Fingerprint, FingerprintHash> singles;
        for (const Found& f : single_layers(layer_shapes(q, 0), q.in_length, q.out_length, search))
            singles.insert(f.fingerprint);
        TwoLayerSearch two(q, search, std::move(singles));
        two.run();
        for (const StackItem& item : two.items()) result.stacks.push_back(finished_stack(item));
        result.stacks_truncated = two.truncated();
        result.stacks_search_cut = two.cut();
    }
    return result;
}

nlohmann::ordered_json layer_json(const LayerSpec& l, std::optional<int64_t> filters) {
    nlohmann::ordered_json j;
    j["type"] = to_string(l.type);
    switch (l.type) {
        case LayerType::conv1d:
        case LayerType::conv1d_transpose:
            if (filters) j["filters"] = *filters;
            j["kernel_size"] = l.kernel_size;
            j["strides"] = l.strides;
            j["padding"] = to_string(l.padding.kind);
            j["dilation_rate"] = l.dilation_rate;
            if (l.type == LayerType::conv1d_transpose)
                j["output_padding"] = l.output_padding ? nlohmann::ordered_json(*l.output_padding) : nullptr;
            break;
        case LayerType::max_pool1d:
        case LayerType::avg_pool1d:
            j["pool_size"] = l.pool_size;
            j["strides"] = l.strides;
            j["padding"] = to_string(l.padding.kind);
            break;
        case LayerType::upsample1d:
            j["size"] = l.size;
            break;
        default:
            break;
    }
    return j;
}

nlohmann::ordered_json config_json(const std::vector<LayerSpec>& layers, int64_t in_length,
                                   int64_t in_channels, int64_t out_channels) {
    nlohmann::ordered_json config;
    const int64_t out_length =
        make_plan(config_spec(layers, in_length, in_channels, out_channels), {1, in_length, in_channels})
            .output_shape.length;
    config["name"] = "plan-" + std::to_string(in_length) + "-to-" + std::to_string(out_length);
    config["description"] = "written by conv1d-reshape plan: the simplest setting found";
    config["input"] = {{"shape", {1, in_length, in_channels}}};
    config["layers"] = nlohmann::ordered_json::array();
    for (const auto& l : layers) config["layers"].push_back(layer_json(l, out_channels));
    return config;
}

ConfigSpec config_spec(const std::vector<LayerSpec>& layers, int64_t in_length, int64_t in_channels,
                       int64_t out_channels) {
    ConfigSpec config;
    config.source = "plan";
    config.name = "plan";
    config.input.shape = Dims3{1, in_length, in_channels};
    for (size_t i = 0; i < layers.size(); ++i) {
        LayerSpec l = layers[i];
        l.pointer = "/layers/" + std::to_string(i);
        if (is_conv(l.type)) l.filters = out_channels;
        config.layers.push_back(std::move(l));
    }
    return config;
}

std::string settings_text(const LayerSpec& l) {
    std::string text;
    switch (l.type) {
        case LayerType::conv1d:
        case LayerType::conv1d_transpose:
            text = "k" + std::to_string(l.kernel_size) + " s" + std::to_string(l.strides);
            if (l.dilation_rate > 1) text += " d" + std::to_string(l.dilation_rate);
            text += std::string(" ") + to_string(l.padding.kind);
            if (l.output_padding) text += " op" + std::to_string(*l.output_padding);
            break;
        case LayerType::max_pool1d:
        case LayerType::avg_pool1d:
            text = "p" + std::to_string(l.pool_size) + " s" + std::to_string(l.strides) + " " +
                   to_string(l.padding.kind);
            break;
        case LayerType::upsample1d:
            text = "x" + std::to_string(l.size);
            break;
        default:
            break;
    }
    return text;
}

}  // namespace c1r
