// The bad-input suite (issue 8): hostile configs, inputs and flags run through the built binary, each checked
// for its exit code, the message (file, JSON pointer or line, reason), a one-line stderr, whole report lines
// only, no crash or hang, and no file left behind. docs/hostile-inputs.md tabulates the same classes.
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "test_helpers.hpp"

namespace {

using c1r_test::TempDir;
using nlohmann::json;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

// ---- running the binary with a time limit ----

struct Outcome {
    int exit_code = -1;  // exit status, or -1 when killed by a signal
    int signal = 0;      // the signal that ended it (a crash, or our kill on a hang)
    bool hung = false;   // still running at the time limit, then killed
    double seconds = 0;
    long max_rss_kb = 0;
    std::string out, err;
};

struct Limits {
    double timeout_s = 60;     // a hang fails the test instead of stalling the suite
    double signal_after_s = -1;  // send `signal` this long after the start (interrupt tests)
    int signal = 0;
};

// Runs conv1d-reshape with stdout and stderr read through pipes while a clock runs; the shared run_binary has
// no time limit, no signal and no resource figures.
Outcome run_limited(const std::vector<std::string>& args, const Limits& limits = {}) {
    int out_pipe[2], err_pipe[2];
    REQUIRE(::pipe2(out_pipe, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(err_pipe, O_CLOEXEC) == 0);
    std::vector<std::string> argv_text{C1R_BINARY};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);

    std::fflush(nullptr);
    const auto start = std::chrono::steady_clock::now();
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        const int null_in = ::open("/dev/null", O_RDONLY);
        ::dup2(null_in, 0);
        ::dup2(out_pipe[1], 1);
        ::dup2(err_pipe[1], 2);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    Outcome outcome;
    bool signalled = false;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&outcome.out, &outcome.err};
    int open_fds = 2;
    while (open_fds > 0) {
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (!signalled && limits.signal_after_s >= 0 && elapsed >= limits.signal_after_s) {
            ::kill(pid, limits.signal);
            signalled = true;
        }
        if (!outcome.hung && elapsed >= limits.timeout_s) {
            ::kill(pid, SIGKILL);
            outcome.hung = true;
        }
        if (::poll(fds, 2, 20) < 0 && errno != EINTR) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buffer[65536];
            const ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
            if (got > 0) {
                sinks[i]->append(buffer, static_cast<size_t>(got));
            } else if (got == 0 || errno != EINTR) {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            }
        }
    }
    int status = 0;
    rusage usage{};
    while (::wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
    }
    outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    outcome.max_rss_kb = usage.ru_maxrss;
    if (WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) outcome.signal = WTERMSIG(status);
    return outcome;
}

