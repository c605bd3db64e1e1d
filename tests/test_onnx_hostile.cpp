// Hostile and unmappable ONNX files: each a clean exit 2 with a message naming the file and the place, no
// output file (fixtures from scripts/make_onnx_fixtures.py make_hostile(); truncated and random bytes made here).
#include <random>

#include "test_helpers.hpp"

using namespace c1r_test;

namespace {

const std::string kHostile = std::string(C1R_FIXTURE_DIR) + "/onnx/hostile/";

// Runs the binary on `path` with --save-output; requires exit 2, every `expected` text on stderr, no crash
// text and no output file.
void refused(const std::string& path, const std::vector<std::string>& expected) {
    TempDir dir("c1r_onnx_bad");
    const std::string out = dir.file("y.npy");
    ProcessResult r = run_binary({path, "--save-output", out, "--repeats", "1", "--warmup", "0"});
    INFO(path << "\nstderr: " << r.err);
    CHECK(r.exit_code == 2);
    for (const auto& e : expected) CHECK(r.err.find(e) != std::string::npos);
    CHECK(r.err.find("terminate") == std::string::npos);
    CHECK(!fs::exists(out));
}

}  // namespace

TEST_CASE("ONNX hostile: the good twin of the hostile files runs", "[onnx]") {
    ProcessResult r = run_binary({kHostile + "good.onnx", "--repeats", "1", "--warmup", "0"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
}

TEST_CASE("ONNX hostile: truncated and random protobuf", "[onnx]") {
    const std::string good = read_text(kHostile + "good.onnx");
    REQUIRE(good.size() > 40);
    TempDir dir("c1r_onnx_trunc");
    for (size_t cut : {size_t{1}, size_t{7}, good.size() / 2, good.size() - 3}) {
        const std::string path = dir.write("cut" + std::to_string(cut) + ".onnx", good.substr(0, cut));
        refused(path, {"cut" + std::to_string(cut) + ".onnx"});
    }
    std::mt19937 rng(7);
    for (int k = 0; k < 8; ++k) {
        std::string bytes(static_cast<size_t>(16 + 97 * k), '\0');
        for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
        refused(dir.write("random" + std::to_string(k) + ".onnx", bytes), {"random" + std::to_string(k) + ".onnx"});
    }
    refused(dir.write("empty.onnx", ""), {"empty.onnx", "no graph"});
}

TEST_CASE("ONNX hostile: sizes the file states are checked before use", "[onnx]") {
    refused(kHostile + "dims_beyond_limits.onnx", {"dims_beyond_limits.onnx", "initializer \"w\"", "dimension"});
    refused(kHostile + "elements_beyond_limits.onnx", {"initializer \"w\"", "elements"});
    refused(kHostile + "initializer_size_mismatch.onnx", {"initializer \"w\"", "holds 17 values but its shape needs 18"});
    refused(kHostile + "raw_size_mismatch.onnx", {"initializer \"w\"", "holds 70 bytes"});
}

TEST_CASE("ONNX hostile: graph structure, opset, external data", "[onnx]") {
    refused(kHostile + "cycle.onnx", {"cycle.onnx", "cycle"});
    refused(kHostile + "opset_too_new.onnx", {"opset 99 is not supported"});
    refused(kHostile + "external_data.onnx", {"initializer \"w\"", "external data"});
    refused(kHostile + "undefined_input.onnx", {"node add", "nowhere"});
    refused(kHostile + "rank4_input.onnx", {"input \"x\"", "rank 4"});
    refused(kHostile + "symbolic_length.onnx", {"input \"x\"", "symbolic"});
    refused(kHostile + "clip_min_above_max.onnx", {"clip_min_above_max.onnx", "node clip (Clip)", "min greater than max"});
}

TEST_CASE("ONNX hostile: every unsupported operator is listed at once", "[onnx]") {
    TempDir dir("c1r_onnx_unsup");
    ProcessResult r = run_binary({kHostile + "unsupported_ops.onnx"});
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("2 ONNX nodes cannot be mapped") != std::string::npos);
    CHECK(r.err.find("node my_cos (Cos)") != std::string::npos);
    CHECK(r.err.find("node my_cumsum (CumSum)") != std::string::npos);
    // Their readers are not listed again.
    CHECK(r.err.find("after_cos") == std::string::npos);
    CHECK(r.err.find("node join") == std::string::npos);
}
