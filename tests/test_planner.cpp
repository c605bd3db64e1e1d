// Checks the planner against a plain brute force (every setting through make_plan), and `plan` end to end.
//
// Also: ranking, merging of equal computations, unread steps by marking, lengths on oneDNN, two-layer stacks.
#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "network/network.hpp"
#include "planner/planner.hpp"
#include "io/tensor.hpp"
#include "test_helpers.hpp"

namespace {

using c1r::LayerSpec;
using c1r::LayerType;
using c1r::PaddingKind;
using c1r_test::json;

struct Bounds {
    int64_t max_kernel = 9, max_dilation = 4;
};

// One layer planned alone on a (1, L, 1) input; none when make_plan refuses it (an output shorter than 1).
std::optional<c1r::LayerPlan> plan_alone(LayerSpec layer, int64_t length) {
    c1r::ConfigSpec config;
    config.source = "brute-force";
    layer.pointer = "/layers/0";
    layer.filters = 1;
    config.layers = {layer};
    try {
        return c1r::make_plan(config, {1, length, 1}).layers[0];
    } catch (const c1r::Error&) {
        return std::nullopt;
    }
}

// Names the layers of a hand-built stack: a graph plan chains an unnamed layer to the one before by that
// one's name, so unnamed layers would read their own output.
void name_layers(c1r::ConfigSpec& config) {
    for (size_t i = 0; i < config.layers.size(); ++i) config.layers[i].name = "layer_" + std::to_string(i);
}

// What a planned layer computes, written out step by step: equal signatures are the same computation (for
// every input and weights), and the marks give the unread input steps and the output steps that read nothing.
struct Reading {
    std::string signature;
    int64_t unread = 0;
    bool reads_only_padding = false;
    std::vector<std::vector<int64_t>> inputs_of;  // per output step, the input steps it reads
};

Reading read_layer(const c1r::LayerPlan& p) {
    const LayerSpec& s = p.spec;
    const int64_t in = p.input_shape.length, out = p.output_shape.length;
    Reading r;
    r.inputs_of.resize(static_cast<size_t>(out));
    std::ostringstream sig;
    switch (s.type) {
        case LayerType::conv1d: {
            sig << "conv1d k" << s.kernel_size << " out" << out << ":";
            for (int64_t o = 0; o < out; ++o) {
                for (int64_t j = 0; j < s.kernel_size; ++j) {
                    int64_t x = o * s.strides - p.padding->first + j * s.dilation_rate;
                    if (x >= 0 && x < in) {
                        sig << x << ",";
                        r.inputs_of[o].push_back(x);
                    } else {
                        sig << "_,";
                    }
                }
                sig << ";";
            }
            break;
        }
        case LayerType::conv1d_transpose: {
            sig << "conv1d_transpose k" << s.kernel_size << " out" << out << ":";
            std::vector<std::vector<std::pair<int64_t, int64_t>>> into(static_cast<size_t>(out));
            for (int64_t i = 0; i < in; ++i)
                for (int64_t j = 0; j < s.kernel_size; ++j) {
                    int64_t t = i * s.strides + j * s.dilation_rate - p.padding->first;
                    if (t >= 0 && t < out) {
                        into[t].emplace_back(i, j);
                        r.inputs_of[t].push_back(i);
                    }
                }
            for (const auto& list : into) {
                for (auto [i, j] : list) sig << i << ":" << j << ",";
                sig << ";";
            }
            break;
        }
        case LayerType::max_pool1d:
        case LayerType::avg_pool1d:
        case LayerType::upsample1d:
        case LayerType::cropping1d:
        case LayerType::zero_padding1d: {
            bool all_single = true;
            std::ostringstream windows;
            for (int64_t o = 0; o < out; ++o) {
                if (s.type == LayerType::upsample1d) {
                    r.inputs_of[o].push_back(o / s.size);
                } else if (s.type == LayerType::cropping1d || s.type == LayerType::zero_padding1d) {
                    // Output o is input o + crop left, or o - pad left (none inside the zeros).
                    int64_t x = s.type == LayerType::cropping1d ? o + s.edges.first : o - s.edges.first;
                    if (x >= 0 && x < in) r.inputs_of[o].push_back(x);
                } else {
                    for (int64_t j = 0; j < s.pool_size; ++j) {
                        int64_t x = o * s.strides - p.padding->first + j;
                        if (x >= 0 && x < in) r.inputs_of[o].push_back(x);
                    }
                }
                all_single = all_single && r.inputs_of[o].size() == 1;
                for (int64_t x : r.inputs_of[o]) windows << x << ",";
                windows << ";";
            }
            // Windows of one step each: max, mean and repetition all just pick that step.
            sig << (all_single ? "pick" : c1r::to_string(s.type)) << " out" << out << ":" << windows.str();
            break;
        }
        default:
            FAIL("unexpected layer type");
    }
    std::vector<bool> read(static_cast<size_t>(in), false);
    for (const auto& xs : r.inputs_of) {
        if (xs.empty()) r.reads_only_padding = true;
        for (int64_t x : xs) read[x] = true;
    }
    r.unread = std::count(read.begin(), read.end(), false);
    r.signature = sig.str();
    return r;
}

int64_t weights_of(const LayerSpec& l) {
    return l.type == LayerType::conv1d || l.type == LayerType::conv1d_transpose ? l.kernel_size : 0;
}

// The documented ranking: settings that read every input step first, then weights, padding, dilation (SPEC),
// then unread, reads-only-padding, stride, type, padding kind, output_padding (null first), kernel/pool/size,
// dilation.
using Key = std::array<int64_t, 12>;
Key rank_key(const c1r::LayerPlan& p, const Reading& r) {
    const LayerSpec& l = p.spec;
    const bool conv = weights_of(l) > 0;
    const bool padded = p.padding && (p.padding->first != 0 || p.padding->second != 0);
    const bool edges = l.type == LayerType::cropping1d || l.type == LayerType::zero_padding1d;
    const int64_t size = conv                              ? l.kernel_size
                         : l.type == LayerType::upsample1d ? l.size
                         : edges                           ? 1
                                                           : l.pool_size;
    const int64_t dilation = conv ? l.dilation_rate : 1;
    return {r.unread > 0 || r.reads_only_padding,
            weights_of(l),
            padded,
            dilation > 1,
            r.unread,
            r.reads_only_padding,
            l.type == LayerType::upsample1d ? 1 : l.strides,
            static_cast<int64_t>(l.type),
            static_cast<int64_t>(l.padding.kind),
            l.output_padding.value_or(-1),
            size,
            dilation};
}

struct Tried {
    LayerSpec layer;
    c1r::LayerPlan plan;
};

// Every setting within the bounds on an input of length L, planned one by one, grouped by output length.
// Exhaustive: strides 1..max_stride, every output_padding. Otherwise (the large cases) a loop stops once the
// length has passed the wanted one, as lengths only fall (conv, pools) or grow (transposed, upsampling) with
// the stride and the output_padding.
std::map<int64_t, std::vector<Tried>> brute_force(int64_t L, int64_t max_stride, Bounds b, bool exhaustive,
                                                  int64_t wanted = 0) {
    std::map<int64_t, std::vector<Tried>> by_length;
    auto keep = [&](const LayerSpec& l, const std::optional<c1r::LayerPlan>& p) {
        if (p) by_length[p->output_shape.length].push_back({l, *p});
    };
    auto length_of = [](const std::optional<c1r::LayerPlan>& p) { return p ? p->output_shape.length : 0; };
    for (int64_t k = 1; k <= b.max_kernel; ++k) {
        for (int64_t d = 1; d <= b.max_dilation; ++d) {
            for (PaddingKind pad : {PaddingKind::valid, PaddingKind::same, PaddingKind::causal}) {
                for (int64_t s = 1; s <= max_stride; ++s) {
                    LayerSpec l;
                    l.type = LayerType::conv1d;
                    l.kernel_size = k, l.dilation_rate = d, l.strides = s, l.padding.kind = pad;
                    auto p = plan_alone(l, L);
                    keep(l, p);
                    if (!exhaustive && length_of(p) < wanted) break;
                }
            }
            for (PaddingKind pad : {PaddingKind::valid, PaddingKind::same}) {
                for (int64_t s = 1; s <= max_stride; ++s) {
                    LayerSpec l;
                    l.type = LayerType::conv1d_transpose;
                    l.kernel_size = k, l.dilation_rate = d, l.strides = s, l.padding.kind = pad;
                    auto p = plan_alone(l, L);
                    keep(l, p);
                    bool past = length_of(p) > wanted;
                    for (int64_t op = 0; op < s; ++op) {
                        l.output_padding = op;
                        auto q = plan_alone(l, L);
                        keep(l, q);
                        if (!exhaustive && length_of(q) > wanted) break;
                        past = past && length_of(q) > wanted;
                    }
                    if (!exhaustive && past) break;
                }
            }
        }
        for (LayerType type : {LayerType::max_pool1d, LayerType::avg_pool1d})
            for (PaddingKind pad : {PaddingKind::valid, PaddingKind::same})
                for (int64_t s = 1; s <= max_stride; ++s) {
                    LayerSpec l;
                    l.type = type;
                    l.pool_size = l.kernel_size = k, l.strides = s, l.padding.kind = pad;
                    auto p = plan_alone(l, L);
                    keep(l, p);
                    if (!exhaustive && length_of(p) < wanted) break;
                }
    }
    for (int64_t size = 1; size <= max_stride; ++size) {
        LayerSpec l;
        l.type = LayerType::upsample1d;
        l.size = size;
        keep(l, plan_alone(l, L));
    }
    return by_length;
}

bool same_setting(const LayerSpec& a, const LayerSpec& b) {
    if (a.type != b.type) return false;
    switch (a.type) {
        case LayerType::upsample1d:
            return a.size == b.size;
        case LayerType::max_pool1d:
        case LayerType::avg_pool1d:
            return a.pool_size == b.pool_size && a.strides == b.strides && a.padding.kind == b.padding.kind;
        case LayerType::cropping1d:
        case LayerType::zero_padding1d:
            return a.edges == b.edges;
        default:
            return a.kernel_size == b.kernel_size && a.strides == b.strides &&
                   a.padding.kind == b.padding.kind && a.padding.left == b.padding.left &&
                   a.padding.right == b.padding.right && a.dilation_rate == b.dilation_rate &&
                   a.output_padding == b.output_padding;
    }
}

std::string describe(const LayerSpec& l) {
    return std::string(c1r::to_string(l.type)) + " " + c1r::settings_text(l);
}

// The candidate's own JSON keys, as a runnable config, through the config parser and make_plan.
c1r::Plan plan_from_json(const std::vector<LayerSpec>& layers, int64_t L, int64_t in_channels = 1,
                         int64_t out_channels = 1) {
    json config = json::parse(c1r::config_json(layers, L, in_channels, out_channels).dump());
    return c1r::make_plan(c1r::parse_config(config, "planned.json"), {1, L, in_channels});
}

// The settings SPEC §6 adds beyond the named paddings, found by trying: for each conv1d kernel (dilation 1,
// README) that no valid/same/causal setting takes from L to M (strides up to max(L, M)), per stride the
// smallest total padding P (each side at most K - 1, split P // 2 left) that does; one centred crop or zero
// padding.
std::vector<Tried> extra_settings(int64_t L, int64_t M, Bounds b, const std::vector<Tried>& tried) {
    std::vector<Tried> extra;
    const int64_t max_stride = std::max(L, M);
    for (int64_t k = 2; k <= b.max_kernel; ++k) {
        {
            const int64_t d = 1;
            const bool named = std::any_of(tried.begin(), tried.end(), [&](const Tried& t) {
                return t.layer.type == LayerType::conv1d && t.layer.kernel_size == k && t.layer.dilation_rate == d &&
                       t.layer.strides <= max_stride;
            });
            if (named) continue;
            const int64_t reach = d * (k - 1) + 1;
            // Lengths grow with the padding and fall with the stride: each loop stops once past M.
            for (int64_t s = 1; s <= max_stride; ++s) {
                int64_t longest = 0;
                for (int64_t total = 1; total <= 2 * (reach - 1); ++total) {
                    LayerSpec l;
                    l.type = LayerType::conv1d;
                    l.kernel_size = k, l.dilation_rate = d, l.strides = s;
                    l.padding = {PaddingKind::explicit_pads, total / 2, total - total / 2};
                    auto p = plan_alone(l, L);
                    const int64_t length = p ? p->output_shape.length : 0;
                    longest = std::max(longest, length);
                    if (length == M) extra.push_back({l, *p});
                    if (length >= M) break;
                }
                if (longest < M) break;
            }
        }
    }
    if (L != M) {
        LayerSpec l;
        l.type = L > M ? LayerType::cropping1d : LayerType::zero_padding1d;
        const int64_t total = L > M ? L - M : M - L;
        l.edges = {total / 2, total - total / 2};
        auto p = plan_alone(l, L);
        REQUIRE(p);
        REQUIRE(p->output_shape.length == M);
        extra.push_back({l, *p});
    }
    return extra;
}

// The planner's list for (L, M) against the brute force's settings that give M with strides up to max(L, M):
// every class of equal computations appears exactly once, by its best-ranked member, in rank order.
void check_against_brute_force(int64_t L, int64_t M, Bounds b, const std::vector<Tried>& tried,
                               int& classes) {
    CAPTURE(L, M, b.max_kernel, b.max_dilation);
    c1r::PlanQuery q;
    q.in_length = L, q.out_length = M, q.max_kernel = b.max_kernel, q.max_dilation = b.max_dilation;
    c1r::PlanResult result = c1r::search_plan(q);

    struct Best {
        Key key;
        LayerSpec layer;
    };
    std::map<std::string, Best> best;
    std::vector<Tried> all = tried;
    for (Tried& t : extra_settings(L, M, b, tried)) all.push_back(std::move(t));
    for (const Tried& t : all) {
        if (t.layer.type != LayerType::upsample1d && t.layer.strides > std::max(L, M)) continue;
        Reading r = read_layer(t.plan);
        Key key = rank_key(t.plan, r);
        auto it = best.find(r.signature);
        if (it == best.end() || key < it->second.key) best[r.signature] = {key, t.layer};
    }
    std::set<std::string> listed;
    std::optional<Key> previous;
    for (const c1r::Candidate& c : result.candidates) {
        INFO("candidate " << describe(c.layer));
        c1r::Plan plan = plan_from_json({c.layer}, L);
        REQUIRE(plan.output_shape.length == M);
        const c1r::LayerPlan& p = plan.layers[0];
        CHECK(c.receptive_field == p.receptive_field.value_or(-1));
        CHECK(c.padding_amounts == p.padding);
        CHECK(c.weights == weights_of(c.layer));
        Reading r = read_layer(p);
        CHECK(c.unread_steps == r.unread);
        CHECK(c.reads_only_padding == r.reads_only_padding);
        CHECK(listed.insert(r.signature).second);  // listed once
        auto it = best.find(r.signature);
        REQUIRE(it != best.end());  // within the bounds
        INFO("best-ranked member of its class: " << describe(it->second.layer));
        CHECK(same_setting(c.layer, it->second.layer));
        Key key = rank_key(p, r);
        if (previous) CHECK(*previous < key);  // simplest first
        previous = key;
    }
    for (const auto& [signature, member] : best) {
        INFO("missing class, e.g. " << describe(member.layer));
        CHECK(listed.count(signature) == 1);
    }
    classes += static_cast<int>(best.size());
}

}  // namespace

