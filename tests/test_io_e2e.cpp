// End to end with real data: committed sequence and weights in, saved output compared with PyTorch's.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "io/npy.hpp"

namespace {

namespace fs = std::filesystem;

struct Result {
    int exit_code = -1;
    std::string out, err;
};

// Runs the binary through the shell with stdout and stderr captured apart.
Result run_binary(const std::string& args) {
    fs::path dir = fs::temp_directory_path() / ("c1r_e2e_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::string command = std::string(C1R_BINARY) + " " + args + " > " + (dir / "out").string() + " 2> " +
                          (dir / "err").string();
    int status = std::system(command.c_str());
    Result r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    auto slurp = [](const fs::path& p) {
        std::ifstream in(p);
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    r.out = slurp(dir / "out");
    r.err = slurp(dir / "err");
    fs::remove_all(dir);
    return r;
}

struct TempDir {
    fs::path path = fs::temp_directory_path() / ("c1r_e2e_dir_" + std::to_string(::getpid()));
    TempDir() { fs::create_directories(path); }
    ~TempDir() { fs::remove_all(path); }
};

}  // namespace

TEST_CASE("data example: saved output equals PyTorch's, element by element", "[e2e][npy]") {
    TempDir tmp;
    std::string out = (tmp.path / "out.npy").string();
    Result r = run_binary(std::string(C1R_SOURCE_DIR) + "/configs/data_example.json --quiet --repeats 2 --warmup 1 "
                          "--format json --save-output " + out);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    c1r::NpyArray got = c1r::read_npy(out);
    c1r::NpyArray want = c1r::read_npy(std::string(C1R_FIXTURE_DIR) + "/e2e/data_example_expected.npy");
    REQUIRE(got.shape == want.shape);
    REQUIRE(got.shape == std::vector<int64_t>{1, 64, 4});
    double max_error = 0;
    for (size_t i = 0; i < got.data.size(); ++i) max_error = std::max(max_error, double(std::fabs(got.data[i] - want.data[i])));
    CHECK(max_error < 1e-5);
    // Only the output is left in the folder: the temporary file was renamed into place.
    CHECK(std::distance(fs::directory_iterator(tmp.path), fs::directory_iterator{}) == 1);
}

TEST_CASE("channels_first: the saved output is (N, C, L)", "[e2e][npy]") {
    TempDir tmp;
    std::string out = (tmp.path / "cf.npy").string();
    Result r = run_binary(std::string(C1R_SOURCE_DIR) + "/configs/channels_first.json --quiet --repeats 1 --warmup 0 "
                          "--format json --save-output " + out);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    // (1, 32, 20) -conv k2 s2-> (1, 16, 10) -avgpool 2 same-> (1, 16, 5) -reshape [8, -1]-> (1, 8, 10)
    CHECK(c1r::read_npy(out).shape == std::vector<int64_t>{1, 8, 10});
}

TEST_CASE("input file on the command line replaces the config's input, shape included", "[e2e][input]") {
    TempDir tmp;
    std::string seq = std::string(C1R_SOURCE_DIR) + "/configs/data/sensor.npy";  // (64, 3): batch 1
    // reduce.json was written for (1, 20, 32); --input runs the stack on the file's (1, 64, 3) (SPEC §3):
    // conv1d 16 filters k2 s2 valid gives floor((64 - 2) / 2) + 1 = 32 steps.
    Result ok = run_binary(std::string(C1R_SOURCE_DIR) + "/configs/reduce.json --dry-run --format json --input " + seq);
    INFO(ok.err);
    REQUIRE(ok.exit_code == 0);
    CHECK(nlohmann::json::parse(ok.out)["output"]["shape"] == nlohmann::json::array({1, 32, 16}));

    std::ofstream(tmp.path / "free.json") << R"({"input": {"file": "none.npy"}, "layers": [
        {"type": "conv1d", "filters": 2, "kernel_size": 3, "strides": 2}]})";
    Result free = run_binary((tmp.path / "free.json").string() + " --dry-run --format json --input " + seq);
    INFO(free.err);
    REQUIRE(free.exit_code == 0);
    // valid k3 s2 on 64 steps: floor((64 - 3) / 2) + 1 = 31
    CHECK(nlohmann::json::parse(free.out)["output"]["shape"] == nlohmann::json::array({1, 31, 2}));
}

TEST_CASE("weights of the wrong shape are refused with both shapes", "[e2e][weights]") {
    TempDir tmp;
    std::string data = std::string(C1R_SOURCE_DIR) + "/configs/data/";
    std::ofstream(tmp.path / "w.json") << R"({"input": {"shape": [1, 16, 3]}, "layers": [
        {"type": "conv1d", "filters": 4, "kernel_size": 5, "weights": {"kernel": ")" << data << R"(conv_kernel.npy"}}]})";
    Result r = run_binary((tmp.path / "w.json").string() + " --format json");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("conv_kernel.npy") != std::string::npos);
    CHECK(r.err.find("(5, 3, 8)") != std::string::npos);  // the file
    CHECK(r.err.find("(5, 3, 4)") != std::string::npos);  // what filters 4 needs
    CHECK(r.out.find("\"error\"") != std::string::npos);
}
