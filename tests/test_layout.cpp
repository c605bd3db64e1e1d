// Model input and output axis orders (`layout`, layers/layout.hpp): --input is read and --save-output written in
// the order the config gives, a plain transpose checked here against a transpose done by the test itself.
#include "test_helpers.hpp"

#include "io/npy.hpp"

using namespace c1r_test;

namespace {

// x[i0][i1][i2] in a row-major (d0, d1, d2) buffer.
float at3(const std::vector<float>& x, const std::vector<int64_t>& d, int64_t i0, int64_t i1, int64_t i2) {
    return x[static_cast<size_t>((i0 * d[1] + i1) * d[2] + i2)];
}

std::vector<float> ramp(size_t n) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = 0.25f * static_cast<float>(i) - 3.0f;
    return v;
}

}  // namespace

TEST_CASE("layout: an (L, B, C) input and a (C, B, 1, L) output are transposes of the data", "[layout][e2e]") {
    TempDir tmp("c1r_layout");
    const std::vector<int64_t> xd{3, 2, 4};  // L=3, B=2, C=4
    const std::vector<float> x = ramp(24);
    c1r::write_npy(tmp.file("x.npy"), xd, x.data(), x.size());
    json config = {{"inputs", {{"x", {{"shape", xd}, {"layout", "LBC"}}}}},
                   {"layers", {{{"name", "same"}, {"type", "dropout"}, {"rate", 0.0}}}},
                   {"outputs", {{{"name", "same"}, {"layout", "CB1L"}}}},
                   {"run", {{"warmup", 0}, {"repeats", 1}, {"threads", 1}}}};
    for (const char* format : {"channels_last", "channels_first"}) {
        INFO(format);
        config["data_format"] = format;
        const std::string path = tmp.write_json("m.json", config);
        ProcessResult r = run_binary({path, "--input", tmp.file("x.npy"), "--save-output", tmp.file("y.npy"),
                                      "--verify", "--format", "json", "--quiet"});
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        const json report = json::parse(r.out);
        CHECK(report["input"]["shape"] == json(xd));
        CHECK(report["outputs"][0]["shape"] == json({4, 2, 1, 3}));
        c1r::NpyArray y = c1r::read_npy(tmp.file("y.npy"), 8);
        REQUIRE(y.shape == std::vector<int64_t>{4, 2, 1, 3});
        for (int64_t c = 0; c < 4; ++c)
            for (int64_t b = 0; b < 2; ++b)
                for (int64_t l = 0; l < 3; ++l)
                    CHECK(y.data[static_cast<size_t>((c * 2 + b) * 3 + l)] == at3(x, xd, l, b, c));
    }
}