TEST_CASE("planner lists every class of single-layer settings, once, on a grid of lengths", "[planner]") {
    int classes = 0;
    // Under the sanitizers (about 30x slower here) a smaller grid; the plain build's suite runs the whole one.
    SECTION("lengths 1..24, default bounds") {
        const int64_t top = c1r_test::kSanitized ? 12 : 24;
        for (int64_t L = 1; L <= top; ++L) {
            auto by_length = brute_force(L, top, {}, true);
            for (int64_t M = 1; M <= top; ++M) check_against_brute_force(L, M, {}, by_length[M], classes);
        }
        CHECK(classes > (c1r_test::kSanitized ? 2000 : 10000));
    }
    SECTION("lengths 1..40, kernels up to 3, dilations up to 2") {
        const int64_t top = c1r_test::kSanitized ? 20 : 40;
        const Bounds small{3, 2};
        for (int64_t L = 1; L <= top; ++L) {
            auto by_length = brute_force(L, top, small, true);
            for (int64_t M = 1; M <= top; ++M) check_against_brute_force(L, M, small, by_length[M], classes);
        }
        CHECK(classes > (c1r_test::kSanitized ? 1000 : 5000));
    }
}

TEST_CASE("planner agrees with the brute force on larger lengths", "[planner]") {
    int classes = 0;
    for (auto [L, M] :
         std::vector<std::pair<int64_t, int64_t>>{{1000, 10}, {16000, 250}, {100, 6}, {6, 100}, {64, 63}}) {
        auto by_length = brute_force(L, std::max(L, M), {}, false, M);
        check_against_brute_force(L, M, {}, by_length[M], classes);
    }
    CHECK(classes > 100);
}

