// Internal to the planner: what the stages of the search share, and each stage's entry points.
//   enumerate.cpp  layer shapes, the strides that take a length into a range, intermediate lengths
//   evaluate.cpp   a setting's pads, unread steps and pad-only output steps; listed results through make_plan
//   dedupe.cpp     classes of settings that compute the same thing (fingerprints), of one and of two layers
//   rank.cpp       rank keys, and the bounded list that keeps the best member of each class
//   two_layer.cpp  branch and bound over two-layer stacks, built from the four above
//   extra.cpp      single-layer settings outside the stride enumeration (explicit paddings, crop, zero pad)
//   planner.cpp    the public API (planner.hpp); emit.cpp, the config writer, is not part of the search
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "planner/layer_rules.hpp"
#include "planner/planner.hpp"

namespace c1r::planner_detail {

constexpr int64_t kNone = std::numeric_limits<int64_t>::min();  // a bound's "anything" in a rank key

enum class OutputPaddingMode { none, null, explicit_value };
// What a layer without weights does over a window; `one`: each window is one step (max = mean = pick).
enum class Reduce { max, mean, one };

inline bool is_conv(LayerType t) { return t == LayerType::conv1d || t == LayerType::conv1d_transpose; }
inline bool is_pool(LayerType t) { return t == LayerType::max_pool1d || t == LayerType::avg_pool1d; }
inline bool is_edges(LayerType t) { return t == LayerType::cropping1d || t == LayerType::zero_padding1d; }
// Output length falls as the stride grows (conv, pools) or rises (conv1d_transpose, upsample1d).
inline bool shrinks(LayerType t) { return t == LayerType::conv1d || is_pool(t); }

// A layer setting without its stride (and without its output_padding when that is explicit).
struct LayerShape {
    LayerType type = LayerType::conv1d;
    int64_t kernel = 1;  // kernel_size or pool_size; unused for upsample1d (its size plays the stride's part)
    int64_t dilation = 1;
    PaddingKind padding = PaddingKind::valid;
    OutputPaddingMode output_padding = OutputPaddingMode::none;
    int64_t weights() const { return is_conv(type) ? kernel : 0; }
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
    IndexMap index_map() const {
        return planner_detail::index_map(type, kernel, dilation, stride, pad_left, in, out);
    }
};

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
using FingerprintSet = std::unordered_set<Fingerprint, FingerprintHash>;

// A setting with its class and (for layers without weights) its window sequence summary.
struct Found {
    Setting setting;
    Fingerprint fingerprint;
    Reduce reduce = Reduce::one;
    bool identity = false;
};

// The state of one search: the stride bound and the work done so far.
struct Search {
    int64_t max_stride;
    int64_t work = 0;  // length-rule evaluations and stack evaluations
};

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

// A non-owning reference to a callable bool(stride, output_padding or -1, output length); the callable must
// outlive the call it is passed to.
class SettingVisitor {
public:
    template <typename F>
        requires(!std::is_same_v<std::remove_cvref_t<F>, SettingVisitor>)
    SettingVisitor(F&& f)  // implicit, so that a lambda can be passed as it is
        : object_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
          call_([](void* o, int64_t s, int64_t op, int64_t out) -> bool {
              return (*static_cast<std::remove_reference_t<F>*>(o))(s, op, out);
          }) {}
    bool operator()(int64_t s, int64_t op, int64_t out) const { return call_(object_, s, op, out); }

private:
    void* object_;
    bool (*call_)(void*, int64_t, int64_t, int64_t);
};

// ---- enumerate.cpp ----

// A layer's output length (the length module's), counted as one unit of work.
int64_t output_length(const LayerShape& shape, int64_t in, int64_t stride, std::optional<int64_t> output_padding,
                      Search& search);
// The layer shapes of the query's types and bounds; with `weights`, only those with that many.
std::vector<LayerShape> layer_shapes(const PlanQuery& q, std::optional<int64_t> weights);
// Calls visit(stride, output_padding or -1, output length) for every setting of `shape` on an input of length
// `in` whose output length lies in [lo, hi], until visit returns false (see enumerate.cpp).
void for_each_setting(const LayerShape& shape, int64_t in, int64_t lo, int64_t hi, Search& search,
                      SettingVisitor visit);
// How many settings (before merging classes) map `in` to `out`, without building them.
int64_t count_settings(const std::vector<LayerShape>& shapes, int64_t in, int64_t out, Search& search);
// Intermediate lengths (a superset, as sorted disjoint intervals) from which some shape reaches `out`.
std::vector<std::pair<int64_t, int64_t>> intermediate_ranges(const std::vector<LayerShape>& shapes, int64_t out,
                                                             Search& search);

// ---- extra.cpp ----

// Settings the stride enumeration does not make: explicit conv1d paddings where no named padding of a kernel
// and dilation reaches the length, cropping1d and zero_padding1d (the rules are in extra.cpp). Pads set,
// unread steps still unknown.
std::vector<Setting> extra_settings(const PlanQuery& q, Search& search);

// ---- evaluate.cpp ----

// A setting with its pads from the length module; unread steps and coverage still unknown (zero).
Setting base_setting(const LayerShape& shape, int64_t in, int64_t stride, int64_t output_padding, int64_t out);
// The full setting: unread steps and coverage from its index map, and its class (dedupe.cpp).
Found make_found(Setting s);
Found make_found(const LayerShape& shape, int64_t in, int64_t stride, int64_t output_padding, int64_t out);
// Stack-input steps that no final output step of a (first layer) -> b (second layer) depends on.
int64_t stack_unread(const Setting& a, const Setting& b);

// ---- dedupe.cpp ----

// The class of a single-layer setting whose unread steps and coverage are known.
Found classify(const Setting& s);
// Sorts by rank and keeps the best member of each class.
void keep_best_of_each_class(std::vector<Found>& found);
// The class of a two-layer stack; `work` grows by what finding it cost.
Fingerprint stack_fingerprint(const Found& first, const Found& second, int64_t& work);

// ---- rank.cpp ----

using RankKey = std::array<int64_t, 11>;
// Simplicity alone (weights, padding, dilation, then the tie-breaks): what two-layer stacks compare layers by.
RankKey rank_key(const Setting& s);
// A single layer's place in the list (SPEC §6): settings that read every input step (no unread step, no
// output step reading only padding) first, then rank_key.
using SingleKey = std::array<int64_t, 1 + std::tuple_size_v<RankKey>>;
SingleKey single_key(const Setting& s);
bool ranks_before(const Found& a, const Found& b);
// The lowest single key of any setting with these weights.
SingleKey weight_bound(int64_t weights);

using StackKey = std::array<int64_t, 5 + 2 * std::tuple_size_v<RankKey>>;
StackKey stack_key(const Setting& a, const Setting& b, int64_t unread, bool reads_only_padding);
// Lowest key any stack with this first layer (and, if given, this second) could have.
StackKey stack_bound(const Setting& a, const Setting* b, int64_t total_weights, int64_t unread_bound);

struct StackItem {
    Setting first, second;
    int64_t unread = 0;
    bool reads_only_padding = false;
};

// A bounded list of the best items, one per class (instantiated in rank.cpp for settings and stacks).
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

