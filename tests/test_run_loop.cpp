// The run loop through the binary: --save-weights round trips, --save-output CSV, the progress line on a
// terminal, --max-memory counting what the process holds, and memory that stays flat over a sweep.
#include <pty.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>

#include "cli/progress.hpp"
#include "io/npy.hpp"
#include "test_helpers.hpp"

using namespace c1r_test;
using Catch::Matchers::Contains;

namespace {

const std::vector<std::string> kQuick{"--repeats", "1", "--warmup", "0", "--threads", "1", "--quiet"};

std::vector<std::string> args(std::vector<std::string> first, const std::vector<std::string>& more = kQuick) {
    first.insert(first.end(), more.begin(), more.end());
    return first;
}

// A (1, length, channels) input of seeded normal values, written as .npy.
std::string write_input(const TempDir& dir, const std::string& name, int64_t length, int64_t channels) {
    std::mt19937 gen(11);
    std::normal_distribution<float> normal;
    std::vector<float> values(static_cast<size_t>(length * channels));
    for (auto& v : values) v = normal(gen);
    c1r::write_npy(dir.file(name), {1, length, channels}, values.data(), values.size());
    return dir.file(name);
}

// Layers with weights of every shape family: conv kernel and bias, batch-norm statistics, a transposed
// kernel, a bidirectional LSTM (variables in "forward_<name>/" and "backward_<name>/" folders), dense.
json weighted_stack() {
    return json::array(
        {conv_layer(6, 3, 1, "same"),
         {{"type", "batch_normalization"}},
         {{"type", "conv1d_transpose"}, {"filters", 4}, {"kernel_size", 2}, {"strides", 2}},
         {{"type", "bidirectional"}, {"layer", {{"type", "lstm"}, {"units", 3}, {"return_sequences", true}}}},
         {{"type", "dense"}, {"units", 2}}});
}

std::vector<std::string> files_under(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file()) out.push_back(fs::relative(e.path(), dir).string());
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::vector<double>> read_csv_rows(const std::string& path) {
    std::vector<std::vector<double>> rows;
    std::istringstream in(read_text(path));
    std::string line;
    while (std::getline(in, line)) {
        std::vector<double> row;
        std::istringstream cells(line);
        std::string cell;
        while (std::getline(cells, cell, ',')) row.push_back(std::stod(cell));
        rows.push_back(row);
    }
    return rows;
}

}  // namespace

TEST_CASE("save weights: a random-weights run is reproduced from the folder under another seed",
          "[run-loop][weights]") {
    TempDir dir;
    const std::string config = dir.write_json("stack.json", config_json({1, 8, 3}, weighted_stack(), 3));
    const std::string input = write_input(dir, "x.npy", 8, 3);
    const std::string weights = dir.file("w");
    auto first = run_binary(args({config, "--input", input, "--seed", "3", "--save-weights", weights,
                                  "--save-output", dir.file("a.npy")}));
    INFO(first.err);
    REQUIRE(first.exit_code == 0);
    // The layout --weights reads: DIR/<layer name>/<variable>.npy, Keras shapes, every variable of every
    // layer.
    CHECK(files_under(weights) ==
          std::vector<std::string>{
              "batch_normalization/beta.npy", "batch_normalization/gamma.npy",
              "batch_normalization/moving_mean.npy", "batch_normalization/moving_variance.npy",
              "bidirectional/backward_lstm/bias.npy", "bidirectional/backward_lstm/kernel.npy",
              "bidirectional/backward_lstm/recurrent_kernel.npy", "bidirectional/forward_lstm/bias.npy",
              "bidirectional/forward_lstm/kernel.npy", "bidirectional/forward_lstm/recurrent_kernel.npy",
              "conv1d/bias.npy", "conv1d/kernel.npy", "conv1d_transpose/bias.npy",
              "conv1d_transpose/kernel.npy", "dense/bias.npy", "dense/kernel.npy"});
    CHECK(c1r::read_npy(weights + "/conv1d/kernel.npy").shape == std::vector<int64_t>{3, 3, 6});
    CHECK(c1r::read_npy(weights + "/conv1d_transpose/kernel.npy").shape == std::vector<int64_t>{2, 4, 6});

    auto again = run_binary(args({config, "--input", input, "--seed", "99", "--weights", weights,
                                  "--save-output", dir.file("b.npy")}));
    INFO(again.err);
    REQUIRE(again.exit_code == 0);
    CHECK(read_text(dir.file("a.npy")) == read_text(dir.file("b.npy")));
    // The other seed alone gives other weights, so the equality above is the saved weights' doing.
    auto other =
        run_binary(args({config, "--input", input, "--seed", "99", "--save-output", dir.file("c.npy")}));
    REQUIRE(other.exit_code == 0);
    CHECK(read_text(dir.file("a.npy")) != read_text(dir.file("c.npy")));

    // --dry-run writes the same weights without running anything.
    auto dry =
        run_binary({config, "--seed", "3", "--dry-run", "--save-weights", dir.file("w_dry"), "--quiet"});
    REQUIRE(dry.exit_code == 0);
    for (const auto& f : files_under(weights))
        CHECK(read_text(weights + "/" + f) == read_text(dir.file("w_dry/" + f)));
}

