// Searches layer settings that map one length to another (SPEC §6), using the plan's length rules.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/spec.hpp"
#include "plan/plan.hpp"
#include "planner/emit.hpp"  // the config writer (--emit-config), declared beside the planner for now

namespace c1r {

// Limits past which a query is refused as a usage error: beyond them nothing could run, or the search could
// not end.
constexpr int64_t kPlannerMaxLength = 1'000'000;  // --in-length, --out-length and any stack's intermediate
constexpr int64_t kPlannerMaxKernelDilation = 65'536;  // --max-kernel × --max-dilation: every pair is tried
constexpr int64_t kPlannerMaxListed = 250'000;         // settings listed without --top
constexpr int64_t kPlannerMaxChannels = 1'000'000;     // --in-channels / --out-channels

// The layer types the planner knows, in ranking order (the last tie-break but one).
const std::vector<LayerType>& planner_types();
std::optional<LayerType> planner_type_from_string(const std::string& name);

struct PlanQuery {
    int64_t in_length = 1;
    int64_t out_length = 1;
    int64_t max_kernel = 9;    // kernel_size and pool_size range over 1..max_kernel
    int64_t max_dilation = 4;  // dilation_rate ranges over 1..max_dilation
    std::vector<LayerType> types = planner_types();
    int64_t top = 0;  // at most this many single-layer candidates; 0: all of them
    bool two_layer = false;
    int64_t two_layer_top = 20;  // at most this many two-layer stacks
};

// One single-layer setting that maps in_length to out_length.
struct Candidate {
    LayerSpec layer;  // type and the config keys that apply to it; filters 1
    int64_t in_length = 0, out_length = 0;
    int64_t weights = 0;  // per channel pair: kernel_size for conv types, 0 for pools and upsampling
    // Zeros added [left, right] for conv and pools; the crop of the full result for conv1d_transpose
    // (negative: bias-only steps appended); none for upsample1d.
    std::optional<std::pair<int64_t, int64_t>> padding_amounts;
    int64_t receptive_field = 0;      // as the run report gives it (make_plan)
    int64_t unread_steps = 0;         // input steps that no output step reads
    bool reads_only_padding = false;  // some output step reads no input step (only padding, or only the bias)
};

// Two layers, in_length -> intermediate -> out_length.
struct Stack {
    std::array<Candidate, 2> layers;
    int64_t weights = 0;              // sum over both layers
    int64_t receptive_field = 0;      // of the whole stack (make_plan)
    int64_t unread_steps = 0;         // stack-input steps that no final output step depends on
    bool reads_only_padding = false;  // some output step of either layer reads no input step
};

struct PlanResult {
    std::vector<Candidate> candidates;  // simplest first
    bool candidates_truncated = false;  // --top left some out
    std::vector<Stack> stacks;          // simplest first (with two_layer)
    bool stacks_truncated = false;      // more stacks exist than listed
    bool stacks_search_cut = false;  // the two-layer search ran out of its work budget before it was complete
};

// Checks the query's bounds; throws Error(usage) with a one-line message naming the flag.
void validate_query(const PlanQuery& query);

// Lists every single-layer setting (and, with two_layer, two-layer stacks) that maps in_length to out_length.
// Settings that compute the same thing are listed once; the equivalence rule is in dedupe.cpp, the ranking
// in rank.cpp. Throws Error(usage) for bad bounds and when there are too many settings to list without --top.
PlanResult search_plan(const PlanQuery& query);

}  // namespace c1r
