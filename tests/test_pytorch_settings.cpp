// PyTorch layer settings in native configs (SPEC §8, last sentence; docs/pytorch-settings.md): padding_mode on
// conv1d / depthwise / separable / zero_padding1d, PyTorch padding for conv1d_transpose, explicit pool pads,
// ceil_mode, count_include_pad, max_pool1d dilation, linear upsampling with align_corners. Values are checked by
// the golden fixtures (tests/fixtures/layers/pytorch_*.json, made by PyTorch); here: the keys (defaults, the
// writer's round trip, errors naming the pointer), shapes, index maps and what the report says.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>

#include "core/error.hpp"
#include "layers/kind.hpp"
#include "model/spec.hpp"
#include "plan/plan.hpp"
#include "test_helpers.hpp"

using c1r_test::config_json;
using c1r_test::error_from;
using c1r_test::json;
using c1r_test::parse;
using c1r_test::plan_of;
using Catch::Matchers::Contains;

namespace {

const std::string kSource = "configs/pt.json";

json conv(json extra = json::object()) {
    json layer = {{"type", "conv1d"}, {"filters", 4}, {"kernel_size", 3}};
    layer.update(extra);
    return layer;
}

// The error parsing and planning `config` gives: a config error naming the file and exactly `pointer`.
void check_error(const json& config, const std::string& pointer, const std::string& words) {
    CAPTURE(config.dump(), pointer);
    auto e = error_from([&] { plan_of(config, kSource); });
    CHECK(e.kind() == c1r::ErrorKind::config);
    CHECK(e.pointer() == pointer);
    CHECK_THAT(e.what(), Contains(kSource));
    CHECK_THAT(e.what(), Contains(pointer));
    CHECK_THAT(e.what(), Contains(words));
}

json one(const json& layer, int64_t length = 8, int64_t channels = 2) {
    return config_json({1, length, channels}, json::array({layer}));
}

}  // namespace

TEST_CASE("PyTorch settings: defaults keep the Keras behaviour and are written out", "[pytorch-settings][spec]") {
    json layers = json::array({conv(), json{{"type", "zero_padding1d"}}, json{{"type", "max_pool1d"}},
                               json{{"type", "avg_pool1d"}}, json{{"type", "upsample1d"}}});
    auto spec = parse(config_json({1, 16, 2}, layers));
    const auto& l = spec.layers;
    CHECK(l[0].padding_mode == c1r::PaddingMode::zeros);
    CHECK(l[0].keys.at("padding_mode") == "zeros");
    CHECK(l[1].keys.at("padding_mode") == "zeros");
    CHECK_FALSE(l[2].ceil_mode);
    CHECK(l[2].dilation_rate == 1);
    CHECK(l[2].keys.at("ceil_mode") == false);
    CHECK(l[2].keys.at("dilation_rate") == 1);
    CHECK_FALSE(l[2].keys.contains("count_include_pad"));  // max pooling has none
    CHECK_FALSE(l[3].count_include_pad);                   // Keras excludes padding; PyTorch's default is true
    CHECK(l[3].keys.at("count_include_pad") == false);
    CHECK_FALSE(l[3].keys.contains("dilation_rate"));
    CHECK(l[4].interpolation == c1r::Interpolation::nearest);
    CHECK(l[4].keys.at("interpolation") == "nearest");
    CHECK(l[4].keys.at("align_corners") == false);
}

