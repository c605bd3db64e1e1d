// `plan` end to end through the binary: formats, --emit-config, explicit paddings, crops, bad flags, timing.
// The search itself is checked against a brute force in test_planner.cpp.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "planner/planner.hpp"
#include "test_helpers.hpp"

namespace {

using c1r::LayerType;
using c1r_test::json;

// Input steps of the layer's input that no output step reads, marked step by step from the planned layer's
// stride, pads and taps (conv1d and pools).
int64_t unread_by_marking(const c1r::LayerPlan& p) {
    const c1r::LayerSpec& s = p.spec;
    const int64_t in = p.input_shape.length, out = p.output_shape.length;
    const bool conv = s.type == LayerType::conv1d;
    const int64_t taps = conv ? s.kernel_size : s.pool_size, step = conv ? s.dilation_rate : 1;
    std::vector<bool> read(static_cast<size_t>(in), false);
    for (int64_t o = 0; o < out; ++o)
        for (int64_t j = 0; j < taps; ++j) {
            const int64_t x = o * s.strides - p.padding->first + j * step;
            if (x >= 0 && x < in) read[static_cast<size_t>(x)] = true;
        }
    return std::count(read.begin(), read.end(), false);
}

}  // namespace

// ---- the subcommand ----

TEST_CASE("plan --format json: the acceptance case", "[planner][cli]") {
    auto result =
        c1r_test::run_binary({"plan", "--in-length", "20", "--out-length", "10", "--format", "json"});
    REQUIRE(result.exit_code == 0);
    json doc = json::parse(result.out);
    CHECK(doc.size() == 3);
    CHECK(doc.at("in_length") == 20);
    CHECK(doc.at("out_length") == 10);
    const json& candidates = doc.at("candidates");
    REQUIRE(candidates.is_array());
    CHECK(std::any_of(candidates.begin(), candidates.end(), [](const json& c) {
        return c.at("type") == "conv1d" && c.at("kernel_size") == 2 && c.at("strides") == 2 &&
               c.at("padding") == "valid";
    }));
    CHECK(candidates[0] == json::parse(R"({"type": "max_pool1d", "pool_size": 2, "strides": 2,
        "padding": "valid", "weights": 0, "receptive_field": 2, "padding_amounts": [0, 0], "unread_steps": 0,
        "reads_only_padding": false})"));
    for (const json& c : candidates) {
        // Only the keys that apply to the type, plus the planner's own.
        std::set<std::string> keys;
        for (const auto& [key, value] : c.items()) keys.insert(key);
        std::string type = c.at("type");
        std::set<std::string> expected{
            "type", "weights", "receptive_field", "padding_amounts", "unread_steps", "reads_only_padding"};
        if (type == "conv1d") expected.insert({"kernel_size", "strides", "padding", "dilation_rate"});
        if (type == "max_pool1d" || type == "avg_pool1d")
            expected.insert({"pool_size", "strides", "padding"});
        if (type == "cropping1d") expected.insert("cropping");
        CHECK(keys == expected);
    }
}

TEST_CASE("plan --emit-config writes a runnable config atomically", "[planner][cli]") {
    c1r_test::TempDir dir("c1r_plan");
    const std::string path = dir.file("best.json");
    auto result =
        c1r_test::run_binary({"plan", "--in-length", "20", "--out-length", "10", "--types", "conv1d",
                              "--in-channels", "32", "--out-channels", "16", "--emit-config", path});
    REQUIRE(result.exit_code == 0);
    json config = json::parse(c1r_test::read_text(path));
    // k2 s2 reads every step; k1 s2 (fewer weights) leaves half of them unread and ranks after it.
    CHECK(config.at("layers") ==
          json::parse(R"([{"type": "conv1d", "filters": 16, "kernel_size": 2, "strides": 2,
        "padding": "valid", "dilation_rate": 1}])"));
    c1r::ConfigSpec spec = c1r::parse_config(config, path);
    c1r::Plan plan = c1r::make_plan(spec, c1r::shape_from_dims(*spec.input.shape, spec.data_format));
    CHECK(plan.output_shape == c1r::Shape{1, 10, 16});
    // Nothing else is left in the folder (the temporary file was renamed into place).
    CHECK(std::distance(std::filesystem::directory_iterator(dir.path()),
                        std::filesystem::directory_iterator()) == 1);
    // The tool itself runs it.
    auto run = c1r_test::run_binary({"--config", path, "--dry-run", "--format", "json"});
    REQUIRE(run.exit_code == 0);
    CHECK(json::parse(run.out).at("output").at("shape") == json::array({1, 10, 16}));

    // 5 -> 7: the best is a conv1d_transpose; --out-channels defaults to --in-channels.
    auto pool = c1r_test::run_binary(
        {"plan", "--in-length", "5", "--out-length", "7", "--in-channels", "3", "--emit-config", path});
    REQUIRE(pool.exit_code == 0);
    c1r::ConfigSpec grown = c1r::parse_config(json::parse(c1r_test::read_text(path)), path);
    CHECK(c1r::make_plan(grown, c1r::shape_from_dims(*grown.input.shape, grown.data_format)).output_shape ==
          c1r::Shape{1, 7, 3});
}