TEST_CASE("planner ranks simplest first: 20 -> 10", "[planner]") {
    c1r::PlanQuery q;
    q.in_length = 20, q.out_length = 10;
    c1r::PlanResult r = c1r::search_plan(q);
    REQUIRE(r.candidates.size() > 10);
    // Pools have no weights, so they come first; max_pool1d pool_size 2 strides 2 valid reads every step.
    const LayerSpec& first = r.candidates[0].layer;
    CHECK(first.type == LayerType::max_pool1d);
    CHECK(first.pool_size == 2);
    CHECK(first.strides == 2);
    CHECK(first.padding.kind == PaddingKind::valid);
    CHECK(r.candidates[0].unread_steps == 0);
    // The article's reduce case is the first setting with weights: kernel 2 reads every step, so it ranks
    // before kernel 1 stride 2, which leaves every other step unread.
    auto conv = std::find_if(r.candidates.begin(), r.candidates.end(),
                             [](const c1r::Candidate& c) { return c.layer.type == LayerType::conv1d; });
    REQUIRE(conv != r.candidates.end());
    CHECK(c1r::settings_text(conv->layer) == "k2 s2 valid");
    CHECK(conv->unread_steps == 0);
    CHECK(conv->weights == 2);
    auto k1 = std::find_if(r.candidates.begin(), r.candidates.end(), [](const c1r::Candidate& c) {
        return c.layer.type == LayerType::conv1d && c1r::settings_text(c.layer) == "k1 s2 valid";
    });
    REQUIRE(k1 != r.candidates.end());
    CHECK(k1->unread_steps == 10);
    CHECK(k1 > conv);
    // Every setting that reads all steps comes before every one that does not.
    auto first_partial = std::find_if(r.candidates.begin(), r.candidates.end(), [](const c1r::Candidate& c) {
        return c.unread_steps > 0 || c.reads_only_padding;
    });
    CHECK(std::all_of(first_partial, r.candidates.end(), [](const c1r::Candidate& c) {
        return c.unread_steps > 0 || c.reads_only_padding;
    }));
    // Padding that comes to zero is none: `same` with k2 s2 on 20 steps pads [0, 0], so only `valid` is
    // listed.
    CHECK(std::none_of(r.candidates.begin(), r.candidates.end(), [](const c1r::Candidate& c) {
        return c.layer.type == LayerType::conv1d && c1r::settings_text(c.layer) == "k2 s2 same";
    }));
    // pool_size 1 windows pick one step: max and avg are the same computation, listed once (as max).
    CHECK(std::count_if(r.candidates.begin(), r.candidates.end(), [](const c1r::Candidate& c) {
              return c.layer.pool_size == 1 &&
                     (c.layer.type == LayerType::max_pool1d || c.layer.type == LayerType::avg_pool1d);
          }) == 1);
}