TEST_CASE("a model file's run equals its architecture JSON with the file's weights from --save-weights",
          "[run-loop][weights][keras_file]") {
    const std::string fixtures = std::string(C1R_FIXTURE_DIR) + "/keras_files/";
    // expected/<name>.json holds the architecture scripts/make_keras_file_fixtures.py wrote into each file.
    const std::pair<std::string, std::string> files[] = {
        {"k2_sequential.h5", "k2_sequential"},        {"k2_theano.h5", "k2_theano"},
        {"k1_sequential.h5", "k1_sequential"},        {"k3_legacy.h5", "k3_legacy"},
        {"k215_sequential.keras", "k215_sequential"}, {"tfjs/model.json", "tfjs"},
        {"k2_functional.h5", "k2_functional"},        {"k3_functional.keras", "k3_functional"}};
    for (const auto& [name, stem] : files) {
        DYNAMIC_SECTION(name) {
            TempDir dir;
            json expected = json::parse(read_text(fixtures + "expected/" + stem + ".json"));
            const std::string architecture = dir.write_json(stem + ".json", expected.at("model"));
            auto from_file = run_binary(args({fixtures + name, "--seed", "5", "--save-weights", dir.file("w"),
                                              "--save-output", dir.file("file.npy")}));
            INFO(from_file.err);
            REQUIRE(from_file.exit_code == 0);
            auto from_json = run_binary(args({architecture, "--seed", "5", "--weights", dir.file("w"),
                                              "--save-output", dir.file("json.npy")}));
            INFO(from_json.err);
            REQUIRE(from_json.exit_code == 0);
            CHECK(read_text(dir.file("file.npy")) == read_text(dir.file("json.npy")));
        }
    }
}

// Issue 15: a Functional model whose output is a nested Sequential (k2_functional.h5: output_layers names
// node 1 of "inner") and a Keras 3 Bidirectional whose wrapped layer is already "forward_<name>"
// (k3_functional.keras) run with the file's own weights, and oneDNN agrees with the reference implementation.
TEST_CASE("trained functional Keras files run with their own weights and pass --verify", "[run-loop][keras_file]") {
    const std::string fixtures = std::string(C1R_FIXTURE_DIR) + "/keras_files/";
    for (const char* name : {"k2_functional.h5", "k3_functional.keras"}) {
        DYNAMIC_SECTION(name) {
            auto r = run_binary({fixtures + name, "--verify", "--repeats", "1", "--warmup", "0", "--threads", "1",
                                 "-f", "json"});
            INFO(r.err);
            REQUIRE(r.exit_code == 0);
            const json report = json::parse(r.out);
            INFO(r.out);
            CHECK(report.at("verify").at("passed") == true);
            CHECK(report.at("verify").at("max_rel_error").get<double>() < 1e-4);
            CHECK(r.err.empty());
        }
    }
}