TEST_CASE("PyTorch settings: write_layer is the reader's inverse for every new key", "[pytorch-settings][spec]") {
    const json layers = json::array({
        conv({{"padding", json::array({2, 1})}, {"padding_mode", "circular"}}),
        json{{"type", "depthwise_conv1d"}, {"kernel_size", 3}, {"padding", "same"}, {"padding_mode", "reflect"}},
        json{{"type", "separable_conv1d"}, {"filters", 3}, {"kernel_size", 3}, {"padding", "causal"},
             {"padding_mode", "replicate"}},
        json{{"type", "zero_padding1d"}, {"padding", json::array({1, 2})}, {"padding_mode", "replicate"}},
        json{{"type", "conv1d_transpose"}, {"filters", 2}, {"kernel_size", 3}, {"strides", 1}, {"dilation_rate", 3},
             {"padding", 1}, {"output_padding", 2}},
        json{{"type", "max_pool1d"}, {"pool_size", 3}, {"strides", 2}, {"padding", 1}, {"ceil_mode", true},
             {"dilation_rate", 2}},
        json{{"type", "avg_pool1d"}, {"pool_size", 2}, {"padding", json::array({0, 1})}, {"count_include_pad", true}},
        json{{"type", "upsample1d"}, {"size", 3}, {"interpolation", "linear"}, {"align_corners", true}},
    });
    auto spec = parse(config_json({1, 16, 2}, layers));
    for (size_t i = 0; i < spec.layers.size(); ++i) {
        const c1r::LayerSpec& first = spec.layers[i];
        CAPTURE(i, first.keys.dump());
        const c1r::LayerSpec again = c1r::read_layer(c1r::write_layer(first), first.pointer, "again.json");
        CHECK(again.keys == first.keys);
        CHECK(again.padding_mode == first.padding_mode);
        CHECK(again.padding.kind == first.padding.kind);
        CHECK(again.padding.left == first.padding.left);
        CHECK(again.padding.right == first.padding.right);
        CHECK(again.output_padding == first.output_padding);
        CHECK(again.ceil_mode == first.ceil_mode);
        CHECK(again.count_include_pad == first.count_include_pad);
        CHECK(again.dilation_rate == first.dilation_rate);
        CHECK(again.interpolation == first.interpolation);
        CHECK(again.align_corners == first.align_corners);
    }
    CHECK(spec.layers[0].padding_mode == c1r::PaddingMode::circular);
    CHECK(spec.layers[4].output_padding == 2);
    CHECK(spec.layers[5].ceil_mode);
    CHECK(spec.layers[6].count_include_pad);
    CHECK(spec.layers[7].align_corners);
}

TEST_CASE("PyTorch settings: bad values name the key's pointer", "[pytorch-settings][errors]") {
    check_error(one(conv({{"padding_mode", "mirror"}})), "/layers/0/padding_mode", "unknown value \"mirror\"");
    check_error(one(conv({{"padding_mode", 0}})), "/layers/0/padding_mode", "expected a string");
    check_error(one(conv({{"ceil_mode", true}})), "/layers/0/ceil_mode", "unknown key \"ceil_mode\"");
    check_error(one(json{{"type", "max_pool1d"}, {"count_include_pad", true}}), "/layers/0/count_include_pad",
                "unknown key");
    check_error(one(json{{"type", "avg_pool1d"}, {"dilation_rate", 2}}), "/layers/0/dilation_rate", "unknown key");
    check_error(one(json{{"type", "conv1d_transpose"}, {"filters", 2}, {"kernel_size", 3}, {"padding_mode", "reflect"}}),
                "/layers/0/padding_mode", "unknown key");
    check_error(one(json{{"type", "max_pool1d"}, {"ceil_mode", "yes"}}), "/layers/0/ceil_mode", "expected true or false");
    check_error(one(json{{"type", "upsample1d"}, {"interpolation", "cubic"}}), "/layers/0/interpolation",
                "unknown value \"cubic\"");
    check_error(one(json{{"type", "upsample1d"}, {"align_corners", true}}), "/layers/0/align_corners",
                "needs interpolation \"linear\"");
    // Pools: a pad larger than half the window (PyTorch's rule) would leave windows of padding alone.
    check_error(one(json{{"type", "max_pool1d"}, {"pool_size", 3}, {"padding", 2}}), "/layers/0/padding",
                "at most half of pool_size");
    check_error(one(json{{"type", "avg_pool1d"}, {"pool_size", 2}, {"padding", json::array({0, 2})}}),
                "/layers/0/padding", "at most half of pool_size");
}

TEST_CASE("PyTorch settings: output_padding limits, Keras < strides, PyTorch pads < max(strides, dilation)",
          "[pytorch-settings][errors]") {
    json t = {{"type", "conv1d_transpose"}, {"filters", 2}, {"kernel_size", 3}, {"strides", 2}, {"padding", 1},
              {"output_padding", 2}};
    check_error(one(t), "/layers/0/output_padding", "less than max(strides, dilation_rate) (2)");
    t["dilation_rate"] = 3;  // PyTorch allows output_padding 2 now; Keras 'same' does not
    CHECK(plan_of(one(t)).layers[0].output_shape.length == (8 - 1) * 2 - 2 + 3 * 2 + 1 + 2);
    t["padding"] = "same";
    check_error(one(t), "/layers/0/output_padding", "less than strides (2)");
}