TEST_CASE("layout: a layer between them sees our axes (dense over the channels of an (L, B, C) input)", "[layout][e2e]") {
    TempDir tmp("c1r_layout");
    const std::vector<int64_t> xd{2, 3, 2};  // L=2, B=3, C=2
    const std::vector<float> x = ramp(12);
    c1r::write_npy(tmp.file("x.npy"), xd, x.data(), x.size());
    // dense 2 -> 1 with kernel [1, 10] and bias 0.5: y = x_c0 + 10 x_c1 + 0.5, written (B, L, 1).
    fs::create_directories(tmp.path() / "w" / "fc");
    const std::vector<float> kernel{1.0f, 10.0f}, bias{0.5f};
    c1r::write_npy((tmp.path() / "w" / "fc" / "kernel.npy").string(), {2, 1}, kernel.data(), 2);
    c1r::write_npy((tmp.path() / "w" / "fc" / "bias.npy").string(), {1}, bias.data(), 1);
    json config = {{"input", {{"shape", xd}, {"layout", "LBC"}}},
                   {"layers", {{{"name", "fc"}, {"type", "dense"}, {"units", 1}}}},
                   {"outputs", {{{"name", "fc"}, {"layout", "BLC"}}}}};
    ProcessResult r = run_binary({tmp.write_json("m.json", config), "--weights", (tmp.path() / "w").string(), "--input",
                                  tmp.file("x.npy"), "--save-output", tmp.file("y.npy"), "--verify", "--quiet",
                                  "--repeats", "1", "--warmup", "0"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    c1r::NpyArray y = c1r::read_npy(tmp.file("y.npy"), 8);
    REQUIRE(y.shape == std::vector<int64_t>{3, 2, 1});
    for (int64_t b = 0; b < 3; ++b)
        for (int64_t l = 0; l < 2; ++l)
            CHECK(y.data[static_cast<size_t>(b * 2 + l)] ==
                  Approx(at3(x, xd, l, b, 0) + 10.0 * at3(x, xd, l, b, 1) + 0.5).epsilon(1e-6));
}

TEST_CASE("layout: a rank-2 output as (1, B, C), and the dry run reports shapes in that order", "[layout][cli]") {
    TempDir tmp("c1r_layout");
    json config = {{"input", {{"shape", {2, 5, 3}}}},
                   {"layers", {{{"name", "g"}, {"type", "global_avg_pool1d"}}}},
                   {"outputs", {{{"name", "g"}, {"layout", "1BC"}}}}};
    ProcessResult r = run_binary({tmp.write_json("m.json", config), "--dry-run", "--format", "json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const json report = json::parse(r.out);
    CHECK(report["output"]["shape"] == json({1, 2, 3}));
    CHECK(report["outputs"][0]["shape"] == json({1, 2, 3}));
    CHECK(report["input"]["shape"] == json({2, 5, 3}));
}

TEST_CASE("layout: bad axis orders are config errors naming the place", "[layout][bad]") {
    TempDir tmp("c1r_layout");
    const json layers = {{{"name", "d"}, {"type", "dropout"}, {"rate", 0.0}}};
    struct Case {
        json config;
        std::string place, why;
    };
    const std::vector<Case> cases = {
        {{{"input", {{"shape", {1, 4, 2}}}}, {"layers", layers}, {"outputs", {{{"name", "d"}, {"layout", "BXC"}}}}},
         "/outputs/0/layout", "unknown axis letter 'X'"},
        {{{"input", {{"shape", {1, 4, 2}}}}, {"layers", layers}, {"outputs", {{{"name", "d"}, {"layout", "BLLC"}}}}},
         "/outputs/0/layout", "axis L appears twice"},
        {{{"input", {{"shape", {1, 4, 2}}}}, {"layers", layers}, {"outputs", {{{"name", "d"}, {"layout", "LC"}}}}},
         "/outputs/0/layout", "no batch axis B"},
        {{{"input", {{"shape", {1, 4, 2}}}}, {"layers", layers}, {"outputs", {{{"name", "d"}, {"layout", 3}}}}},
         "/outputs/0/layout", "expected an axis order"},
        {{{"input", {{"shape", {1, 4, 2}}}}, {"layers", layers}, {"outputs", {{{"name", "d"}, {"layout", "B1C"}}}}},
         "/outputs/0/layout", "is for a rank-2 output, but \"d\" is rank 3"},
        {{{"input", {{"shape", {1, 4, 2}}}}, {"layers", layers}, {"outputs", {{{"name", "d"}, {"order", "BLC"}}}}},
         "/outputs/0/order", "unknown key"},
        {{{"input", {{"shape", {1, 4, 2}}, {"layout", ""}}}, {"layers", layers}}, "/input/layout", "empty axis order"},
        {{{"input", {{"shape", {1, 4, 2}}, {"layout", "LB1C"}}}, {"layers", layers}}, "/input/shape",
         "expected 4 positive integers"},
        {{{"input", {{"shape", {4, 2, 2}}, {"layout", "L1C"}}}, {"layers", layers}}, "/input/layout", "no batch axis B"},
        {{{"input", {{"shape", {4, 2, 2, 2}}, {"layout", "L1BC"}}}, {"layers", layers}}, "/input/shape", "size-1 axis"},
    };
    for (size_t k = 0; k < cases.size(); ++k) {
        INFO("case " << k << ": " << cases[k].config.dump());
        ProcessResult r = run_binary({tmp.write_json("bad.json", cases[k].config), "--dry-run"});
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("bad.json: " + cases[k].place + ": ") != std::string::npos);
        CHECK(r.err.find(cases[k].why) != std::string::npos);
    }
}

TEST_CASE("layout: an --input file that does not fit the input's axis order is refused naming it", "[layout][bad]") {
    TempDir tmp("c1r_layout");
    const std::vector<float> x = ramp(12);
    c1r::write_npy(tmp.file("x.npy"), {3, 4}, x.data(), x.size());
    json config = {{"input", {{"shape", {3, 2, 2}}, {"layout", "LBC"}}},
                   {"layers", {{{"name", "d"}, {"type", "dropout"}, {"rate", 0.0}}}}};
    ProcessResult r = run_binary({tmp.write_json("m.json", config), "--input", tmp.file("x.npy"), "--dry-run"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("x.npy: shape (3, 4) has 2 axes, the layout \"LBC\" 3") != std::string::npos);
    CHECK(r.err.find("/input/layout") != std::string::npos);
}

TEST_CASE("a rank-2 input keeps its features in channels_first too, with or without a layout", "[layout][cli]") {
    TempDir tmp("c1r_layout");
    for (const json& input : {json{{"shape", {2, 5}}}, json{{"shape", {5, 2}}, {"layout", "CB"}}}) {
        INFO(input.dump());
        json config = {{"data_format", "channels_first"}, {"input", input}, {"layers", {{{"type", "dense"}, {"units", 3}}}}};
        ProcessResult r = run_binary({tmp.write_json("m.json", config), "--dry-run", "--format", "json"});
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        const json report = json::parse(r.out);
        CHECK(report["input"]["shape"] == input["shape"]);
        CHECK(report["params"] == 5 * 3 + 3);
    }
}
