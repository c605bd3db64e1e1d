// Planner search (SPEC §6): every layer setting within bounds that maps one length to another, ranked.
//
// The search runs in four stages, each in its own file (search.hpp lists them):
//   enumerate    layer shapes, and the strides that reach the wanted length (binary search: lengths move one
//                way as the stride grows)
//   evaluate     each setting's pads from the length module, its unread input steps and pad-only outputs
//   deduplicate  settings that compute the same thing form one class, listed by its best member
//   rank         settings that read every input step first, then simplest; with --top, a bounded list that
//                turns settings away by their rank alone
// extra.cpp adds the settings the stride enumeration does not make: explicit conv1d paddings (where no named
// padding of a kernel reaches the length), cropping1d and zero_padding1d.
// Two-layer stacks run the same stages under branch and bound (two_layer.cpp). Every listed result is checked
// through make_plan, which also gives its receptive field.
#include "planner/planner.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "planner/search.hpp"

namespace c1r {
namespace {

using namespace planner_detail;

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

// Every class of single-layer settings from `in` to exactly `out` among the shapes, best member each, ranked.
std::vector<Found> single_layers(const std::vector<LayerShape>& shapes, int64_t in, int64_t out,
                                 Search& search, const std::vector<Setting>& extras = {}) {
    std::vector<Found> found;
    for (const Setting& s : extras) found.push_back(make_found(s));
    for (const auto& shape : shapes)
        for_each_setting(shape, in, out, out, search, [&](int64_t s, int64_t op, int64_t length) {
            found.push_back(make_found(shape, in, s, op, length));
            return true;
        });
    keep_best_of_each_class(found);
    return found;
}

// A lower bound on a setting's first rank key (it leaves a step unread or an output step reading only padding)
// from counts alone: M output windows of `taps` steps read at most M * taps input steps, and L input steps of a
// transposed conv reach at most L * taps output steps. It holds for every setting of the shape.
int64_t incomplete_bound(const LayerShape& shape, int64_t in, int64_t out) {
    if (shape.type == LayerType::upsample1d) return 0;
    const int64_t taps = shape.kernel;  // lengths <= 1e6, kernels <= 65536: no overflow
    if (shape.type == LayerType::conv1d_transpose) return in * taps < out;
    return out * taps < in;
}

// The lowest single key of a shape's settings, or of one setting before its unread steps are known.
SingleKey key_bound(const LayerShape& shape, int64_t in, int64_t out, const Setting* base) {
    SingleKey key = base ? single_key(*base) : weight_bound(shape.weights());
    key[0] = std::max(key[0], incomplete_bound(shape, in, out));
    return key;
}

// The best `top` classes of single-layer settings. Shapes come lightest first, so once the list is full most
// settings are turned away by their weights (and by whether they can read every step at all), and most others
// by a bound from their pads alone (unread steps taken as none) before they are built.
SettingList top_single_layers(const PlanQuery& q, const std::vector<LayerShape>& shapes, Search& search) {
    SettingList list(static_cast<size_t>(q.top));
    for (const auto& shape : shapes) {
        for_each_setting(shape, q.in_length, q.out_length, q.out_length, search,
                         [&](int64_t s, int64_t op, int64_t out) {
                             if (!list.open_to(key_bound(shape, q.in_length, out, nullptr))) {
                                 list.mark_truncated();  // ranks after every listed class: a new class
                                 return false;
                             }
                             Setting base = base_setting(shape, q.in_length, s, op, out);
                             if (!list.open_to(key_bound(shape, q.in_length, out, &base)) && list.truncated())
                                 return true;
                             Found f = make_found(base);
                             list.insert(single_key(f.setting), f.fingerprint, f.setting);
                             return true;
                         });
    }
    for (const Setting& s : extra_settings(q, search)) {
        Found f = make_found(s);
        list.insert(single_key(f.setting), f.fingerprint, f.setting);
    }
    return list;
}

}  // namespace

const std::vector<LayerType>& planner_types() {
    static const std::vector<LayerType> types{LayerType::conv1d,         LayerType::conv1d_transpose,
                                              LayerType::max_pool1d,     LayerType::avg_pool1d,
                                              LayerType::upsample1d,     LayerType::zero_padding1d,
                                              LayerType::cropping1d};
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
    Search search{std::max(q.in_length, q.out_length)};
    PlanResult result;
    std::vector<LayerShape> shapes = layer_shapes(q, std::nullopt);

    if (q.top == 0) {
        const std::vector<Setting> extras = extra_settings(q, search);
        int64_t settings =
            count_settings(shapes, q.in_length, q.out_length, search) + static_cast<int64_t>(extras.size());
        if (settings > kPlannerMaxListed)
            throw Error(ErrorKind::usage,
                        "plan: " + std::to_string(settings) + " settings map length " +
                            std::to_string(q.in_length) + " to " + std::to_string(q.out_length) +
                            " within these bounds, more than " + std::to_string(kPlannerMaxListed) +
                            " to list; pass --top N, or narrow --types, --max-kernel or --max-dilation");
        for (const Found& f : single_layers(shapes, q.in_length, q.out_length, search, extras))
            result.candidates.push_back(finished_candidate(f.setting));
    } else {
        SettingList list = top_single_layers(q, shapes, search);
        for (const Setting& s : list.items()) result.candidates.push_back(finished_candidate(s));
        result.candidates_truncated = list.truncated();
    }

    if (q.two_layer) {
        // Classes of single layers without weights, which a stack of two such layers may equal.
        FingerprintSet singles;
        for (const Found& f : single_layers(layer_shapes(q, 0), q.in_length, q.out_length, search))
            singles.insert(f.fingerprint);
        TwoLayerResult two = two_layer_search(q, search, std::move(singles));
        for (const StackItem& item : two.items) result.stacks.push_back(finished_stack(item));
        result.stacks_truncated = two.truncated;
        result.stacks_search_cut = two.cut;
    }
    return result;
}

}  // namespace c1r