// Issue 12: an imported model whose input is (batch, steps) of embedding ids takes a 2-D --input file as
// (batch, steps), not as one (steps, channels) sequence (it was refused: "expects integer ids ... rank 3").
TEST_CASE("an embedding-first Keras file takes a 2-D --input of ids", "[run-loop][keras_file]") {
    TempDir dir;
    const std::string ids = (dir.path() / "ids.npy").string();
    std::vector<float> values(2 * 9);
    for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>((i * 7) % 10);  // ids in [0, 10)
    c1r::write_npy(ids, {2, 9}, values.data(), values.size());
    auto r = run_binary({std::string(C1R_FIXTURE_DIR) + "/keras_files/k1_sequential.h5", "--input", ids, "--verify",
                         "--repeats", "1", "--warmup", "0", "--threads", "1", "-f", "json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const json report = json::parse(r.out);
    CHECK(report.at("input").at("shape") == json::array({2, 9}));
    CHECK(report.at("verify").at("passed") == true);
}

// expected/k2_functional.{input,output}.npy: scripts/check_keras_file.py --write-expected (a NumPy forward pass
// from the file's h5py weights, Keras semantics). The output reaches ~1.9e5 (the fixture's weights are large),
// so the 1e-4 tolerance is relative to the output's scale, as in that script.
TEST_CASE("a trained functional Keras file's output equals the NumPy forward pass of its weights",
          "[run-loop][keras_file]") {
    const std::string expected_dir = std::string(C1R_FIXTURE_DIR) + "/keras_files/expected/";
    TempDir dir;
    auto r = run_binary(args({std::string(C1R_FIXTURE_DIR) + "/keras_files/k2_functional.h5", "--input",
                              expected_dir + "k2_functional.input.npy", "--save-output", dir.file("y.npy")}));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const c1r::NpyArray got = c1r::read_npy(dir.file("y.npy"));
    const c1r::NpyArray want = c1r::read_npy(expected_dir + "k2_functional.output.npy");
    CHECK(want.shape == std::vector<int64_t>{2, 10, 1});
    REQUIRE(got.shape == want.shape);
    float scale = 1.0f;
    for (float v : want.data) scale = std::max(scale, std::abs(v));
    for (size_t i = 0; i < want.data.size(); ++i) CHECK(std::abs(got.data[i] - want.data[i]) <= 1e-4f * scale);
}

TEST_CASE("save weights: a sweep and a layer named like a path are refused", "[run-loop][weights]") {
    TempDir dir;
    json sweep = config_json({1, 8, 2}, json::array({conv_layer(2, 3)}));
    sweep["sweep"] = {{"/layers/0/kernel_size", {1, 2}}};
    auto r = run_binary(args({dir.write_json("sweep.json", sweep), "--save-weights", dir.file("w")}));
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("--save-weights takes one run, but 2 runs were given"));
    CHECK(r.out.empty());
    CHECK_FALSE(fs::exists(dir.file("w")));

    json escape = config_json({1, 8, 2}, json::array({conv_layer(2, 3)}));
    escape["layers"][0]["name"] = "../outside";
    r = run_binary(
        args({dir.write_json("escape.json", escape), "--save-weights", dir.file("w"), "-f", "jsonl"}));
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("layer 0 is named \"../outside\", which cannot be a folder name"));
    CHECK_THAT(r.out, !Contains("\"timing\":{"));  // refused before running
    CHECK_FALSE(fs::exists(dir.file("w")));
    CHECK_FALSE(fs::exists(dir.file("outside")));
}