    void insert(const Key& key, const Fingerprint& fingerprint, Item item);
    std::vector<Item> items() const;

private:
    size_t capacity_;
    std::map<Key, std::pair<Fingerprint, Item>> entries_;
    std::unordered_map<Fingerprint, Key, FingerprintHash> classes_;
    bool truncated_ = false;
};
using SettingList = TopList<Setting, std::tuple_size_v<SingleKey>>;
using StackList = TopList<StackItem, std::tuple_size_v<StackKey>>;
extern template class TopList<Setting, std::tuple_size_v<SingleKey>>;
extern template class TopList<StackItem, std::tuple_size_v<StackKey>>;

// ---- evaluate.cpp: listed results, each checked through make_plan ----

Candidate finished_candidate(const Setting& s);
Stack finished_stack(const StackItem& item);

// ---- two_layer.cpp ----

struct TwoLayerResult {
    std::vector<StackItem> items;  // best first
    bool truncated = false;        // more stacks exist than listed
    bool cut = false;              // the work budget ran out before the search was complete
};
// The best two-layer stacks from in_length to out_length; `singles` are the classes of single layers without
// weights, which a stack of two such layers may equal.
TwoLayerResult two_layer_search(const PlanQuery& q, Search& search, FingerprintSet singles);

}  // namespace c1r::planner_detail