TEST_CASE("PyTorch settings: padding_mode needs pads the input can fill", "[pytorch-settings][errors]") {
    check_error(one(conv({{"padding", 4}, {"padding_mode", "reflect"}}), 4), "/layers/0/padding_mode",
                "less than the input length 4");
    CHECK(plan_of(one(conv({{"padding", 3}, {"padding_mode", "reflect"}}), 4)).layers[0].output_shape.length == 8);
    check_error(one(conv({{"padding", json::array({0, 5})}, {"padding_mode", "circular"}}), 4),
                "/layers/0/padding_mode", "at most the input length 4");
    CHECK(plan_of(one(conv({{"padding", 4}, {"padding_mode", "circular"}}), 4)).layers[0].output_shape.length == 10);
    check_error(one(json{{"type", "zero_padding1d"}, {"padding", 3}, {"padding_mode", "reflect"}}, 3),
                "/layers/0/padding_mode", "reflect");
    // 'same' padding decides the pads: a kernel of 9 on 3 steps pads 4 on each side.
    check_error(one(json{{"type", "depthwise_conv1d"}, {"kernel_size", 9}, {"padding", "same"},
                         {"padding_mode", "reflect"}}, 3),
                "/layers/0/padding_mode", "less than the input length 3");
    // Replicate fills any pad; zeros needs nothing.
    CHECK(plan_of(one(conv({{"padding", 9}, {"padding_mode", "replicate"}}), 2)).layers[0].output_shape.length == 18);
}

TEST_CASE("PyTorch settings: shapes, pads and index maps", "[pytorch-settings][plan]") {
    SECTION("transposed conv with PyTorch padding: L_out = (L-1)s - left - right + K' + output_padding") {
        json t = {{"type", "conv1d_transpose"}, {"filters", 2}, {"kernel_size", 3}, {"strides", 2},
                  {"padding", json::array({2, 0})}, {"output_padding", 1}};
        auto plan = plan_of(one(t, 5));
        CHECK(plan.layers[0].output_shape.length == 4 * 2 - 2 - 0 + 3 + 1);
        CHECK(plan.layers[0].padding == std::pair<int64_t, int64_t>{2, -1});  // crop [left, right - output_padding]
        CHECK(plan.layers[0].receptive_field == 2);  // an output step reads at most ceil(3/2) input steps
    }
    SECTION("ceil_mode adds the last window when it starts inside the input or its left padding") {
        json p = {{"type", "max_pool1d"}, {"pool_size", 2}, {"strides", 2}};
        CHECK(plan_of(one(p, 7)).layers[0].output_shape.length == 3);
        p["ceil_mode"] = true;
        CHECK(plan_of(one(p, 7)).layers[0].output_shape.length == 4);
        json q = {{"type", "avg_pool1d"}, {"pool_size", 2}, {"strides", 3}, {"padding", 1}, {"ceil_mode", true}};
        CHECK(plan_of(one(q, 4)).layers[0].output_shape.length == 2);  // ceil((6-2)/3)+1 = 3, but 3*2 >= 4+1
    }
    SECTION("dilated max pooling spans (k-1)d+1 steps") {
        json p = {{"type", "max_pool1d"}, {"pool_size", 3}, {"strides", 1}, {"dilation_rate", 2}, {"padding", 1}};
        auto plan = plan_of(one(p, 9));
        CHECK(plan.layers[0].output_shape.length == 9 + 2 - 5 + 1);
        CHECK(plan.layers[0].receptive_field == 5);
    }
    SECTION("linear upsampling reads two neighbours; nearest one") {
        json layers = json::array({conv(), json{{"type", "upsample1d"}, {"size", 2}, {"interpolation", "linear"}}});
        auto plan = plan_of(config_json({1, 10, 2}, layers));
        CHECK(plan.layers[1].receptive_field == 4);  // two conv outputs of 3 steps each, one apart
        layers[1]["interpolation"] = "nearest";
        CHECK(plan_of(config_json({1, 10, 2}, layers)).layers[1].receptive_field == 3);
        layers[1] = {{"type", "upsample1d"}, {"size", 2}, {"interpolation", "linear"}, {"align_corners", true}};
        auto aligned = plan_of(config_json({1, 10, 2}, layers));
        CHECK(aligned.layers[1].receptive_field == 4);
        REQUIRE(aligned.layers[1].jump.has_value());
        CHECK(*aligned.layers[1].jump == Approx(7.0 / 15.0));  // (8-1)/(16-1) conv steps per output step
        REQUIRE(plan.layers[1].jump.has_value());
        CHECK(*plan.layers[1].jump == Approx(0.5));
    }
    SECTION("a filled pad + valid conv spans what the conv with that padding_mode spans") {
        json padded = json::array({json{{"type", "zero_padding1d"}, {"padding", 1}, {"padding_mode", "reflect"}}, conv()});
        json fused = json::array({conv({{"padding", 1}, {"padding_mode", "reflect"}})});
        auto a = plan_of(config_json({1, 6, 2}, padded)), b = plan_of(config_json({1, 6, 2}, fused));
        CHECK(a.layers[1].receptive_field == 3);
        CHECK(b.layers[0].receptive_field == 3);
        CHECK(a.layers[1].output_shape == b.layers[0].output_shape);
    }
    SECTION("filled padding: every tap reads data, so FLOPs count them all") {
        auto zeros = plan_of(one(conv({{"padding", 1}}), 6)), filled = plan_of(one(conv({{"padding", 1},
                                                                                               {"padding_mode", "replicate"}}), 6));
        CHECK(filled.layers[0].flops == 2 * 1 * 4 * 2 * 6 * 3);  // 2 * batch * filters * Cin * out * k
        CHECK(zeros.layers[0].flops == 2 * 1 * 4 * 2 * (6 * 3 - 2));
    }
}

