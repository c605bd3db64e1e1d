// Rank: the keys settings and stacks are ordered by, and the bounded list that keeps the best of each class.
//
// Single layers: settings that read every input step first (no unread step, no output step reading only
// padding; SPEC §6), then simplest first: fewest weights per channel pair (kernel_size for conv types, 0 for pools and
// upsample1d), then no padding (amounts that come to zero count as none; for conv1d_transpose the crop), then
// no dilation (SPEC §6); then, to break ties: fewer unread input steps, no output step reading only padding,
// smaller stride, type order (conv1d, conv1d_transpose, max_pool1d, avg_pool1d, upsample1d, zero_padding1d,
// cropping1d), padding order (valid, same, causal, explicit), output_padding (null first, then smaller), smaller kernel_size / pool_size / size,
// smaller dilation.
//
// Two-layer stacks rank by total weights, then the number of padded layers, then of dilated layers, then
// unread stack-input steps, then whether some layer reads only padding, then layer 1's key, then layer 2's.
#include <algorithm>
#include <iterator>

#include "planner/search.hpp"

namespace c1r::planner_detail {

RankKey rank_key(const Setting& s) {
    int64_t padding_rank = s.padding == PaddingKind::valid    ? 0
                           : s.padding == PaddingKind::same   ? 1
                           : s.padding == PaddingKind::causal ? 2
                                                              : 3;  // explicit
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

SingleKey single_key(const Setting& s) {
    SingleKey key;
    key[0] = s.unread > 0 || s.reads_only_padding;
    RankKey rest = rank_key(s);
    std::copy(rest.begin(), rest.end(), key.begin() + 1);
    return key;
}

bool ranks_before(const Found& a, const Found& b) { return single_key(a.setting) < single_key(b.setting); }

SingleKey weight_bound(int64_t weights) {
    SingleKey key;
    key.fill(kNone);
    key[0] = 0;  // it may read every input step
    key[1] = weights;
    return key;
}

StackKey stack_key(const Setting& a, const Setting& b, int64_t unread, bool reads_only_padding) {
    StackKey key{a.weights() + b.weights(), int64_t{a.padded()} + b.padded(),
                 int64_t{a.dilated()} + b.dilated(), unread, reads_only_padding};
    RankKey ka = rank_key(a), kb = rank_key(b);
    std::copy(ka.begin(), ka.end(), key.begin() + 5);
    std::copy(kb.begin(), kb.end(), key.begin() + 5 + ka.size());
    return key;
}

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

template <typename Item, size_t N>
void TopList<Item, N>::insert(const Key& key, const Fingerprint& fingerprint, Item item) {
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
        // Forgetting the evicted class is safe: a later member can only enter by ranking before the new last.
        auto last = std::prev(entries_.end());
        classes_.erase(last->second.first);
        entries_.erase(last);
        truncated_ = true;
    }
}

template <typename Item, size_t N>
std::vector<Item> TopList<Item, N>::items() const {
    std::vector<Item> out;
    for (const auto& [key, entry] : entries_) out.push_back(entry.second);
    return out;
}

template class TopList<Setting, std::tuple_size_v<SingleKey>>;
template class TopList<StackItem, std::tuple_size_v<StackKey>>;

}  // namespace c1r::planner_detail