TEST_CASE("planner --top N lists the first N of the whole list", "[planner]") {
    // The bounded list prunes by weights, by whether a shape can read every step at all, and by pads: none of
    // that may change which settings come first.
    for (auto [L, M] : std::vector<std::pair<int64_t, int64_t>>{
             {20, 10}, {1000, 125}, {5, 7}, {7, 30}, {100, 3}, {64, 63}, {12, 9}, {9, 1}, {300, 1000}}) {
        c1r::PlanQuery q;
        q.in_length = L, q.out_length = M;
        const std::vector<c1r::Candidate> all = c1r::search_plan(q).candidates;
        for (int64_t top : {1, 3, 10, 40}) {
            CAPTURE(L, M, top);
            q.top = top;
            c1r::PlanResult r = c1r::search_plan(q);
            REQUIRE(r.candidates.size() == std::min<size_t>(static_cast<size_t>(top), all.size()));
            for (size_t i = 0; i < r.candidates.size(); ++i) {
                CHECK(r.candidates[i].layer.type == all[i].layer.type);
                CHECK(c1r::settings_text(r.candidates[i].layer) == c1r::settings_text(all[i].layer));
            }
            CHECK(r.candidates_truncated == (all.size() > static_cast<size_t>(top)));
        }
    }
}

TEST_CASE("planner merges the documented equal computations", "[planner]") {
    auto list = [](int64_t L, int64_t M) {
        c1r::PlanQuery q;
        q.in_length = L, q.out_length = M;
        std::vector<std::string> texts;
        for (const auto& c : c1r::search_plan(q).candidates)
            texts.push_back(std::string(c1r::to_string(c.layer.type)) + " " + c1r::settings_text(c.layer));
        return texts;
    };
    auto has = [](const std::vector<std::string>& texts, const std::string& text) {
        return std::find(texts.begin(), texts.end(), text) != texts.end();
    };
    std::vector<std::string> keep = list(15, 15);
    CHECK(has(keep, "conv1d k1 s1 valid"));
    CHECK_FALSE(has(keep, "conv1d k1 s1 d2 valid"));  // kernel 1: dilation does not matter
    CHECK_FALSE(has(keep, "conv1d k1 s1 same"));      // pads [0, 0]
    CHECK_FALSE(has(keep, "conv1d k1 s1 causal"));    // causal with kernel 1 pads nothing
    CHECK(has(keep, "conv1d k3 s1 same"));            // the article's keep case
    CHECK(has(keep, "conv1d k3 s1 causal"));          // different pads: a different computation
    std::vector<std::string> grow = list(5, 10);
    CHECK(has(grow, "conv1d_transpose k3 s2 same"));  // the article's real expansion
    CHECK(has(grow, "upsample1d x2"));
    // output_padding 1 on k3 s2 same is the default length (10): the same computation as null, listed once.
    CHECK_FALSE(has(grow, "conv1d_transpose k3 s2 same op1"));
    // One output step: the stride does not matter, only the smallest is listed.
    std::vector<std::string> one = list(7, 1);
    CHECK(has(one, "conv1d k7 s1 valid"));
    CHECK_FALSE(has(one, "conv1d k7 s2 valid"));
}