// ---- what every bad input must look like ----

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < text.size()) {
        const size_t end = text.find('\n', start);
        if (end == std::string::npos) {
            lines.push_back(text.substr(start));  // an unterminated last line: reported by the caller
            break;
        }
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

// No crash, no hang: the process ended by itself with an exit code.
void require_clean_exit(const Outcome& r) {
    INFO("stderr: " << r.err.substr(0, 2000));
    REQUIRE_FALSE(r.hung);
    REQUIRE(r.signal == 0);
}

// One line on stderr, no control characters in it (a newline or ESC copied from a file would break logs and
// terminals).
void check_one_line(const std::string& err) {
    INFO("stderr: " << err.substr(0, 2000));
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
    CHECK((!err.empty() && err.back() == '\n'));
    const bool clean = std::none_of(err.begin(), err.end() - (err.empty() ? 0 : 1),
                                    [](char c) { return static_cast<unsigned char>(c) < 0x20; });
    CHECK(clean);
}

// Each stdout line is a whole JSON object and the text ends with a newline: no partial report.
std::vector<json> whole_jsonl(const std::string& out) {
    INFO("stdout: " << out.substr(0, 2000));
    if (!out.empty()) CHECK(out.back() == '\n');
    std::vector<json> records;
    for (const auto& line : lines_of(out)) {
        json record = json::parse(line, nullptr, false);
        CHECK_FALSE(record.is_discarded());
        if (!record.is_discarded()) records.push_back(std::move(record));
    }
    return records;
}

// A single config that fails: the exit code, each substring in the one stderr line, and on stdout exactly one
// jsonl error object carrying the same message (and the pointer, when given) and no partial report.
void expect_run_error(const Outcome& r, int exit_code, const std::vector<std::string>& substrings,
                      const std::string& pointer = {}) {
    require_clean_exit(r);
    INFO("stderr: " << r.err.substr(0, 2000));
    CHECK(r.exit_code == exit_code);
    for (const auto& s : substrings) CHECK_THAT(r.err, Contains(s));
    check_one_line(r.err);
    const auto records = whole_jsonl(r.out);
    REQUIRE(records.size() == 1);
    const json& record = records[0];
    REQUIRE(record.contains("error"));
    CHECK_FALSE(record.contains("layers"));
    CHECK_FALSE(record.contains("timing"));
    const std::string message = record["error"]["message"].get<std::string>();
    for (const auto& s : substrings) CHECK_THAT(message, Contains(s));
    if (!pointer.empty()) CHECK(record["error"]["pointer"] == pointer);
}

// A flag refused at the door: exit 2, the flag named on the one stderr line, nothing on stdout.
void expect_usage_error(const Outcome& r, const std::string& substring) {
    require_clean_exit(r);
    INFO("stderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains(substring));
    check_one_line(r.err);
    CHECK(r.out.empty());
}

// Leftovers of an atomic write next to `target`: "<name>.tmp.XXXXXX" files.
std::vector<std::string> temp_files_near(const std::string& target) {
    std::vector<std::string> found;
    const fs::path folder = fs::path(target).parent_path();
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(folder, ec))
        if (entry.path().filename().string().find(".tmp.") != std::string::npos) found.push_back(entry.path());
    return found;
}

// ---- configs ----

json small_config(const json& layer, const json& shape = json::array({1, 20, 32})) {
    return json{{"name", "bad-input"},
                {"input", {{"shape", shape}}},
                {"layers", json::array({layer})},
                {"run", {{"warmup", 0}, {"repeats", 1}, {"threads", 1}}}};
}

json conv(int64_t filters = 4, int64_t kernel = 3) {
    return json{{"type", "conv1d"}, {"filters", filters}, {"kernel_size", kernel}};
}

// A run of about 0.3 s per point (one thread): material for interrupts and time limits.
json slow_config(int points) {
    json config = small_config(json{{"type", "conv1d"}, {"filters", 64}, {"kernel_size", 9}, {"padding", "same"}},
                               json::array({1, 4096, 64}));
    config["run"] = {{"warmup", 1}, {"repeats", 30}, {"threads", 1}};
    if (points > 1) config["sweep"] = {{"/layers/0/filters", std::vector<int>(static_cast<size_t>(points), 64)}};
    return config;
}

// Runs one config file (written into `dir`) with --format jsonl -q and the extra arguments.
Outcome run_config(const TempDir& dir, const std::string& name, const std::string& text,
                   std::vector<std::string> extra = {}, Limits limits = {}) {
    std::vector<std::string> args{dir.write(name, text), "--format", "jsonl", "-q"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_limited(args, limits);
}

Outcome run_config(const TempDir& dir, const std::string& name, const json& config,
                   std::vector<std::string> extra = {}, Limits limits = {}) {
    return run_config(dir, name, config.dump(), std::move(extra), limits);
}

const std::string kFixtures = C1R_FIXTURE_DIR;

void check_rss_below(const Outcome& r, long limit_mb) {
    if (c1r_test::kRssMeaningful) CHECK(r.max_rss_kb < limit_mb * 1024);
}

}  // namespace

// ======================= bad JSON =======================

TEST_CASE("bad input: truncated JSON names the file, line and column", "[bad-input][json]") {
    TempDir dir("c1r_bad");
    auto r = run_config(dir, "truncated.json", std::string(R"({"input": {"shape": [1, 20, 32]}, "layers": [)"));
    expect_run_error(r, 2, {"truncated.json:1:", "invalid JSON at line 1, column"});
}

TEST_CASE("bad input: a syntax error on a later line gives that line", "[bad-input][json]") {
    TempDir dir("c1r_bad");
    auto r = run_config(dir, "syntax.json", std::string("{\n  \"input\": {\"shape\": [1, 20, 32]},\n  \"layers\": [,]\n}\n"));
    expect_run_error(r, 2, {"syntax.json:3:", "invalid JSON at line 3"});
}

TEST_CASE("bad input: an empty config file", "[bad-input][json]") {
    TempDir dir("c1r_bad");
    auto r = run_config(dir, "empty.json", std::string());
    expect_run_error(r, 2, {"empty.json", "invalid JSON at line 1, column 1"});
}

TEST_CASE("bad input: an empty object", "[bad-input][json]") {
    TempDir dir("c1r_bad");
    auto r = run_config(dir, "empty_object.json", std::string("{}"));
    expect_run_error(r, 2, {"empty_object.json", "/input", "missing required key"}, "/input");
}

TEST_CASE("bad input: a top-level list or number instead of an object", "[bad-input][json]") {
    TempDir dir("c1r_bad");
    for (const std::string text : {"[]", "42", "\"config\"", "null"}) {
        INFO(text);
        auto r = run_config(dir, "not_object.json", text);
        expect_run_error(r, 2, {"not_object.json", "expected an object"});
    }
}

TEST_CASE("bad input: a number too large for a double (1e400)", "[bad-input][json]") {
    // nlohmann::json throws out_of_range.406 (not a parse_error) for it; it once escaped as exit 1.
    TempDir dir("c1r_bad");
    auto r = run_config(dir, "huge_number.json",
                        std::string(R"({"input": {"shape": [1, 1e400, 32]}, "layers": [{"type": "conv1d", "filters": 1, "kernel_size": 1}]})"));
    expect_run_error(r, 2, {"huge_number.json", "1e400"});
}

TEST_CASE("bad input: a number too large for a double does not stop the rest of the batch", "[bad-input][json]") {
    TempDir dir("c1r_bad");
    const auto bad = dir.write("huge_number.json", R"({"input": {"shape": [1, 1e400, 32]}, "layers": []})");
    const auto good = dir.write("good.json", small_config(conv()).dump());
    auto r = run_limited({bad, good, "--format", "jsonl", "-q", "--dry-run"});
    require_clean_exit(r);
    CHECK(r.exit_code == 2);
    const auto records = whole_jsonl(r.out);
    REQUIRE(records.size() == 2);
    CHECK(records[0].contains("error"));
    CHECK_FALSE(records[1].contains("error"));
}

TEST_CASE("bad input: deeply nested JSON is refused, not a stack overflow", "[bad-input][json]") {
    // 1,000,000 nested lists (2 MB): copying or printing such a value recurses once per level.
    TempDir dir("c1r_bad");
    const int depth = 1000000;
    const std::string text = R"({"input": )" + std::string(depth, '[') + std::string(depth, ']') + R"(, "layers": []})";
    auto r = run_config(dir, "deep.json", text, {"--dry-run"});
    require_clean_exit(r);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("deep.json"));
    check_one_line(r.err);
}

TEST_CASE("bad input: a newline inside a key stays out of the one-line message", "[bad-input][json]") {
    TempDir dir("c1r_bad");
    json layer = conv();
    layer["kernel\nsize"] = 3;
    auto r = run_config(dir, "newline_key.json", small_config(layer), {"--dry-run"});
    require_clean_exit(r);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("newline_key.json"));
    CHECK_THAT(r.err, Contains("unknown key"));
    check_one_line(r.err);
}

TEST_CASE("bad input: terminal escape codes in a value are not echoed raw", "[bad-input][json]") {
    TempDir dir("c1r_bad");
    json layer = conv();
    layer["type"] = "conv\x1b[2J";
    auto r = run_config(dir, "escape.json", small_config(layer), {"--dry-run"});
    require_clean_exit(r);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("/layers/0/type"));
    CHECK(r.err.find('\x1b') == std::string::npos);
    check_one_line(r.err);
}

TEST_CASE("bad input: a config saved in Latin-1 does not break the JSON report of the batch", "[bad-input][json]") {
    // The parse error quotes the invalid byte, and nlohmann's dump() throws type_error.316 on such bytes unless
    // told to replace them: the jsonl printer once lost the whole batch to it.
    TempDir dir("c1r_bad");
    const auto latin1 = dir.write("latin1.json", "{\"name\": \"caf\xe9\", \"input\": {\"shape\": [1, 20, 32]}, "
                                                 "\"layers\": [{\"type\": \"conv1d\", \"filters\": 1, \"kernel_size\": 1}]}");
    const auto good = dir.write("good.json", small_config(conv()).dump());
    auto r = run_limited({latin1, good, "--format", "jsonl", "-q", "--dry-run"});
    require_clean_exit(r);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("latin1.json:1:"));
    const auto records = whole_jsonl(r.out);
    REQUIRE(records.size() == 2);
    CHECK(records[0].contains("error"));
    CHECK_FALSE(records[1].contains("error"));
}

