// layer_normalization over every axis, the batch too (axis [0, 1, 2]): the saved output and statistics against
// the normalisation computed here in double over the whole tensor; weights made for another batch size, and axis
// lists that include the batch without every other axis, are clean exit-2 errors naming them.
#include "test_helpers.hpp"

#include <cmath>

#include "io/npy.hpp"

using namespace c1r_test;

namespace {

const std::vector<int64_t> kShape{2, 5, 3};  // (batch, length, channels)

std::vector<float> wave(size_t n, double f, double a, double b = 0) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>(std::sin(f * static_cast<double>(i) + 0.3) * a + b);
    return v;
}

json config(const json& axis, bool stats) {
    json ln = {{"type", "layer_normalization"}, {"name", "ln"}, {"axis", axis}, {"epsilon", 0.1}};
    if (stats) ln["return_statistics"] = true;
    json c = {{"input", {{"shape", kShape}}},
              {"layers", {ln}},
              {"run", {{"warmup", 0}, {"repeats", 1}, {"threads", 1}}}};
    if (stats) c["outputs"] = {"ln", "ln:1", "ln:2"};
    return c;
}

}  // namespace

TEST_CASE("layer_normalization axis [0, 1, 2] normalises the whole tensor, gamma/beta (B, L, C)", "[norm][e2e]") {
    TempDir tmp("c1r_ln_batch");
    const size_t n = 2 * 5 * 3;
    const std::vector<float> x = wave(n, 0.9, 2.0, 0.4), gamma = wave(n, 1.7, 1.2), beta = wave(n, 0.5, 0.7);
    c1r::write_npy(tmp.file("x.npy"), kShape, x.data(), n);
    fs::create_directories(tmp.path() / "w" / "ln");
    c1r::write_npy((tmp.path() / "w" / "ln" / "gamma.npy").string(), kShape, gamma.data(), n);
    c1r::write_npy((tmp.path() / "w" / "ln" / "beta.npy").string(), kShape, beta.data(), n);
    ProcessResult r = run_binary({tmp.write_json("m.json", config(json::array({0, 1, 2}), true)), "--input",
                                  tmp.file("x.npy"), "--weights", (tmp.path() / "w").string(), "--verify", "--quiet",
                                  "--save-output", "ln=" + tmp.file("y.npy"), "--save-output",
                                  "ln:1=" + tmp.file("mean.npy"), "--save-output", "ln:2=" + tmp.file("inv.npy")});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);

    double mean = 0, var = 0;
    for (float v : x) mean += v;
    mean /= static_cast<double>(n);
    for (float v : x) var += (v - mean) * (v - mean);
    var /= static_cast<double>(n);
    const double inv = 1.0 / std::sqrt(var + 0.1);

    c1r::NpyArray y = c1r::read_npy(tmp.file("y.npy"));
    REQUIRE(y.shape == kShape);
    for (size_t i = 0; i < n; ++i) CHECK(y.data[i] == Approx((x[i] - mean) * inv * gamma[i] + beta[i]).margin(1e-5));
    c1r::NpyArray m = c1r::read_npy(tmp.file("mean.npy")), s = c1r::read_npy(tmp.file("inv.npy"));
    CHECK(m.shape == std::vector<int64_t>{1, 1, 1});
    CHECK(s.shape == std::vector<int64_t>{1, 1, 1});
    REQUIRE(m.data.size() == 1);
    REQUIRE(s.data.size() == 1);
    CHECK(m.data[0] == Approx(mean).margin(1e-6));
    CHECK(s.data[0] == Approx(inv).epsilon(1e-5));
}

TEST_CASE("layer_normalization axis [0, 1, 2]: weights for another batch size are an exit-2 error naming both", "[norm][bad]") {
    TempDir tmp("c1r_ln_batch");
    const size_t n = 2 * 5 * 3;
    const std::vector<float> ones(n, 1.0f);
    fs::create_directories(tmp.path() / "w" / "ln");
    c1r::write_npy((tmp.path() / "w" / "ln" / "gamma.npy").string(), kShape, ones.data(), n);
    c1r::write_npy((tmp.path() / "w" / "ln" / "beta.npy").string(), kShape, ones.data(), n);
    const std::string model = tmp.write_json("m.json", config(json::array({0, 1, 2}), false));
    for (bool dry : {false, true}) {
        INFO("dry run " << dry);
        std::vector<std::string> args{model, "--weights", (tmp.path() / "w").string(), "--batch", "4"};
        if (dry) args.push_back("--dry-run");
        ProcessResult r = run_binary(args);
        INFO(r.err);
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("gamma.npy") != std::string::npos);
        CHECK(r.err.find("'ln'") != std::string::npos);
        CHECK(r.err.find("is for batch 2, but the input's batch is 4") != std::string::npos);
    }
    // The batch the weights were made for runs.
    ProcessResult ok = run_binary({model, "--weights", (tmp.path() / "w").string(), "--batch", "2", "--quiet"});
    INFO(ok.err);
    CHECK(ok.exit_code == 0);
}

TEST_CASE("layer_normalization: the batch axis only with every other axis", "[norm][bad]") {
    TempDir tmp("c1r_ln_batch");
    for (const json& axis : {json::array({0, 2}), json::array({0, 1}), json(0)}) {
        INFO(axis.dump());
        ProcessResult r = run_binary({tmp.write_json("m.json", config(axis, false)), "--dry-run"});
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("m.json") != std::string::npos);
        CHECK(r.err.find("/layers/0/axis") != std::string::npos);
        CHECK(r.err.find("includes the batch axis (0)") != std::string::npos);
        CHECK(r.err.find("axis [0, 1, 2]") != std::string::npos);
    }
}