TEST_CASE("save output as CSV: one row per step, one column per channel, the .npy's values",
          "[run-loop][csv]") {
    TempDir dir;
    for (const std::string format : {"channels_last", "channels_first"}) {
        DYNAMIC_SECTION(format) {
            json config = config_json({1, 9, 3}, json::array({conv_layer(4, 2, 2, "same")}));
            if (format == "channels_first")
                config["input"]["shape"] = {1, 3, 9}, config["data_format"] = format;
            const std::string path = dir.write_json(format + ".json", config);
            auto npy = run_binary(args({path, "--save-output", dir.file(format + ".npy")}));
            auto csv = run_binary(args({path, "--save-output", dir.file(format + ".CSV")}));
            INFO(csv.err);
            REQUIRE(npy.exit_code == 0);
            REQUIRE(csv.exit_code == 0);
            c1r::NpyArray want = c1r::read_npy(dir.file(format + ".npy"));
            auto rows = read_csv_rows(dir.file(format + ".CSV"));
            REQUIRE(rows.size() == 5);  // ceil(9 / 2) steps, whatever the data format
            for (size_t t = 0; t < rows.size(); ++t) {
                REQUIRE(rows[t].size() == 4);
                for (size_t c = 0; c < 4; ++c) {
                    // (1, L, C) or (1, C, L): the CSV is step-major in both; values exact (shortest round
                    // trip).
                    size_t at = format == "channels_last" ? t * 4 + c : c * 5 + t;
                    CHECK(static_cast<float>(rows[t][c]) == want.data[at]);
                }
            }
            // It reads back as an input: rows are steps.
            auto back =
                run_binary(args({path, "--input", dir.file(format + ".CSV"), "--dry-run", "-f", "json"}));
            INFO(back.err);
            CHECK(back.exit_code == 0);
        }
    }
}

TEST_CASE("save output: what it cannot write is refused before anything runs, and no file is left",
          "[run-loop][csv]") {
    TempDir dir;
    const std::string batch2 =
        dir.write_json("b2.json", config_json({2, 8, 3}, json::array({conv_layer(2, 3)})));
    const std::string flat = dir.write_json(
        "flat.json",
        config_json({1, 8, 3}, json::array({{{"type", "flatten"}}, {{"type", "dense"}, {"units", 2}}})));
    struct Case {
        std::string config, save, message;
    } cases[] = {
        {batch2, dir.file("out.txt"), "unknown file type \".txt\" (expected .npy"},
        {batch2, dir.file("out"), "unknown file type \"\""},
        {batch2, dir.file("out.csv"), "is (2, 6, 2), a batch of 2; save it as .npy"},
        {flat, dir.file("out.csv"), "which has no steps; save it as .npy"},
    };
    for (const auto& c : cases) {
        auto r = run_binary(args({c.config, "--save-output", c.save, "-f", "jsonl"}));
        INFO(c.save << "\n" << r.err);
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Contains(c.message));
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
        CHECK_THAT(r.out, !Contains("\"timing\":{"));  // nothing was timed
        CHECK(files_under(dir.path()) == std::vector<std::string>{"b2.json", "flat.json"});
    }
}

TEST_CASE("the memory limit counts what the process already holds", "[run-loop][memory]") {
    TempDir dir;
    const std::string config =
        dir.write_json("small.json", config_json({1, 16, 2}, json::array({conv_layer(2, 3)})));
    auto dry = run_binary({config, "--dry-run", "-f", "json"});
    REQUIRE(dry.exit_code == 0);
    const int64_t estimate = json::parse(dry.out).at("memory_bytes");
    REQUIRE(estimate < 1 << 20);
    // The run's own estimate fits in 2 MiB, the program and oneDNN do not.
    auto r = run_binary(args({config, "--max-memory", "2M"}));
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("needs an estimated " + std::to_string(estimate) + " bytes"));
    CHECK_THAT(r.err, Contains("the process already holds"));
    CHECK_THAT(r.err, Contains("more than --max-memory 2097152"));
}