TEST_CASE("bad input: a config file whose name is not UTF-8 is still reported", "[bad-input][json]") {
    TempDir dir("c1r_bad");
    const auto path = dir.write("caf\xe9.json", small_config(conv()).dump());
    auto r = run_limited({path, "--format", "jsonl", "-q", "--dry-run"});
    require_clean_exit(r);
    CHECK(r.exit_code == 0);
    CHECK(whole_jsonl(r.out).size() == 1);
}

TEST_CASE("bad input: an .h5 whose header claims a 4 GiB object (fuzz_keras_h5's reproducer)", "[bad-input][keras-file]") {
    // libhdf5 allocates what the header claims before it checks it against the file's end: our reader must
    // still end with one clean line, exit 2, and little memory really used.
    const std::string path = std::string(C1R_SOURCE_DIR) + "/fuzz/regressions/keras_h5/hdf5-header-claims-4gib.h5";
    auto r = run_limited({path, "--format", "jsonl", "-q", "--dry-run"});
    expect_run_error(r, 2, {"hdf5-header-claims-4gib.h5", "not a readable HDF5 file"});
    check_rss_below(r, 300);
}

// ======================= wrong types and unknown keys =======================

TEST_CASE("bad input: a misspelt key is refused with its pointer", "[bad-input][types]") {
    TempDir dir("c1r_bad");
    json layer = conv();
    layer["kernal_size"] = 3;
    auto r = run_config(dir, "typo.json", small_config(layer));
    expect_run_error(r, 2, {"typo.json", "/layers/0/kernal_size", "unknown key \"kernal_size\""},
                     "/layers/0/kernal_size");
}

TEST_CASE("bad input: a string where an integer belongs", "[bad-input][types]") {
    TempDir dir("c1r_bad");
    json layer = conv();
    layer["filters"] = "16";
    auto r = run_config(dir, "string_filters.json", small_config(layer));
    expect_run_error(r, 2, {"string_filters.json", "/layers/0/filters", "expected an integer, got \"16\""},
                     "/layers/0/filters");
}

TEST_CASE("bad input: a fraction where an integer belongs", "[bad-input][types]") {
    TempDir dir("c1r_bad");
    json layer = conv();
    layer["kernel_size"] = 3.5;
    auto r = run_config(dir, "fraction.json", small_config(layer));
    expect_run_error(r, 2, {"/layers/0/kernel_size", "expected an integer, got 3.5"}, "/layers/0/kernel_size");
    layer["kernel_size"] = 3.0;
    r = run_config(dir, "float.json", small_config(layer));
    expect_run_error(r, 2, {"/layers/0/kernel_size", "without a decimal point"}, "/layers/0/kernel_size");
}

TEST_CASE("bad input: a float far outside the integer range (1e20, -1e308)", "[bad-input][types]") {
    // Converting such a double to int64 is undefined behaviour (clang's UBSan aborts on it; GCC's does not check).
    TempDir dir("c1r_bad");
    json layer = conv();
    layer["filters"] = 1e20;
    auto r = run_config(dir, "float_huge.json", small_config(layer));
    expect_run_error(r, 2, {"/layers/0/filters", "expected an integer"}, "/layers/0/filters");
    layer["filters"] = -1e308;
    r = run_config(dir, "float_tiny.json", small_config(layer));
    expect_run_error(r, 2, {"/layers/0/filters", "expected an integer"}, "/layers/0/filters");
}

TEST_CASE("bad input: an unknown layer type and an unknown activation", "[bad-input][types]") {
    TempDir dir("c1r_bad");
    auto r = run_config(dir, "dense.json", small_config(json{{"type", "dense2d"}, {"units", 4}}));
    expect_run_error(r, 2, {"/layers/0/type", "unknown value \"dense2d\""}, "/layers/0/type");
    json layer = conv();
    layer["activation"] = "softmaxx";
    r = run_config(dir, "softmax.json", small_config(layer));
    expect_run_error(r, 2, {"/layers/0/activation", "unknown value \"softmaxx\""}, "/layers/0/activation");
}

TEST_CASE("bad input: wrong types in the run section", "[bad-input][types]") {
    TempDir dir("c1r_bad");
    json config = small_config(conv());
    config["run"]["threads"] = "many";
    auto r = run_config(dir, "threads.json", config);
    expect_run_error(r, 2, {"/run/threads"}, "/run/threads");
    config = small_config(conv());
    config["run"]["repeats"] = 0;
    r = run_config(dir, "repeats.json", config);
    expect_run_error(r, 2, {"/run/repeats", "must be at least 1"}, "/run/repeats");
    config = small_config(conv());
    config["run"]["dtype"] = "f64";
    r = run_config(dir, "dtype.json", config);
    expect_run_error(r, 2, {"/run/dtype", "unknown value \"f64\""}, "/run/dtype");
}

TEST_CASE("bad input: an empty list of layers and layers that are not objects", "[bad-input][types]") {
    TempDir dir("c1r_bad");
    json config = small_config(conv());
    config["layers"] = json::array();
    auto r = run_config(dir, "no_layers.json", config);
    expect_run_error(r, 2, {"/layers", "empty"}, "/layers");
    config["layers"] = json::array({"conv1d"});
    r = run_config(dir, "string_layer.json", config);
    expect_run_error(r, 2, {"/layers/0", "expected an object"}, "/layers/0");
}

TEST_CASE("bad input: an input shape with four entries, and a conv on a rank-2 input", "[bad-input][types]") {
    TempDir dir("c1r_bad");
    auto r = run_config(dir, "four_dims.json", small_config(conv(), json::array({1, 20, 32, 1})));
    expect_run_error(r, 2, {"/input/shape", "expected two or three positive integers"}, "/input/shape");
    auto flat = run_config(dir, "two_dims.json", small_config(conv(), json::array({20, 32})));
    expect_run_error(flat, 2, {"/layers/0", "expects a sequence (batch, steps, channels)"}, "/layers/0");
}

// ======================= negative and out-of-range values =======================

