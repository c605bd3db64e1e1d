// Two-layer stacks: branch and bound over the four stages (enumerate, evaluate, deduplicate, rank).
//
// Every layer comes from the same space as single layers (strides up to max(L, M)), every intermediate length
// is 1..1e6. A stack with an identity layer is the other layer alone, so it is left out; a stack of two layers
// without weights that equals a single layer (or an earlier stack) is left out too (dedupe.cpp).
//
// The search goes over levels of total weight. At each level, first-layer shapes and then the second-layer
// shapes are taken in order of a lower bound on the key of any stack they can start, and each setting is held
// to such a bound before it is built; once the list is full (and known to leave something out) and the bound
// is no better than its last entry, the rest is skipped. The unread bound: every final step reads at most
// taps2 intermediate steps, each of which reads at most taps1 input steps.
#include <algorithm>

#include "planner/int_math.hpp"
#include "planner/search.hpp"

namespace c1r::planner_detail {
namespace {

// Two-layer work budget in length-rule evaluations (tens of ns each): about half a second on one core.
constexpr int64_t kTwoLayerBudget = 12'000'000;
constexpr int64_t kFoundWork = 20;  // building a setting: pads, unread steps, class
constexpr int64_t kStackWork = 10;  // a stack's exact unread count

class TwoLayerSearch {
public:
    TwoLayerSearch(const PlanQuery& q, Search& search, FingerprintSet singles)
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

    TwoLayerResult result() const { return {list_.items(), list_.truncated(), cut_}; }

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

    bool has_weight(int64_t w) const { return std::find(weights_.begin(), weights_.end(), w) != weights_.end(); }

    const std::vector<LayerShape>& shapes_for(int64_t weights) {
        auto it = shapes_.find(weights);
        if (it == shapes_.end()) it = shapes_.emplace(weights, layer_shapes(q_, weights)).first;
        return it->second;
    }

    const std::vector<std::pair<int64_t, int64_t>>& ranges_for(int64_t weights) {
        auto it = ranges_.find(weights);
        if (it == ranges_.end())
            it = ranges_.emplace(weights, intermediate_ranges(shapes_for(weights), q_.out_length, search_)).first;
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
    FingerprintSet singles_;
    StackList list_;
    std::vector<int64_t> weights_;
    std::map<std::tuple<int64_t, int64_t, size_t>, std::vector<Found>> seconds_;
    std::map<int64_t, std::vector<LayerShape>> shapes_;
    std::map<int64_t, std::vector<std::pair<int64_t, int64_t>>> ranges_;
    bool cut_ = false;
    int64_t level_budget_end_ = 0;
};

}  // namespace

TwoLayerResult two_layer_search(const PlanQuery& q, Search& search, FingerprintSet singles) {
    TwoLayerSearch two(q, search, std::move(singles));
    two.run();
    return two.result();
}

}  // namespace c1r::planner_detail