TEST_CASE("planner unread steps match marking on gaps and tails", "[planner]") {
    c1r::PlanQuery q;
    q.in_length = 23, q.out_length = 4;
    int with_gaps = 0;
    for (const auto& c : c1r::search_plan(q).candidates) {
        c1r::Plan plan = plan_from_json({c.layer}, q.in_length);
        Reading r = read_layer(plan.layers[0]);
        CHECK(c.unread_steps == r.unread);
        if (c.layer.type == LayerType::conv1d && c.layer.strides > c.layer.kernel_size)
            with_gaps += c.unread_steps > 0;
    }
    CHECK(with_gaps > 0);
}

TEST_CASE("planner candidates give the wanted length on oneDNN", "[planner][onednn]") {
    c1r::Context::set_threads(1);  // tiny problems; kind to the shared machine
    c1r::Context context;
    int built = 0;
    for (auto [L, M] : std::vector<std::pair<int64_t, int64_t>>{
             {20, 10}, {5, 7}, {7, 5}, {16, 16}, {9, 27}, {40, 3}, {1, 6}, {30, 31}, {12, 1}, {8, 17}}) {
        c1r::PlanQuery q;
        q.in_length = L, q.out_length = M;
        auto candidates = c1r::search_plan(q).candidates;
        REQUIRE_FALSE(candidates.empty());
        // A spread of three per pair: the simplest, the middle one and the last.
        for (size_t i : {size_t{0}, candidates.size() / 2, candidates.size() - 1}) {
            const LayerSpec& layer = candidates[i].layer;
            INFO(L << " -> " << M << ": " << describe(layer));
            c1r::ConfigSpec spec =
                c1r::parse_config(json::parse(c1r::config_json({layer}, L, 3, 4).dump()), "planned.json");
            c1r::Plan plan = c1r::make_plan(spec, {1, L, 3});
            std::vector<c1r::LayerWeights> weights;
            for (const auto& l : plan.layers) weights.push_back(c1r::default_weights(l, 7));
            c1r::Network network(context, plan, weights, c1r::DType::f32);
            network.set_input(c1r::random_input(plan.input_shape, spec.input.init, spec.data_format));
            network.forward();
            c1r::Tensor output = network.output();
            CHECK(output.shape.length == M);
            CHECK(output.data.size() == static_cast<size_t>(M * output.shape.channels));
            ++built;
        }
    }
    CHECK(built == 30);
}