TEST_CASE("bad input: negative and zero sizes", "[bad-input][range]") {
    TempDir dir("c1r_bad");
    auto r = run_config(dir, "neg_kernel.json", small_config(conv(4, -3)));
    expect_run_error(r, 2, {"/layers/0/kernel_size", "must be at least 1, got -3"}, "/layers/0/kernel_size");
    json layer = conv();
    layer["strides"] = 0;
    r = run_config(dir, "zero_strides.json", small_config(layer));
    expect_run_error(r, 2, {"/layers/0/strides", "must be at least 1, got 0"}, "/layers/0/strides");
    r = run_config(dir, "neg_length.json", small_config(conv(), json::array({1, -20, 32})));
    expect_run_error(r, 2, {"/input/shape/1", "must be at least 1, got -20"}, "/input/shape/1");
    layer = conv();
    layer["padding"] = json::array({-1, 2});
    r = run_config(dir, "neg_pad.json", small_config(layer));
    expect_run_error(r, 2, {"/layers/0/padding/0"}, "/layers/0/padding/0");
}

TEST_CASE("bad input: settings that do not fit together", "[bad-input][range]") {
    TempDir dir("c1r_bad");
    json layer = conv(6, 3);
    layer["groups"] = 4;
    auto r = run_config(dir, "groups.json", small_config(layer));
    expect_run_error(r, 2, {"/layers/0/groups", "divisible"}, "/layers/0/groups");
    r = run_config(dir, "op.json", small_config(json{{"type", "conv1d_transpose"}, {"filters", 4}, {"kernel_size", 3},
                                                     {"strides", 2}, {"output_padding", 2}}));
    expect_run_error(r, 2, {"/layers/0/output_padding", "less than strides"}, "/layers/0/output_padding");
    r = run_config(dir, "permute.json", small_config(json{{"type", "permute"}, {"dims", {1, 1}}}));
    expect_run_error(r, 2, {"/layers/0/dims"}, "/layers/0/dims");
    r = run_config(dir, "reshape.json", small_config(json{{"type", "reshape"}, {"target_shape", {-1, 7}}}));
    expect_run_error(r, 2, {"/layers/0/target_shape", "not divisible by 7"}, "/layers/0/target_shape");
}

TEST_CASE("bad input: a layer whose output would be empty shows the arithmetic", "[bad-input][range]") {
    TempDir dir("c1r_bad");
    auto r = run_config(dir, "too_short.json", small_config(conv(4, 30)), {"--dry-run"});
    expect_run_error(r, 2, {"/layers/0", "layer 0 (conv1d)", "output length would be < 1", "input length 20"},
                     "/layers/0");
}

// ======================= absurd and overflowing sizes =======================

TEST_CASE("bad input: shape [1, 9223372036854775807, 1]", "[bad-input][size]") {
    TempDir dir("c1r_bad");
    auto r = run_config(dir, "int64_max.json", small_config(conv(), json::array({1, 9223372036854775807LL, 1})));
    expect_run_error(r, 2, {"/input/shape/1", "too large"}, "/input/shape/1");
}

TEST_CASE("bad input: shape [1, 1e12, 4096], written as a float and as an integer", "[bad-input][size]") {
    // The parser caps every size at 2^31 before any estimate is made; see the next case for the estimate.
    TempDir dir("c1r_bad");
    auto r = run_config(dir, "float_length.json",
                        std::string(R"({"input": {"shape": [1, 1e12, 4096]}, "layers": [{"type": "conv1d", "filters": 1, "kernel_size": 1}]})"));
    expect_run_error(r, 2, {"/input/shape/1", "expected an integer"}, "/input/shape/1");
    r = run_config(dir, "int_length.json", small_config(conv(), json::array({1, 1000000000000LL, 4096})));
    expect_run_error(r, 2, {"/input/shape/1", "too large"}, "/input/shape/1");
}

TEST_CASE("bad input: a run larger than the default --max-memory is refused with the estimate", "[bad-input][size]") {
    TempDir dir("c1r_bad");
    const long pages = ::sysconf(_SC_PHYS_PAGES), page_size = ::sysconf(_SC_PAGE_SIZE);
    const int64_t default_limit = static_cast<int64_t>(pages) * page_size / 4 * 3;  // runner.cpp's rule
    auto r = run_config(dir, "huge_length.json", small_config(conv(1, 1), json::array({1, 2147483648LL, 4096})));
    expect_run_error(r, 2, {"huge_length.json", "estimated", "--max-memory " + std::to_string(default_limit)});
    check_rss_below(r, 512);  // refused before allocating
}

TEST_CASE("bad input: --max-memory below a small run's estimate", "[bad-input][size]") {
    TempDir dir("c1r_bad");
    auto r = run_config(dir, "small.json", small_config(conv()), {"--max-memory", "1K"});
    expect_run_error(r, 2, {"small.json", "estimated", "--max-memory 1024"});
}

TEST_CASE("bad input: a shape whose element count overflows 64 bits", "[bad-input][size]") {
    TempDir dir("c1r_bad");
    auto r = run_config(dir, "overflow.json",
                        small_config(conv(), json::array({2147483648LL, 2147483648LL, 2147483648LL})), {"--dry-run"});
    expect_run_error(r, 2, {"overflow.json", "overflow"});
}

TEST_CASE("bad input: kernel_size 2^40", "[bad-input][size]") {
    TempDir dir("c1r_bad");
    auto r = run_config(dir, "kernel_2p40.json", small_config(conv(1, int64_t{1} << 40)));
    expect_run_error(r, 2, {"/layers/0/kernel_size", "too large"}, "/layers/0/kernel_size");
}

TEST_CASE("bad input: kernel_size, dilation and filters at the 2^31 limit", "[bad-input][size]") {
    TempDir dir("c1r_bad");
    json layer = conv(int64_t{1} << 31, int64_t{1} << 31);
    layer["dilation_rate"] = int64_t{1} << 31;
    auto r = run_config(dir, "limits.json", small_config(layer), {"--dry-run"}, Limits{10});
    expect_run_error(r, 2, {"/layers/0", "output length would be < 1"}, "/layers/0");
    r = run_config(dir, "upsample.json",
                   small_config(json{{"type", "upsample1d"}, {"size", int64_t{1} << 31}}, json::array({1, 2147483648LL, 32})),
                   {"--dry-run"}, Limits{10});
    expect_run_error(r, 2, {"upsample.json", "overflow"});
}