TEST_CASE("a sweep's memory stays near its largest point's: oneDNN's cache is bounded",
          "[run-loop][memory]") {
    c1r_test::skip_if_rss_not_meaningful();
    TempDir dir;
    // 48 points, each a new problem whose primitives oneDNN would keep with their scratch space.
    json sweep = config_json({1, 4096, 32}, json::array({conv_layer(64, 3, 1, "same")}));
    sweep["sweep"] = {{"/input/shape/1", {3072, 3584, 4096}},
                      {"/layers/0/kernel_size", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}}};
    auto all = run_binary(args({dir.write_json("sweep.json", sweep), "-f", "jsonl"}));
    INFO(all.err);
    REQUIRE(all.exit_code == 0);
    int64_t sweep_peak = 0, runs = 0;
    std::istringstream lines(all.out);
    for (std::string line; std::getline(lines, line); ++runs)
        sweep_peak = std::max<int64_t>(sweep_peak, json::parse(line).at("peak_rss_bytes"));
    REQUIRE(runs == 48);
    // The largest point alone (each point reports its own peak: the high-water mark is reset per run).
    json largest = config_json({1, 4096, 32}, json::array({conv_layer(64, 16, 1, "same")}));
    auto alone = run_binary(args({dir.write_json("largest.json", largest), "-f", "json"}));
    REQUIRE(alone.exit_code == 0);
    const int64_t alone_peak = json::parse(alone.out).at("peak_rss_bytes");
    INFO("sweep peak " << sweep_peak << ", largest point alone " << alone_peak);
    CHECK(static_cast<double>(sweep_peak) <= 1.3 * static_cast<double>(alone_peak));
}

TEST_CASE("progress: time left from the work, not the count, and the line cut to the width",
          "[run-loop][progress]") {
    // One run of 1 unit took 2 s; 9 units are left: 18 s, whatever the number of runs they are split into.
    CHECK(c1r::seconds_left(2.0, 1.0, 9.0) == Approx(18.0));
    CHECK_FALSE(c1r::seconds_left(2.0, 0.0, 9.0));
    CHECK(c1r::fit_line("abcdefghijkl", 10) == "abcdefghi");
    CHECK(c1r::fit_line("ab", 6) == "ab   ");
    CHECK(c1r::fit_line("a\xc3\xa9\x1b", 6) == "a??? ");
}

TEST_CASE("progress on a 40-column terminal: every line fits, none wraps", "[run-loop][progress]") {
    TempDir dir;
    json sweep = config_json({1, 64, 4}, json::array({conv_layer(4, 3)}));
    sweep["sweep"] = {{"/input/shape/1", {64, 128, 256, 512, 1024, 2048}}};
    const std::string config =
        dir.write_json("a_config_with_a_rather_long_file_name_for_the_line.json", sweep);
    for (int columns : {40, 100}) {
        DYNAMIC_SECTION(columns << " columns") {
            winsize size{};
            size.ws_row = 24;
            size.ws_col = static_cast<unsigned short>(columns);
            int master = -1;
            std::fflush(nullptr);
            pid_t pid = forkpty(&master, nullptr, nullptr, &size);
            REQUIRE(pid >= 0);
            if (pid == 0) {  // standard error on the terminal, the report into a file
                FILE* out = std::fopen(dir.file("report").c_str(), "w");
                if (!out) _exit(127);
                dup2(fileno(out), 1);
                execl(C1R_BINARY, C1R_BINARY, config.c_str(), "--repeats", "1", "--warmup", "0", "--threads",
                      "1", "-f", "jsonl", static_cast<char*>(nullptr));
                _exit(127);
            }
            std::string screen;
            char buffer[4096];
            for (ssize_t n; (n = read(master, buffer, sizeof buffer)) > 0;)
                screen.append(buffer, static_cast<size_t>(n));
            int status = 0;
            waitpid(pid, &status, 0);
            close(master);
            REQUIRE(WIFEXITED(status));
            CHECK(WEXITSTATUS(status) == 0);
            INFO(screen);
            CHECK_THAT(screen, Contains("[1/6] ") && Contains("s left"));
            // Every stretch between carriage returns or newlines fits in columns - 1, so nothing wraps.
            size_t longest = 0, start = 0;
            for (size_t i = 0; i <= screen.size(); ++i)
                if (i == screen.size() || screen[i] == '\r' || screen[i] == '\n')
                    longest = std::max(longest, i - start), start = i + 1;
            CHECK(longest <= static_cast<size_t>(columns - 1));
            if (columns == 100) CHECK_THAT(screen, Contains("rather_long_file_name"));
        }
    }
}
