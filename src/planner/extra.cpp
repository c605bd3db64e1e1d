// Settings outside the stride enumeration (SPEC §6): explicit conv1d paddings, cropping1d and zero_padding1d.
//
// Explicit paddings. Configs accept an integer or [left, right] padding for conv1d; trying every pair for every
// kernel and dilation would list thousands of settings that named paddings already cover (and with dilations,
// dozens more for every growing length). So explicit paddings are tried with dilation_rate 1 (PyTorch's
// `padding=p`), for each conv1d kernel_size K that no `valid`, `same` or `causal` setting takes from L to M at
// any stride; for each stride, the smallest total padding P that does, each side at most K - 1 (more would add
// output steps that read only padding): the length is floor((L + P - K) / s) + 1, so P = (M - 1) * s + K - L
// when 1 <= P <= 2 * (K - 1). It is split as `same` splits: P // 2 on the left, the rest on the right; an even
// P is written as the integer P // 2. With one output step the stride does not matter: stride 1 only.
// Example: 5 -> 7 gets conv1d k3 padding 2.
//
// cropping1d and zero_padding1d: the way from L to M without weights that keeps every step in place. One
// setting each, centred as `same` pads: cropping [(L - M) // 2, rest] when L > M, zero_padding1d
// [(M - L) // 2, rest] when M > L. A crop leaves L - M steps unread and zero padding adds steps that read only
// padding, so both rank after the settings that read every step.
#include <algorithm>
#include <vector>

#include "planner/search.hpp"

namespace c1r::planner_detail {
namespace {

bool allowed(const PlanQuery& q, LayerType t) { return std::find(q.types.begin(), q.types.end(), t) != q.types.end(); }

// Some named conv1d padding of this kernel and dilation maps in to out at a stride within the search's bound.
bool named_padding_reaches(int64_t k, int64_t d, int64_t in, int64_t out, Search& search) {
    std::vector<LayerShape> shapes;
    for (PaddingKind p : {PaddingKind::valid, PaddingKind::same, PaddingKind::causal})
        shapes.push_back({LayerType::conv1d, k, d, p});
    return count_settings(shapes, in, out, search) > 0;
}

Setting explicit_setting(int64_t k, int64_t d, int64_t stride, int64_t total, int64_t in, int64_t out) {
    Setting s;
    s.type = LayerType::conv1d;
    s.padding = PaddingKind::explicit_pads;
    s.kernel = k;
    s.dilation = d;
    s.stride = stride;
    s.in = in;
    s.out = out;
    s.pad_left = total / 2;
    s.pad_right = total - total / 2;
    return s;
}

// A crop (negative pads: the index map's offset moves into the input) or zero padding, split as `same` does.
Setting edges_setting(LayerType type, int64_t total, int64_t in, int64_t out) {
    Setting s;
    s.type = type;
    s.kernel = 1;
    s.in = in;
    s.out = out;
    const int64_t sign = type == LayerType::cropping1d ? -1 : 1;
    s.pad_left = sign * (total / 2);
    s.pad_right = sign * (total - total / 2);
    return s;
}

}  // namespace

std::vector<Setting> extra_settings(const PlanQuery& q, Search& search) {
    std::vector<Setting> settings;
    const int64_t L = q.in_length, M = q.out_length;
    if (allowed(q, LayerType::conv1d)) {
        const int64_t d = 1;  // dilation 1 only (see above)
        for (int64_t k = 2; k <= q.max_kernel; ++k) {
            const int64_t reach = dilated_kernel(k, d);  // = k
            if (named_padding_reaches(k, d, L, M, search)) continue;
            if (M == 1) {
                const int64_t total = reach - L;  // the smallest P with L + P >= K
                if (total >= 1 && total <= 2 * (reach - 1)) settings.push_back(explicit_setting(k, d, 1, total, L, M));
                continue;
            }
            // 1 <= (M - 1) * s + K - L <= 2 * (K - 1)
            const int64_t s_lo = std::max<int64_t>(1, (L - reach + 1 + (M - 2)) / (M - 1));
            const int64_t s_hi = std::min(search.max_stride, (L + reach - 2) / (M - 1));
            for (int64_t s = s_lo; s <= s_hi; ++s) {
                const int64_t total = (M - 1) * s + reach - L;
                if (total < 1 || total > 2 * (reach - 1)) continue;
                settings.push_back(explicit_setting(k, d, s, total, L, M));
            }
        }
    }
    if (L > M && allowed(q, LayerType::cropping1d)) settings.push_back(edges_setting(LayerType::cropping1d, L - M, L, M));
    if (M > L && allowed(q, LayerType::zero_padding1d))
        settings.push_back(edges_setting(LayerType::zero_padding1d, M - L, L, M));
    return settings;
}

}  // namespace c1r::planner_detail