TEST_CASE("bad input: a kernel of 2^31 with padding same is planned in bounded time", "[bad-input][size][slow-plan]") {
    // Counting FLOPs tap by tap took 2^31 iterations here, about 25 s, before any limit applied.
    TempDir dir("c1r_bad");
    json layer = conv(1, int64_t{1} << 31);
    layer["padding"] = "same";
    auto r = run_config(dir, "kernel_same.json", small_config(layer), {"--dry-run"}, Limits{10});
    require_clean_exit(r);
    CHECK(r.exit_code == 0);
    r = run_config(dir, "kernel_same.json", small_config(layer), {}, Limits{10});
    expect_run_error(r, 2, {"kernel_same.json", "estimated"});
}

TEST_CASE("bad input: a transposed conv with a 2^31 kernel is planned in bounded time", "[bad-input][size][slow-plan]") {
    TempDir dir("c1r_bad");
    auto r = run_config(dir, "transpose_kernel.json",
                        small_config(json{{"type", "conv1d_transpose"}, {"filters", 1}, {"kernel_size", int64_t{1} << 31}}),
                        {"--dry-run"}, Limits{10});
    require_clean_exit(r);
    CHECK(r.exit_code == 0);
}

TEST_CASE("bad input: long kernels on a 2^31-step input are planned in bounded time", "[bad-input][size][slow-plan]") {
    // Counting taps in min(kernel, outputs) steps still took 2^29 steps per layer here, 3.5 s each.
    TempDir dir("c1r_bad");
    json layer = conv(1, int64_t{1} << 29);
    layer["padding"] = "same";
    json config = small_config(layer, json::array({1, 2147483648LL, 1}));
    config["layers"] = json::array({layer, layer, layer, layer});
    auto r = run_config(dir, "long_kernels.json", config, {"--dry-run"}, Limits{10});
    require_clean_exit(r);
    CHECK(r.exit_code == 0);
}

TEST_CASE("bad input: a FLOP count beyond 64 bits is an overflow error, not a wrapped sum", "[bad-input][size]") {
    // A per-tap sum in plain int64 wrapped here (undefined behaviour) and the message showed a negative operand.
    TempDir dir("c1r_bad");
    json config = small_config(json{{"type", "conv1d_transpose"}, {"filters", 1024}, {"kernel_size", 1},
                                    {"output_padding", 0}, {"strides", 845152}},
                               json::array({9, 361796, 7}));
    config["layers"].push_back(json{{"type", "upsample1d"}, {"size", 260}});
    config["layers"].push_back(json{{"type", "conv1d_transpose"}, {"filters", 9}, {"kernel_size", 899582},
                                    {"strides", 4}, {"dilation_rate", 6}});
    auto r = run_config(dir, "flops_overflow.json", config, {"--dry-run"});
    expect_run_error(r, 2, {"flops_overflow.json", "overflow"});
    CHECK(r.err.find("* -") == std::string::npos);
}

// ======================= files =======================

TEST_CASE("bad input: a config file that does not exist", "[bad-input][files]") {
    TempDir dir("c1r_bad");
    auto r = run_limited({dir.file("missing.json"), "--format", "jsonl", "-q"});
    expect_run_error(r, 2, {"missing.json", "cannot open", "No such file"});
}

TEST_CASE("bad input: a folder without configs where a config belongs", "[bad-input][files]") {
    TempDir dir("c1r_bad");
    fs::create_directories(dir.path() / "empty_folder");
    auto r = run_limited({dir.file("empty_folder"), "--format", "jsonl", "-q"});
    expect_run_error(r, 2, {"empty_folder", "no *.json"});
}

TEST_CASE("bad input: a folder where the input file belongs", "[bad-input][files]") {
    TempDir dir("c1r_bad");
    fs::create_directories(dir.path() / "data.npy");
    fs::create_directories(dir.path() / "data.csv");
    json config = small_config(conv());
    config["input"] = {{"file", "data.npy"}};
    auto r = run_config(dir, "dir_npy.json", config);
    expect_run_error(r, 2, {"data.npy", "is a directory"});
    config["input"] = {{"file", "data.csv"}};
    r = run_config(dir, "dir_csv.json", config);
    expect_run_error(r, 2, {"data.csv", "is a directory"});
}

TEST_CASE("bad input: an unreadable config file", "[bad-input][files]") {
    TempDir dir("c1r_bad");
    const auto path = dir.file("secret.json");
    if (::geteuid() != 0) {
        dir.write("secret.json", small_config(conv()).dump());
        ::chmod(path.c_str(), 0);
    } else {
        // Root reads any file whatever its mode, but not a write-only sysctl: procfs applies its mode bits to
        // root too. secret.json is a link to one, so opening it fails with EACCES as it would for a user.
        const std::string target = "/proc/sys/vm/drop_caches";  // mode 0200
        const int probe = ::open(target.c_str(), O_RDONLY);
        if (probe >= 0) ::close(probe);
        if (probe >= 0 || errno != EACCES)
            c1r_test::skip_test("running as root and " + target + " is not refused (EACCES) to root either");
        fs::create_symlink(target, path);
    }
    auto r = run_limited({path, "--format", "jsonl", "-q"});
    if (::geteuid() != 0) ::chmod(path.c_str(), 0600);
    expect_run_error(r, 2, {"secret.json", "cannot open", "Permission denied"});
}

TEST_CASE("bad input: an input file that does not exist, from the config and from --input", "[bad-input][files]") {
    TempDir dir("c1r_bad");
    json config = small_config(conv());
    config["input"] = {{"file", "nowhere.npy"}};
    auto r = run_config(dir, "missing_input.json", config);
    expect_run_error(r, 2, {"nowhere.npy"});
    r = run_config(dir, "reduce.json", small_config(conv()), {"--input", dir.file("nowhere.csv")});
    expect_run_error(r, 2, {"nowhere.csv", "no such file"});
}

TEST_CASE("bad input: an input file of an unsupported type", "[bad-input][files]") {
    TempDir dir("c1r_bad");
    const auto text = dir.write("values.txt", "1,2\n3,4\n");
    auto r = run_config(dir, "txt.json", small_config(conv()), {"--input", text});
    expect_run_error(r, 2, {"values.txt", "unsupported input file type"});
}

TEST_CASE("bad input: weights whose shape does not fit the layer", "[bad-input][files]") {
    TempDir dir("c1r_bad");
    json layer = conv(4, 3);
    layer["weights"] = {{"kernel", kFixtures + "/npy/good_f4_le_c_v1_2d.npy"}};
    auto r = run_config(dir, "weights.json", small_config(layer));
    expect_run_error(r, 2, {"good_f4_le_c_v1_2d.npy", "does not fit layer 0", "(3, 32, 4)"});
}