// ---- two-layer stacks ----

namespace {

// Unread stack-input steps, by marking through both layers.
int64_t stack_unread_by_marking(const c1r::Plan& plan) {
    Reading second = read_layer(plan.layers[1]), first = read_layer(plan.layers[0]);
    std::vector<bool> mid(static_cast<size_t>(plan.layers[0].output_shape.length), false),
        in(static_cast<size_t>(plan.input_shape.length), false);
    for (const auto& xs : second.inputs_of)
        for (int64_t x : xs) mid[x] = true;
    for (size_t x = 0; x < mid.size(); ++x)
        if (mid[x])
            for (int64_t i : first.inputs_of[x]) in[i] = true;
    return std::count(in.begin(), in.end(), false);
}

using StackKey = std::vector<int64_t>;
StackKey stack_key(const c1r::Plan& plan) {
    Reading a = read_layer(plan.layers[0]), b = read_layer(plan.layers[1]);
    // Stacks rank by simplicity alone: the layers' keys without the read-every-step flag (Key[0]).
    Key ka = rank_key(plan.layers[0], a), kb = rank_key(plan.layers[1], b);
    StackKey key{ka[1] + kb[1], ka[2] + kb[2], ka[3] + kb[3], stack_unread_by_marking(plan),
                 a.reads_only_padding || b.reads_only_padding};
    key.insert(key.end(), ka.begin() + 1, ka.end());
    key.insert(key.end(), kb.begin() + 1, kb.end());
    return key;
}

}  // namespace

TEST_CASE("two-layer stacks reach the length, in rank order, with unread steps by marking",
          "[planner][two-layer]") {
    for (auto [L, M] :
         std::vector<std::pair<int64_t, int64_t>>{{1000, 10}, {20, 10}, {5, 7}, {7, 30}, {100, 3}}) {
        CAPTURE(L, M);
        c1r::PlanQuery q;
        q.in_length = L, q.out_length = M, q.two_layer = true;
        c1r::PlanResult r = c1r::search_plan(q);
        REQUIRE(r.stacks.size() == 20);
        CHECK(r.stacks_truncated);
        CHECK_FALSE(r.stacks_search_cut);
        std::optional<StackKey> previous;
        for (const c1r::Stack& s : r.stacks) {
            INFO(describe(s.layers[0].layer)
                 << " -> " << s.layers[0].out_length << " -> " << describe(s.layers[1].layer));
            c1r::Plan plan = plan_from_json({s.layers[0].layer, s.layers[1].layer}, L);
            REQUIRE(plan.output_shape.length == M);
            CHECK(plan.layers[0].output_shape.length == s.layers[0].out_length);
            CHECK(s.unread_steps == stack_unread_by_marking(plan));
            CHECK(s.receptive_field == plan.layers[1].receptive_field.value_or(-1));
            CHECK(s.weights == weights_of(s.layers[0].layer) + weights_of(s.layers[1].layer));
            StackKey key = stack_key(plan);
            if (previous) CHECK(*previous < key);
            previous = key;
        }
    }
}

