// Deduplicate: settings that compute the same thing are listed once.
//
// Two settings are the same computation when, for every input and every set of weights, they give the same
// output. For layers with weights (same type and kernel_size) that means every output step applies the same
// kernel tap to the same input step — each tap's map from output steps to input steps (conv1d) or input steps
// to output steps (conv1d_transpose), restricted to steps inside the data, is the same, and so is the output
// length. So: kernel_size 1 with any dilation is dilation 1; padding whose amounts come to zero is no padding
// (`same` with pads [0, 0] is `valid`, `causal` with kernel 1 is `valid`); an explicit output_padding equal to
// the default is null; with one output step (conv, pools) or one input step (conv1d_transpose) the stride does
// not matter. For layers without weights the output is a function of the input alone: each output step is
// the max or the mean of the input steps its window covers (padding excluded, as Keras), or one input step
// repeated (upsample1d). Windows of exactly one input step make max, mean and repetition the same computation
// (max_pool1d pool_size 1 = avg_pool1d pool_size 1 = a plain subsample). Each class is listed once, by its
// best-ranked member (rank.cpp). Classes are told apart by a 128-bit fingerprint of that exact description
// (per-tap maps, or the run-length code of the window sequence).
//
// Two layers: a stack with an identity layer is the other layer alone (two_layer.cpp leaves it out); two
// layers without weights whose combined windows are again a max / mean / subsample window sequence are
// compared as that sequence, so a stack that equals a single layer (or an earlier stack) is left out. Other
// compositions are not merged.
#include <algorithm>

#include "planner/int_math.hpp"
#include "planner/search.hpp"

namespace c1r::planner_detail {
namespace {

enum Tag : int64_t { kTagWeighted = 1, kTagWeightFree = 2, kTagPair = 3 };

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

// ---- the exact description of a layer without weights: its window sequence, run-length coded ----

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

// For the index map of a layer without weights.
Changes changes_of(const IndexMap& m) {
    Changes c;
    if (m.kind == IndexMap::Kind::repeat) {
        c.block = m.stride;  // the difference is 1 where a block of `size` repeats ends, 0 inside it
        return c;
    }
    // Window starts are clipped at 0 before o_start and ends at in-1 from o_end on: differences change there.
    int64_t o_start = ceil_div(-m.offset, m.stride);
    int64_t o_end = floor_div(m.in - 1 - m.offset - m.reach, m.stride) + 1;
    c.points = {o_start - 1, o_start, o_end - 1, o_end};
    std::sort(c.points.begin(), c.points.end());
    return c;
}

std::vector<WindowRun> window_code(const Setting& s) {
    const IndexMap m = s.index_map();
    Changes changes = changes_of(m);
    return run_code(
        s.out, [&](int64_t o) { return m.window(o); }, [&](int64_t t) { return changes.next(t); });
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

Fingerprint weight_free_fingerprint(Reduce reduce, int64_t in, int64_t out, const std::vector<WindowRun>& runs) {
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
    IndexMap a = s.index_map();
    Hasher h;
    h.add(kTagWeighted).add(static_cast<int64_t>(s.type)).add(s.kernel).add(s.in).add(s.out);
    const bool transpose = a.kind == IndexMap::Kind::transpose;
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
    const IndexMap map1 = a.index_map(), map2 = b.index_map();
    auto lo2 = [&](int64_t o) { return map2.window(o).lo; };
    auto hi2 = [&](int64_t o) { return map2.window(o).hi; };
    work += static_cast<int64_t>(runs1.size());

    if (second.reduce != Reduce::one) {
        // Neighbours x, x+1 inside one second-layer window must join: no gap between their windows, and for a
        // mean over picked steps, exactly the next step (a repeated step would count twice).
        const bool exact_next = second.reduce == Reduce::mean;
        auto bad = [&](int64_t gap_term) { return exact_next ? gap_term != 1 : gap_term > 1; };
        std::vector<std::pair<int64_t, int64_t>> bad_ranges;  // intermediate steps x whose pair (x, x+1) is bad
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
    Changes changes2 = changes_of(map2);
    for (int64_t c = changes2.next(-1); c <= b.out - 2; c = changes2.next(c))
        for (int64_t d = c - 1; d <= c + 1; ++d) changes.push_back(d);
    int64_t boundary = 0;
    for (size_t r = 0; r + 1 < runs1.size(); ++r) {
        boundary += runs1[r].length;
        for (bool upper : {false, true}) {
            int64_t o = first_at_least(b.out, boundary - 1, [&](int64_t t) { return upper ? hi2(t) : lo2(t); });
            for (int64_t d = o - 2; d <= o + 2; ++d) changes.push_back(d);
        }
    }
    std::sort(changes.begin(), changes.end());
    changes.erase(std::unique(changes.begin(), changes.end()), changes.end());
    work += static_cast<int64_t>(changes.size()) * 4;
    auto at = [&](int64_t o) {
        InputRange outer = map2.window(o);
        return InputRange{map1.window(outer.lo).lo, map1.window(outer.hi).hi};
    };
    auto runs = run_code(b.out, at, [&](int64_t t) {
        auto it = std::upper_bound(changes.begin(), changes.end(), t);
        return it == changes.end() ? std::numeric_limits<int64_t>::max() : *it;
    });
    if (reduce_of(LayerType::avg_pool1d, runs) == Reduce::one) reduce = Reduce::one;
    return weight_free_fingerprint(reduce, a.in, b.out, runs);
}

}  // namespace

Found classify(const Setting& s) {
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

void keep_best_of_each_class(std::vector<Found>& found) {
    std::sort(found.begin(), found.end(), ranks_before);
    FingerprintSet seen;
    std::erase_if(found, [&](const Found& f) { return !seen.insert(f.fingerprint).second; });
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

}  // namespace c1r::planner_detail