// The emitted config, parsed and planned like any config.
c1r::Plan plan_of_file(const std::string& path) {
    c1r::ConfigSpec spec = c1r::parse_config(json::parse(c1r_test::read_text(path)), path);
    return c1r::make_plan(spec, c1r::shape_from_dims(*spec.input.shape, spec.data_format));
}

TEST_CASE("plan --emit-config: (1000, 3) to length 125 with 64 channels reads every input step",
          "[planner][cli]") {
    c1r_test::TempDir dir("c1r_plan");
    const std::string path = dir.file("x.json");
    for (const std::vector<std::string>& types : {std::vector<std::string>{}, {"--types", "conv1d"}}) {
        std::vector<std::string> args{"plan",          "--in-length",    "1000", "--out-length",   "125",
                                      "--in-channels", "3",              "--out-channels", "64",
                                      "--emit-config", path};
        args.insert(args.end(), types.begin(), types.end());
        auto result = c1r_test::run_binary(args);
        INFO(result.err);
        REQUIRE(result.exit_code == 0);
        c1r::Plan plan = plan_of_file(path);
        CHECK(plan.output_shape == c1r::Shape{1, 125, 64});
        // The first layer's windows, marked step by step: none of the 1000 input steps is left unread.
        CHECK(unread_by_marking(plan.layers[0]) == 0);
        if (types.empty()) {
            // A pool wins (no weights) and keeps 3 channels: a 1-wide conv follows it, and the note says so.
            REQUIRE(plan.layers.size() == 2);
            CHECK(plan.layers[0].spec.type == LayerType::max_pool1d);
            CHECK(plan.layers[1].spec.type == LayerType::conv1d);
            CHECK(plan.layers[1].spec.kernel_size == 1);
            CHECK(plan.layers[1].output_shape == c1r::Shape{1, 125, 64});
            CHECK(result.err.find("then conv1d k1 s1 with 64 filters") != std::string::npos);
        } else {
            REQUIRE(plan.layers.size() == 1);
            CHECK(c1r::settings_text(plan.layers[0].spec) == "k8 s8 valid");
        }
        auto run = c1r_test::run_binary({path, "--dry-run", "--format", "json"});
        REQUIRE(run.exit_code == 0);
        CHECK(json::parse(run.out).at("output").at("shape") == json::array({1, 125, 64}));
    }
    // Same channels in and out: the pool alone, nothing added.
    auto same = c1r_test::run_binary({"plan", "--in-length", "1000", "--out-length", "125", "--in-channels", "3",
                                      "--emit-config", path});
    REQUIRE(same.exit_code == 0);
    CHECK(plan_of_file(path).layers.size() == 1);
}

TEST_CASE("plan lists explicit paddings, crops and zero padding", "[planner][cli]") {
    c1r_test::TempDir dir("c1r_plan");
    const std::string path = dir.file("p.json");
    // 5 -> 7 with a conv1d: no named padding grows a length; k3 padding 2 does.
    auto grow = c1r_test::run_binary({"plan", "--in-length", "5", "--out-length", "7", "--types", "conv1d",
                                      "--format", "json", "--emit-config", path});
    REQUIRE(grow.exit_code == 0);
    json doc = json::parse(grow.out);
    REQUIRE_FALSE(doc.at("candidates").empty());
    CHECK(doc["candidates"][0] == json::parse(R"({"type": "conv1d", "kernel_size": 3, "strides": 1, "padding": 2,
        "dilation_rate": 1, "weights": 3, "receptive_field": 3, "padding_amounts": [2, 2], "unread_steps": 0,
        "reads_only_padding": false})"));
    CHECK(json::parse(c1r_test::read_text(path)).at("layers")[0].at("padding") == 2);
    CHECK(plan_of_file(path).output_shape.length == 7);
    // An odd total is written [left, right], the odd step on the right.
    bool odd = false;
    for (const json& c : doc["candidates"])
        if (c.at("kernel_size") == 4) odd = c.at("padding") == json::array({2, 3});
    CHECK(odd);
    // Without conv1d in --types: zero padding, centred.
    auto pad = c1r_test::run_binary(
        {"plan", "--in-length", "5", "--out-length", "8", "--types", "zero_padding1d", "--format", "json"});
    REQUIRE(pad.exit_code == 0);
    CHECK(json::parse(pad.out).at("candidates") == json::parse(R"([{"type": "zero_padding1d", "padding": [1, 2],
        "weights": 0, "receptive_field": 1, "padding_amounts": [1, 2], "unread_steps": 0,
        "reads_only_padding": true}])"));
    // A crop leaves steps unread: after every setting that reads them all.
    auto crop = c1r_test::run_binary({"plan", "--in-length", "12", "--out-length", "9", "--types",
                                      "cropping1d,max_pool1d", "--format", "json", "--emit-config", path,
                                      "--in-channels", "2", "--out-channels", "5"});
    REQUIRE(crop.exit_code == 0);
    json crops = json::parse(crop.out).at("candidates");
    REQUIRE_FALSE(crops.empty());
    CHECK(crops[0].at("unread_steps") == 0);
    CHECK(crops.back() == json::parse(R"({"type": "cropping1d", "cropping": [1, 2], "weights": 0,
        "receptive_field": 1, "padding_amounts": [-1, -2], "unread_steps": 3, "reads_only_padding": false})"));
    CHECK(plan_of_file(path).output_shape == c1r::Shape{1, 9, 5});
}