// ======================= broken and hostile .npy =======================

TEST_CASE("bad input: broken and hostile .npy headers and data", "[bad-input][npy]") {
    struct Case {
        const char* file;
        const char* reason;
    };
    const Case cases[] = {
        {"bad_magic.npy", "bad magic"},
        {"bad_version.npy", "format version"},
        {"bad_empty.npy", "empty file"},
        {"bad_header_len.npy", "runs past the end of the file"},
        {"bad_truncated_header.npy", "truncated header"},
        {"bad_dict_unterminated.npy", "malformed header"},
        {"bad_dict_syntax.npy", "malformed header"},
        {"bad_dict_duplicate_key.npy", "duplicate header key"},
        {"bad_dict_extra_key.npy", "unexpected header key"},
        {"bad_dict_missing_key.npy", "is missing"},
        {"bad_dict_not_tuple.npy", "tuple"},
        {"bad_dict_order_value.npy", "fortran_order"},
        {"bad_float16.npy", "unsupported dtype"},
        {"bad_complex.npy", "complex"},
        {"bad_object.npy", "Python object"},
        {"bad_structured.npy", "structured"},
        {"bad_pipe_order.npy", "byte order"},
        {"bad_scalar.npy", "scalar"},
        {"bad_4d.npy", "dimensions"},
        {"bad_zero_dim.npy", "must be >= 1"},
        {"bad_negative_dim.npy", "negative dimension"},
        {"bad_huge_shape.npy", "truncated data"},
        {"bad_overflow_shape.npy", "overflows int64"},
        {"bad_overflow_bytes.npy", "overflows int64"},
        {"bad_truncated_data.npy", "truncated data"},
        {"bad_trailing_bytes.npy", "trailing bytes"},
        {"bad_nan.npy", "is NaN"},
        {"bad_inf_fortran.npy", "is infinite"},
        {"bad_f8_overflow.npy", "overflows float32"},
    };
    TempDir dir("c1r_bad");
    for (const auto& c : cases) {
        SECTION(c.file) {
            json config = small_config(conv());
            config["input"] = {{"file", kFixtures + "/npy/" + c.file}};
            auto r = run_config(dir, "npy.json", config);
            expect_run_error(r, 2, {c.file, c.reason});
            check_rss_below(r, 512);  // a hostile header never makes the reader allocate what it claims
        }
    }
}

TEST_CASE("bad input: a .npy whose shape disagrees with the config's shape shows both", "[bad-input][npy]") {
    TempDir dir("c1r_bad");
    json config = small_config(conv());
    config["input"]["file"] = kFixtures + "/npy/good_f4_le_c_v1_3d.npy";  // (2, 3, 4)
    auto r = run_config(dir, "mismatch.json", config);
    expect_run_error(r, 2, {"good_f4_le_c_v1_3d.npy", "(2, 3, 4)", "(1, 20, 32)", "/input/shape"});
}

// ======================= CSV =======================

TEST_CASE("bad input: CSV with ragged rows", "[bad-input][csv]") {
    TempDir dir("c1r_bad");
    const auto csv = dir.write("ragged.csv", "1,2,3\n4,5\n");
    auto r = run_config(dir, "c.json", small_config(conv()), {"--input", csv});
    expect_run_error(r, 2, {"ragged.csv", "line 2 has 2 cells, expected 3"});
}

TEST_CASE("bad input: NaN and Inf in CSV data", "[bad-input][csv]") {
    TempDir dir("c1r_bad");
    for (const std::string cell : {"nan", "NaN", "inf", "-inf", "Infinity"}) {
        INFO(cell);
        const auto csv = dir.write("nonfinite.csv", "1,2\n3," + cell + "\n");
        auto r = run_config(dir, "c.json", small_config(conv()), {"--input", csv});
        expect_run_error(r, 2, {"nonfinite.csv", "line 2, column 2", "'" + cell + "'"});
    }
}

TEST_CASE("bad input: a CSV cell that is not UTF-8 does not break the JSON report of the batch", "[bad-input][csv]") {
    TempDir dir("c1r_bad");
    dir.write("latin1.csv", "1,2\n3,\xff\xfe\n");
    json config = small_config(conv());
    config["input"] = {{"file", "latin1.csv"}};
    const auto bad = dir.write("bad.json", config.dump());
    const auto good = dir.write("good.json", small_config(conv()).dump());
    auto r = run_limited({bad, good, "--format", "jsonl", "-q"});
    require_clean_exit(r);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("latin1.csv: line 2, column 2"));
    check_one_line(r.err);
    const auto records = whole_jsonl(r.out);
    REQUIRE(records.size() == 2);
    CHECK(records[0].contains("error"));
    CHECK_FALSE(records[1].contains("error"));
}

TEST_CASE("bad input: CSV numbers beyond float32 and text cells", "[bad-input][csv]") {
    TempDir dir("c1r_bad");
    auto csv = dir.write("big.csv", "1,2\n1e39,4\n");
    auto r = run_config(dir, "c.json", small_config(conv()), {"--input", csv});
    expect_run_error(r, 2, {"big.csv", "line 2, column 1", "out of float32 range"});
    csv = dir.write("text.csv", "1,2\n3,four\n");
    r = run_config(dir, "c.json", small_config(conv()), {"--input", csv});
    expect_run_error(r, 2, {"text.csv", "line 2, column 2", "'four' is not a number"});
}

TEST_CASE("bad input: CSV without data rows or with the wrong separator", "[bad-input][csv]") {
    TempDir dir("c1r_bad");
    auto csv = dir.write("header_only.csv", "a,b,c\n");
    auto r = run_config(dir, "c.json", small_config(conv()), {"--input", csv});
    expect_run_error(r, 2, {"header_only.csv", "no data rows"});
    csv = dir.write("empty.csv", "");
    r = run_config(dir, "c.json", small_config(conv()), {"--input", csv});
    expect_run_error(r, 2, {"empty.csv", "no data rows"});
    csv = dir.write("semicolons.csv", "1;2;3\n4;5;6\n");
    r = run_config(dir, "c.json", small_config(conv()), {"--input", csv});
    expect_run_error(r, 2, {"semicolons.csv", "separator"});
}

// ======================= sweeps =======================