TEST_CASE("PyTorch settings: bad input through the binary exits 2 with one line naming the pointer",
          "[pytorch-settings][bad-input]") {
    c1r_test::TempDir dir("c1r_pt_bad");
    struct Bad {
        std::string name;
        json layer;
        int64_t length;
        std::string pointer, words;
    };
    const std::vector<Bad> cases = {
        {"mode.json", conv({{"padding_mode", "mirror"}}), 8, "/layers/0/padding_mode", "unknown value"},
        {"reflect.json", conv({{"padding", 5}, {"padding_mode", "reflect"}}), 5, "/layers/0/padding_mode",
         "less than the input length 5"},
        {"ceil.json", conv({{"ceil_mode", true}}), 8, "/layers/0/ceil_mode", "unknown key"},
        {"op.json", json{{"type", "conv1d_transpose"}, {"filters", 2}, {"kernel_size", 3}, {"padding", 1},
                         {"output_padding", 1}}, 8, "/layers/0/output_padding", "less than max(strides, dilation_rate)"},
    };
    for (const Bad& bad : cases) {
        CAPTURE(bad.name);
        const std::string out = dir.file(bad.name + ".npy");
        auto r = c1r_test::run_binary({dir.write_json(bad.name, one(bad.layer, bad.length)), "--save-output", out, "-q"});
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Contains(bad.name) && Contains(bad.pointer) && Contains(bad.words));
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
        CHECK_FALSE(std::filesystem::exists(out));
    }
}

TEST_CASE("PyTorch settings: the report says where a plain loop does the work", "[pytorch-settings][report]") {
    c1r_test::TempDir dir("c1r_pt_impl");
    json layers = json::array({conv({{"padding", 1}, {"padding_mode", "reflect"}}),
                               json{{"type", "zero_padding1d"}, {"padding", 2}, {"padding_mode", "circular"}},
                               json{{"type", "upsample1d"}, {"interpolation", "linear"}, {"align_corners", true}},
                               json{{"type", "upsample1d"}, {"interpolation", "linear"}},
                               json{{"type", "max_pool1d"}, {"pool_size", 3}, {"dilation_rate", 2}, {"padding", 1}},
                               json{{"type", "avg_pool1d"}, {"pool_size", 3}, {"strides", 3}, {"padding", 1},
                                    {"ceil_mode", true}, {"count_include_pad", true}}});  // 21 steps: overhang 1
    auto r = c1r_test::run_binary({dir.write_json("impl.json", config_json({1, 12, 3}, layers)), "--format", "json",
                                   "--verify", "-q"});
    REQUIRE(r.exit_code == 0);
    json report = json::parse(r.out);
    if (report.is_array()) report = report.at(0);
    const json& rows = report.at("layers");
    REQUIRE(rows.size() == 6);
    CHECK_THAT(rows[0].at("impl").get<std::string>(), Contains("loop:pad_reflect"));
    CHECK_THAT(rows[1].at("impl").get<std::string>(), Contains("loop:pad_circular"));
    CHECK_THAT(rows[2].at("impl").get<std::string>(), Contains("loop:linear_align_corners"));
    CHECK_THAT(rows[3].at("impl").get<std::string>(), !Contains("loop:"));  // oneDNN resampling_linear
    CHECK_THAT(rows[4].at("impl").get<std::string>(), Contains("loop:max_pool_dilated"));
    CHECK_THAT(rows[5].at("impl").get<std::string>(), !Contains("loop:"));  // a zero-padded copy, then oneDNN
    CHECK_THAT(rows[0].at("settings").get<std::string>(), Contains("reflect"));
    CHECK_THAT(rows[5].at("settings").get<std::string>(), Contains("ceil") && Contains("incl_pad"));
}