TEST_CASE("plan with no candidate is not an error", "[planner][cli]") {
    c1r_test::TempDir dir("c1r_plan");
    const std::string path = dir.file("none.json");
    auto result = c1r_test::run_binary({"plan", "--in-length", "5", "--out-length", "7", "--types",
                                        "max_pool1d", "--format", "json", "--emit-config", path});
    CHECK(result.exit_code == 0);
    CHECK(json::parse(result.out) == json::parse(R"({"in_length": 5, "out_length": 7, "candidates": []})"));
    CHECK(result.err.find("no single-layer setting") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("plan refuses bad flags with exit 2 and one line", "[planner][cli]") {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{"--in-length", "0", "--out-length", "10"}, "--in-length 0"},
        {{"--in-length", "10", "--out-length", "-3"}, "--out-length -3"},
        {{"--in-length", "2000000", "--out-length", "10"}, "--in-length 2000000"},
        {{"--in-length", "10", "--out-length", "5", "--max-kernel", "0"}, "--max-kernel 0"},
        {{"--in-length", "10", "--out-length", "5", "--max-dilation", "2000000"}, "--max-dilation 2000000"},
        {{"--in-length", "10", "--out-length", "5", "--max-kernel", "1000", "--max-dilation", "1000"},
         "at most"},
        {{"--in-length", "10", "--out-length", "5", "--types", "conv1d,conv2d"}, "conv2d"},
        {{"--in-length", "10", "--out-length", "5", "--top", "0"}, "--top 0"},
        {{"--in-length", "10", "--out-length", "5", "--in-channels", "0"}, "--in-channels 0"},
        {{"--in-length", "100000", "--out-length", "2"}, "--top"},
    };
    for (const auto& [flags, message] : cases) {
        std::vector<std::string> args{"plan"};
        args.insert(args.end(), flags.begin(), flags.end());
        auto result = c1r_test::run_binary(args);
        CAPTURE(flags, result.err);
        CHECK(result.exit_code == 2);
        CHECK(result.err.find(message) != std::string::npos);
        CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
        CHECK(result.out.empty());
    }
    auto format = c1r_test::run_binary({"plan", "--in-length", "10", "--out-length", "5", "--format", "xml"});
    CHECK(format.exit_code == 2);
}

TEST_CASE("plan table and csv", "[planner][cli]") {
    auto table = c1r_test::run_binary({"plan", "--in-length", "20", "--out-length", "10"});
    REQUIRE(table.exit_code == 0);
    std::istringstream lines(table.out);
    std::string summary, header, row;
    std::getline(lines, summary);
    std::getline(lines, header);
    std::getline(lines, row);
    CHECK(summary.rfind("plan 20 -> 10: ", 0) == 0);
    CHECK(header.find("settings") != std::string::npos);
    CHECK(row.find("max_pool1d  p2 s2 valid") != std::string::npos);
    CHECK(row.substr(header.find("weights"), 7) == "      0");  // right-aligned under its header

    auto csv = c1r_test::run_binary(
        {"plan", "--in-length", "20", "--out-length", "10", "--format", "csv", "--top", "3"});
    REQUIRE(csv.exit_code == 0);
    CHECK(csv.out ==
          "list,rank,layer,type,kernel_size,strides,padding,dilation_rate,output_padding,pool_size,size,in_"
          "length,"
          "out_length,weights,padding_left,padding_right,receptive_field,unread_steps,reads_only_padding\n"
          "single,1,0,max_pool1d,,2,valid,,,2,,20,10,0,0,0,2,0,false\n"
          "single,2,0,avg_pool1d,,2,valid,,,2,,20,10,0,0,0,2,0,false\n"
          "single,3,0,max_pool1d,,2,same,,,3,,20,10,0,0,1,3,0,false\n");
    CHECK(csv.err.find("more exist") != std::string::npos);
}

TEST_CASE("plan --two-layer answers quickly and says when it shows only part", "[planner][cli][two-layer]") {
    auto start = std::chrono::steady_clock::now();
    auto result = c1r_test::run_binary(
        {"plan", "--in-length", "1000", "--out-length", "10", "--two-layer", "--format", "json"});
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    REQUIRE(result.exit_code == 0);
    CHECK(seconds < 5.0);  // about 0.05 s alone; generous for a loaded machine
    json doc = json::parse(result.out);
    REQUIRE(doc.at("two_layer").size() == 20);
    CHECK(result.err.find("20 simplest two-layer stacks") != std::string::npos);
    const json& best = doc.at("two_layer")[0];
    CHECK(best.at("layers").size() == 2);
    CHECK(best.at("intermediate_length") == 111);
    CHECK(best.at("weights") == 0);
    CHECK(best.at("unread_steps") == 190);  // 10 outputs x 81 steps read of 1000
}