TEST_CASE("bad input: a sweep of more than 100000 points is refused before anything runs", "[bad-input][sweep]") {
    TempDir dir("c1r_bad");
    json config = small_config(conv());
    std::vector<int> values(1000);
    for (int i = 0; i < 1000; ++i) values[static_cast<size_t>(i)] = i + 1;
    config["sweep"] = {{"/layers/0/filters", values}, {"/input/shape/1", std::vector<int>(values.begin(), values.begin() + 101)}};
    auto r = run_config(dir, "big_sweep.json", config, {}, Limits{20});
    expect_run_error(r, 2, {"big_sweep.json", "/sweep", "100000 points"});
    CHECK(r.seconds < 10);
}

TEST_CASE("bad input: sweep keys that are not pointers or point nowhere", "[bad-input][sweep]") {
    TempDir dir("c1r_bad");
    json config = small_config(conv());
    config["sweep"] = {{"layers/0/filters", {1, 2}}};
    auto r = run_config(dir, "not_pointer.json", config);
    expect_run_error(r, 2, {"not_pointer.json", "not a JSON pointer"});

    // A key the layer's kind does not have (a defaulted key, /layers/0/dilation_rate, can be swept: SPEC §3).
    config["sweep"] = {{"/layers/0/dilation", {1, 2}}};
    r = run_config(dir, "missing_value.json", config, {"--dry-run"});
    require_clean_exit(r);
    CHECK(r.exit_code == 2);
    const auto records = whole_jsonl(r.out);
    REQUIRE(records.size() == 2);  // every point reported, each with its error
    for (const auto& record : records) {
        CHECK_THAT(record["error"]["message"].get<std::string>(), Contains("no value at"));
        CHECK_THAT(record["error"]["message"].get<std::string>(), Contains("conv1d has no key \"dilation\""));
    }
    // A layer that is not there.
    config["sweep"] = {{"/layers/3/strides", {1, 2}}};
    r = run_config(dir, "missing_layer.json", config, {"--dry-run"});
    CHECK(r.exit_code == 2);
    for (const auto& record : whole_jsonl(r.out))
        CHECK_THAT(record["error"]["message"].get<std::string>(), Contains("no value at /layers/3/strides"));
}

TEST_CASE("bad input: a sweep pointer with an index beyond 64 bits", "[bad-input][sweep]") {
    // nlohmann::json throws out_of_range.404 from json_pointer::contains; it once escaped and stopped the batch.
    TempDir dir("c1r_bad");
    json config = small_config(conv());
    config["sweep"] = {{"/layers/99999999999999999999999/filters", {1, 2}}};
    const auto bad = dir.write("huge_index.json", config.dump());
    const auto good = dir.write("good.json", small_config(conv()).dump());
    auto r = run_limited({bad, good, "--format", "jsonl", "-q", "--dry-run"});
    require_clean_exit(r);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("huge_index.json"));
    const auto records = whole_jsonl(r.out);
    REQUIRE_FALSE(records.empty());
    CHECK_FALSE(records.back().contains("error"));  // good.json still ran
}

TEST_CASE("bad input: a large sweep of a large config stays in bounded memory", "[bad-input][sweep]") {
    // A copy of the config per point, made before the first run, took 1.2 GB here.
    TempDir dir("c1r_bad");
    json config = small_config(conv());
    config["description"] = std::string(60000, 'x');
    std::vector<int> hundred(100);
    for (int i = 0; i < 100; ++i) hundred[static_cast<size_t>(i)] = i + 20;
    config["sweep"] = {{"/input/shape/1", hundred}, {"/layers/0/filters", std::vector<int>(hundred.begin(), hundred.end())}};
    auto r = run_config(dir, "wide_sweep.json", config, {"--dry-run"}, Limits{60});
    require_clean_exit(r);
    CHECK(r.exit_code == 0);
    CHECK(whole_jsonl(r.out).size() == 10000);
    check_rss_below(r, 300);
}

// ======================= flags =======================

TEST_CASE("bad flags: --repeats 0 and --warmup -1", "[bad-input][flags]") {
    expect_usage_error(run_limited({C1R_SOURCE_DIR "/configs/reduce.json", "--repeats", "0"}), "--repeats");
    expect_usage_error(run_limited({C1R_SOURCE_DIR "/configs/reduce.json", "--warmup", "-1"}), "--warmup");
}

TEST_CASE("bad flags: --threads x", "[bad-input][flags]") {
    expect_usage_error(run_limited({C1R_SOURCE_DIR "/configs/reduce.json", "--threads", "x"}), "--threads x");
    expect_usage_error(run_limited({C1R_SOURCE_DIR "/configs/reduce.json", "--threads", "0"}), "--threads 0");
}

TEST_CASE("bad flags: --format xml", "[bad-input][flags]") {
    expect_usage_error(run_limited({C1R_SOURCE_DIR "/configs/reduce.json", "--format", "xml"}), "--format");
}

TEST_CASE("bad flags: --max-memory abc, 0, -5G and less than a byte", "[bad-input][flags]") {
    // "0.5" truncates to 0 bytes, which the runner reads as "no limit": it must be refused, not switch it off.
    for (const std::string value : {"abc", "0", "-5G", "12Q", "0.5", "1e-9"}) {
        INFO(value);
        expect_usage_error(run_limited({C1R_SOURCE_DIR "/configs/reduce.json", "--max-memory", value}),
                           "--max-memory " + value);
    }
}

TEST_CASE("bad flags: --shard 5/3, 0/2 and x", "[bad-input][flags]") {
    for (const std::string value : {"5/3", "0/2", "x", "1/0", "2/4/8"}) {
        INFO(value);
        expect_usage_error(run_limited({C1R_SOURCE_DIR "/configs/reduce.json", "--shard", value}), "--shard " + value);
    }
}

TEST_CASE("bad flags: an unknown flag, no config and a negative seed", "[bad-input][flags]") {
    expect_usage_error(run_limited({C1R_SOURCE_DIR "/configs/reduce.json", "--bogus"}), "--bogus");
    expect_usage_error(run_limited({}), "no config given");
    auto r = run_limited({C1R_SOURCE_DIR "/configs/reduce.json", "--seed", "-5"});
    expect_usage_error(r, "--seed");
    // CLI::NonNegativeNumber states its bound as the largest double, 309 digits: a message nobody can read.
    CHECK(r.err.size() < 200);
}