TEST_CASE("two-layer stacks of conv1d are the brute force's best", "[planner][two-layer]") {
    // conv1d only: every stack is its own computation, so the best 20 keys can be found by trying every pair.
    const Bounds small{3, 2};
    for (auto [L, M] : std::vector<std::pair<int64_t, int64_t>>{{12, 3}, {9, 4}, {16, 5}, {10, 10}}) {
        CAPTURE(L, M);
        const int64_t max_stride = std::max(L, M);
        auto firsts = brute_force(L, max_stride, small, true);
        // Best member of each class per length, conv1d only.
        auto classes_of = [&](const std::vector<Tried>& tried) {
            std::map<std::string, std::pair<Key, Tried>> best;
            for (const Tried& t : tried) {
                if (t.layer.type != LayerType::conv1d) continue;
                Reading r = read_layer(t.plan);
                Key key = rank_key(t.plan, r);
                auto it = best.find(r.signature);
                if (it == best.end() || key < it->second.first)
                    best.insert_or_assign(r.signature, std::pair{key, t});
            }
            return best;
        };
        std::vector<StackKey> keys;
        for (auto& [I, tried] : firsts) {
            if (I > L) continue;  // conv1d never lengthens
            auto seconds = brute_force(I, max_stride, small, true);
            for (const auto& [sig1, first] : classes_of(tried))
                for (const auto& [sig2, second] : classes_of(seconds[M])) {
                    c1r::ConfigSpec config;
                    config.layers = {first.second.layer, second.second.layer};
                    for (auto& l : config.layers) l.filters = 1;
                    name_layers(config);
                    keys.push_back(stack_key(c1r::make_plan(config, {1, L, 1})));
                }
        }
        std::sort(keys.begin(), keys.end());
        c1r::PlanQuery q;
        q.in_length = L, q.out_length = M, q.max_kernel = small.max_kernel,
        q.max_dilation = small.max_dilation;
        q.types = {LayerType::conv1d};
        q.two_layer = true;
        c1r::PlanResult r = c1r::search_plan(q);
        REQUIRE(r.stacks.size() == std::min<size_t>(20, keys.size()));
        for (size_t i = 0; i < r.stacks.size(); ++i) {
            c1r::Plan plan = plan_from_json({r.stacks[i].layers[0].layer, r.stacks[i].layers[1].layer}, L);
            CHECK(stack_key(plan) == keys[i]);
        }
        CHECK(r.stacks_truncated == (keys.size() > 20));
    }
}

namespace {

// The class of a stack of two layers without weights, by the documented rule: combined windows that are again
// one window per output step (max of max, or a pick feeding max/avg/anything, or a mean over distinct
// adjacent picks) are compared as that window sequence; other pairs are their own class.
std::string weight_free_stack_class(const c1r::Plan& plan, std::string& combined) {
    Reading a = read_layer(plan.layers[0]), b = read_layer(plan.layers[1]);
    auto kind = [](const c1r::LayerPlan& p, const Reading& r) {
        return r.signature.rfind("pick", 0) == 0 ? std::string("pick")
                                                 : std::string(c1r::to_string(p.spec.type));
    };
    const std::string k1 = kind(plan.layers[0], a), k2 = kind(plan.layers[1], b);
    combined.clear();
    std::string reduce;
    if (k2 == "pick")
        reduce = k1;
    else if (k1 == "pick" || (k1 == "max_pool1d" && k2 == "max_pool1d"))
        reduce = k2;
    if (!reduce.empty()) {
        std::ostringstream windows;
        bool all_single = true, joins = true;
        for (const auto& xs : b.inputs_of) {
            std::vector<int64_t> steps;  // with repeats, in order
            for (int64_t x : xs) steps.insert(steps.end(), a.inputs_of[x].begin(), a.inputs_of[x].end());
            std::set<int64_t> distinct(steps.begin(), steps.end());
            if (distinct.empty() ||
                *distinct.rbegin() - *distinct.begin() + 1 != static_cast<int64_t>(distinct.size()))
                joins = false;  // a gap
            if (reduce == "avg_pool1d" && k1 == "pick" && distinct.size() != steps.size()) joins = false;
            all_single = all_single && distinct.size() == 1;
            for (int64_t i : distinct) windows << i << ",";
            windows << ";";
        }
        if (joins)
            combined = (all_single ? "pick" : reduce) + " out" + std::to_string(plan.output_shape.length) +
                       ":" + windows.str();
    }
    return combined.empty() ? a.signature + " | " + b.signature : combined;
}

bool is_identity_layer(const c1r::LayerPlan& p) {
    Reading r = read_layer(p);
    if (p.input_shape.length != p.output_shape.length) return false;
    for (size_t o = 0; o < r.inputs_of.size(); ++o)
        if (r.inputs_of[o] != std::vector<int64_t>{static_cast<int64_t>(o)}) return false;
    return true;
}

}  // namespace