TEST_CASE("bad flags: --save-output with more than one run", "[bad-input][flags]") {
    TempDir dir("c1r_bad");
    const auto out = dir.file("out.npy");
    auto r = run_limited({C1R_SOURCE_DIR "/configs/reduce.json", C1R_SOURCE_DIR "/configs/keep.json", "--save-output", out});
    expect_usage_error(r, "--save-output takes one run");
    CHECK_FALSE(fs::exists(out));
}

// ======================= --save-output =======================

TEST_CASE("bad input: --save-output into a folder that does not exist", "[bad-input][save]") {
    TempDir dir("c1r_bad");
    const auto out = dir.file("no/such/folder/out.npy");
    auto r = run_config(dir, "c.json", small_config(conv()), {"--save-output", out});
    expect_run_error(r, 2, {"out.npy", "does not exist"});
    CHECK_FALSE(fs::exists(out));
    CHECK(temp_files_near(dir.file("c.json")).empty());
}

TEST_CASE("bad input: --save-output with a failing run leaves no file and keeps an old one", "[bad-input][save]") {
    TempDir dir("c1r_bad");
    const auto out = dir.file("out.npy");
    auto r = run_config(dir, "bad.json", small_config(conv(4, 30)), {"--save-output", out});
    expect_run_error(r, 2, {"bad.json", "output length would be < 1"});
    CHECK_FALSE(fs::exists(out));
    CHECK(temp_files_near(out).empty());

    dir.write("out.npy", "previous contents");
    r = run_config(dir, "bad.json", small_config(conv(4, 30)), {"--save-output", out});
    expect_run_error(r, 2, {"bad.json"});
    CHECK(c1r_test::read_text(out) == "previous contents");
    CHECK(temp_files_near(out).empty());
}

TEST_CASE("bad input: --save-output onto a folder leaves no temporary file", "[bad-input][save]") {
    TempDir dir("c1r_bad");
    fs::create_directories(dir.path() / "taken.npy");
    auto r = run_config(dir, "c.json", small_config(conv()), {"--save-output", dir.file("taken.npy")});
    require_clean_exit(r);
    CHECK(r.exit_code != 0);
    CHECK_THAT(r.err, Contains("taken.npy"));
    check_one_line(r.err);
    CHECK(whole_jsonl(r.out).size() == 1);
    CHECK(temp_files_near(dir.file("taken.npy")).empty());
    CHECK(fs::is_directory(dir.path() / "taken.npy"));
}

TEST_CASE("bad input: --save-output of a run stopped by --timeout writes nothing", "[bad-input][save]") {
    TempDir dir("c1r_bad");
    const auto out = dir.file("out.npy");
    json config = slow_config(1);
    config["run"]["repeats"] = 100000;
    auto r = run_config(dir, "slow.json", config, {"--save-output", out, "--timeout", "0.5"}, Limits{30});
    expect_run_error(r, 1, {"slow.json", "timed out", "--timeout"});
    CHECK_FALSE(fs::exists(out));
    CHECK(temp_files_near(out).empty());
}

TEST_CASE("bad input: a good --save-output leaves exactly the file", "[bad-input][save]") {
    TempDir dir("c1r_bad");
    const auto out = dir.file("out.npy");
    auto r = run_config(dir, "c.json", small_config(conv()), {"--save-output", out});
    require_clean_exit(r);
    CHECK(r.exit_code == 0);
    CHECK(fs::exists(out));
    CHECK(temp_files_near(out).empty());
}

// ======================= batches, time limits and interrupts =======================

TEST_CASE("bad input: a batch reports every run and the worst exit code wins", "[bad-input][batch]") {
    TempDir dir("c1r_bad");
    const auto good = dir.write("a_good.json", small_config(conv()).dump());
    const auto bad = dir.write("b_bad.json", small_config(conv(4, -1)).dump());
    const auto broken = dir.write("c_broken.json", "{");
    auto r = run_limited({good, bad, broken, good, "--format", "jsonl", "-q"});
    require_clean_exit(r);
    CHECK(r.exit_code == 2);
    const auto records = whole_jsonl(r.out);
    REQUIRE(records.size() == 4);
    CHECK_FALSE(records[0].contains("error"));
    CHECK(records[1]["error"]["pointer"] == "/layers/0/kernel_size");
    CHECK(records[2].contains("error"));
    CHECK_FALSE(records[3].contains("error"));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 2);  // one line per failed run
}

TEST_CASE("bad input: a run over --timeout is an error object and the batch goes on", "[bad-input][batch]") {
    TempDir dir("c1r_bad");
    json slow = slow_config(1);
    slow["run"]["repeats"] = 100000;
    const auto slow_path = dir.write("slow.json", slow.dump());
    const auto good = dir.write("good.json", small_config(conv()).dump());
    auto r = run_limited({slow_path, good, "--format", "jsonl", "-q", "--timeout", "0.5"}, Limits{30});
    require_clean_exit(r);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Contains("timed out"));
    const auto records = whole_jsonl(r.out);
    REQUIRE(records.size() == 2);
    CHECK(records[0].contains("error"));
    CHECK_FALSE(records[1].contains("error"));
    CHECK(r.seconds < 20);
}

TEST_CASE("bad input: SIGINT during a jsonl batch leaves whole lines and exit 130", "[bad-input][interrupt]") {
    TempDir dir("c1r_bad");
    auto r = run_config(dir, "long.json", slow_config(40), {}, Limits{60, 1.0, SIGINT});
    require_clean_exit(r);
    CHECK(r.exit_code == 130);
    const auto records = whole_jsonl(r.out);
    CHECK(records.size() < 40);
    for (const auto& record : records) CHECK(record.contains("layers"));  // finished runs, reported whole
    CHECK_THAT(r.err, Contains("interrupted"));
    CHECK(r.seconds < 30);
}

TEST_CASE("bad input: SIGTERM during a --save-output run exits 143 and leaves no temporary file", "[bad-input][interrupt]") {
    TempDir dir("c1r_bad");
    const auto out = dir.file("out.npy");
    json config = slow_config(1);
    config["run"]["repeats"] = 100000;
    auto r = run_config(dir, "long.json", config, {"--save-output", out}, Limits{60, 1.0, SIGTERM});
    require_clean_exit(r);
    CHECK(r.exit_code == 143);
    CHECK(r.out.empty());  // the only run was interrupted: nothing half-printed
    CHECK_FALSE(fs::exists(out));
    CHECK(temp_files_near(out).empty());
}