TEST_CASE("two-layer stacks without weights are the brute force's classes", "[planner][two-layer]") {
    const Bounds small{3, 1};
    const std::vector<LayerType> types{LayerType::max_pool1d, LayerType::avg_pool1d, LayerType::upsample1d};
    auto allowed = [&](const LayerSpec& l) { return std::count(types.begin(), types.end(), l.type) > 0; };
    std::vector<std::pair<int64_t, int64_t>> pairs{{12, 4}, {6, 6}, {4, 12}, {10, 3}, {9, 9}, {5, 15}, {8, 2}, {16, 8}, {3, 3}};
    if (c1r_test::kSanitized) pairs.resize(4);  // the plain build's suite runs them all
    for (auto [L, M] : pairs) {
        CAPTURE(L, M);
        const int64_t max_stride = std::max(L, M);
        // Best member of each single-layer class, per output length.
        auto classes_of = [&](const std::vector<Tried>& tried) {
            std::map<std::string, std::pair<Key, Tried>> best;
            for (const Tried& t : tried) {
                if (!allowed(t.layer) ||
                    (t.layer.type != LayerType::upsample1d && t.layer.strides > max_stride))
                    continue;
                Reading r = read_layer(t.plan);
                Key key = rank_key(t.plan, r);
                auto it = best.find(r.signature);
                if (it == best.end() || key < it->second.first)
                    best.insert_or_assign(r.signature, std::pair{key, t});
            }
            return best;
        };
        auto firsts = brute_force(L, max_stride, small, true);
        std::set<std::string> singles;
        for (const auto& [signature, member] : classes_of(firsts[M])) singles.insert(signature);
        std::map<std::string, StackKey> best;
        for (auto& [I, tried] : firsts) {
            auto seconds = brute_force(I, max_stride, small, true);
            for (const auto& [sig1, first] : classes_of(tried)) {
                if (is_identity_layer(first.second.plan)) continue;
                for (const auto& [sig2, second] : classes_of(seconds[M])) {
                    if (is_identity_layer(second.second.plan)) continue;
                    c1r::ConfigSpec config;
                    config.layers = {first.second.layer, second.second.layer};
                    name_layers(config);
                    c1r::Plan plan = c1r::make_plan(config, {1, L, 1});
                    std::string combined;
                    std::string cls = weight_free_stack_class(plan, combined);
                    if (!combined.empty() && singles.count(combined)) continue;  // one layer does it
                    StackKey key = stack_key(plan);
                    auto it = best.find(cls);
                    if (it == best.end() || key < it->second) best[cls] = key;
                }
            }
        }
        std::vector<StackKey> keys;
        for (const auto& [cls, key] : best) keys.push_back(key);
        std::sort(keys.begin(), keys.end());

        c1r::PlanQuery q;
        q.in_length = L, q.out_length = M, q.max_kernel = small.max_kernel,
        q.max_dilation = small.max_dilation;
        q.types = types, q.two_layer = true, q.two_layer_top = 100000;
        c1r::PlanResult r = c1r::search_plan(q);
        CHECK_FALSE(r.stacks_search_cut);
        CHECK_FALSE(r.stacks_truncated);
        CHECK(r.stacks.size() == keys.size());
        for (size_t i = 0; i < std::min(keys.size(), r.stacks.size()); ++i) {
            const c1r::Stack& s = r.stacks[i];
            INFO("#" << i + 1 << ": " << describe(s.layers[0].layer) << " -> " << s.layers[0].out_length
                     << " -> " << describe(s.layers[1].layer));
            CHECK(stack_key(plan_from_json({s.layers[0].layer, s.layers[1].layer}, L)) == keys[i]);
        }
    }
}

TEST_CASE("two-layer stacks leave out identity layers and stacks equal to one layer",
          "[planner][two-layer]") {
    c1r::PlanQuery q;
    q.in_length = 20, q.out_length = 10, q.two_layer = true, q.two_layer_top = 200;
    q.types = {LayerType::max_pool1d, LayerType::upsample1d};
    c1r::PlanResult r = c1r::search_plan(q);
    REQUIRE_FALSE(r.stacks.empty());
    std::set<std::string> singles;
    for (const auto& c : r.candidates)
        singles.insert(read_layer(plan_from_json({c.layer}, 20).layers[0]).signature);
    for (const c1r::Stack& s : r.stacks) {
        INFO(describe(s.layers[0].layer) << " -> " << describe(s.layers[1].layer));
        for (const auto& layer : s.layers) {
            bool identity = (layer.layer.type == LayerType::upsample1d && layer.layer.size == 1) ||
                            (layer.layer.pool_size == 1 && layer.layer.strides == 1);
            CHECK_FALSE(identity);
        }
        // Two max windows side by side are one max window: the stack must not equal a listed single layer.
        c1r::Plan plan = plan_from_json({s.layers[0].layer, s.layers[1].layer}, 20);
        Reading a = read_layer(plan.layers[0]), b = read_layer(plan.layers[1]);
        std::ostringstream combined;
        bool single_steps = true;
        for (const auto& xs : b.inputs_of) {
            std::set<int64_t> inputs;
            for (int64_t x : xs) inputs.insert(a.inputs_of[x].begin(), a.inputs_of[x].end());
            single_steps = single_steps && inputs.size() == 1;
            for (int64_t i : inputs) combined << i << ",";
            combined << ";";
        }
        std::string signature =
            std::string(single_steps ? "pick" : "max_pool1d") + " out10:" + combined.str();
        CHECK(singles.count(signature) == 0);
    }
}
