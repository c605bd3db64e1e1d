// Checks batches end to end (SPEC §2, §3, §5): sweeps, --shard, folders, exit codes, the progress line.
#include <fcntl.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "run/batch.hpp"
#include "core/error.hpp"
#include "test_helpers.hpp"

using c1r_test::json;
using c1r_test::ProcessResult;
using c1r_test::run_binary;
using c1r_test::run_shell;
using c1r_test::TempDir;

namespace fs = std::filesystem;

namespace {

// One JSON value per non-empty line of JSONL output.
std::vector<json> parse_jsonl(const std::string& text) {
    std::vector<json> out;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        if (!line.empty()) out.push_back(json::parse(line));
        start = end + 1;
    }
    return out;
}

// A small, fast config: fixed threads skip the auto probe; one repeat keeps a 100-point sweep under a second.
json small_config(const std::string& name, int64_t length, int64_t kernel) {
    json config = c1r_test::config_json({1, length, 4}, json::array({c1r_test::conv_layer(4, kernel)}));
    config["name"] = name;
    return config;
}

// Only what a run decides (names, points, shapes, params): timings differ between any two runs.
json without_timings(json report) {
    report.erase("timing");
    report.erase("peak_rss_bytes");
    if (report.contains("layers"))
        for (auto& layer : report["layers"]) {
            layer.erase("time_ms");
            layer.erase("reorder_ms");
        }
    return report;
}

std::vector<std::string> names_of(const std::vector<json>& reports) {
    std::vector<std::string> names;
    for (const auto& r : reports) names.push_back(r["name"].is_string() ? r["name"].get<std::string>() : "?");
    return names;
}

c1r::RunItem item_named(const std::string& name) {
    return c1r::RunItem{name, json::object(), nullptr, name, {}};
}

// What a terminal shows after the bytes were written: carriage returns and "erase to end of line" applied.
std::vector<std::string> visible_lines(const std::string& transcript) {
    std::vector<std::string> lines;
    std::string line;
    size_t column = 0;
    for (size_t i = 0; i < transcript.size(); ++i) {
        char c = transcript[i];
        if (c == '\n') {
            lines.push_back(line);
            line.clear();
            column = 0;
        } else if (c == '\r') {
            column = 0;
        } else if (transcript.compare(i, 3, "\033[K") == 0) {
            line.resize(std::min(line.size(), column));
            i += 2;
        } else {
            if (column < line.size())
                line[column] = c;
            else
                line.push_back(c);
            ++column;
        }
    }
    if (!line.empty()) lines.push_back(line);
    return lines;
}

struct TerminalResult {
    int exit_code = -1;
    std::string terminal;  // everything written to the terminal
    std::string out;       // stdout, when it went to a file
};

// Runs the binary with standard error on a pseudo-terminal (and standard output too, unless out_to_file).
TerminalResult run_on_terminal(const std::vector<std::string>& args, bool out_to_file) {
    TempDir capture("c1r_pty");
    const std::string out_path = capture.file("stdout");
    std::vector<std::string> argv_text{C1R_BINARY};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);

    std::fflush(nullptr);
    int master = -1;
    pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
    if (pid < 0) FAIL("forkpty failed: " << std::strerror(errno));
    if (pid == 0) {
        if (out_to_file) {
            int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (out < 0) ::_exit(127);
            ::dup2(out, 1);
        }
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    TerminalResult result;
    char buffer[4096];
    for (;;) {
        ssize_t got = ::read(master, buffer, sizeof buffer);
        if (got > 0)
            result.terminal.append(buffer, static_cast<size_t>(got));
        else if (got < 0 && errno == EINTR)
            continue;
        else
            break;  // EIO: the child closed its side
    }
    ::close(master);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (out_to_file) result.out = c1r_test::read_text(out_path);
    return result;
}


std::string shell_quoted(const std::string& text) {
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}
}  // namespace

// ---- sweeps ----

TEST_CASE("expand_sweep: one item per grid point, the last key fastest, the value written at its pointer",
          "[batch][sweep]") {
    json config = small_config("grid", 64, 3);
    config["sweep"] = {{"/input/shape/1", {32, 48}}, {"/layers/0/kernel_size", {2, 3, 5}}};
    std::vector<c1r::RunItem> items = c1r::expand_sweep("grid.json", config);
    REQUIRE(items.size() == 6);
    const std::vector<std::pair<int, int>> expected{{32, 2}, {32, 3}, {32, 5}, {48, 2}, {48, 3}, {48, 5}};
    for (size_t i = 0; i < items.size(); ++i) {
        INFO("point " << i << ": " << items[i].point.dump());
        CHECK_FALSE(items[i].error);
        CHECK(items[i].source == "grid.json");
        CHECK(items[i].name == std::optional<std::string>("grid"));
        CHECK(items[i].point ==
              json{{"/input/shape/1", expected[i].first}, {"/layers/0/kernel_size", expected[i].second}});
        const json config = items[i].resolved();
        CHECK(config["input"]["shape"][1] == expected[i].first);
        CHECK(config["layers"][0]["kernel_size"] == expected[i].second);
        CHECK_FALSE(config.contains("sweep"));  // a point is a plain config
    }
}

TEST_CASE("expand_sweep: a malformed sweep or a grid over the limit throws before any item exists",
          "[batch][sweep]") {
    json config = small_config("bad", 64, 3);
    auto sweep_error = [&](const json& sweep) {
        config["sweep"] = sweep;
        return c1r_test::error_from([&] { c1r::expand_sweep("bad.json", config); });
    };
    CHECK(sweep_error(json::array({1, 2})).kind() == c1r::ErrorKind::config);
    CHECK(sweep_error(json::object()).kind() == c1r::ErrorKind::config);
    CHECK(sweep_error({{"/layers/0/kernel_size", json::array()}}).kind() == c1r::ErrorKind::config);
    CHECK(sweep_error({{"/layers/0/kernel_size", 3}}).kind() == c1r::ErrorKind::config);
    CHECK(sweep_error({{"layers/0/kernel_size", {2, 3}}}).kind() == c1r::ErrorKind::config);

    // 1000 x 101 = 101,000 points: refused from the sizes alone, so it must be quick.
    json thousand = json::array(), hundred_one = json::array();
    for (int i = 1; i <= 1000; ++i) thousand.push_back(i);
    for (int i = 1; i <= 101; ++i) hundred_one.push_back(i);
    auto start = std::chrono::steady_clock::now();
    c1r::Error too_big = sweep_error({{"/input/shape/1", thousand}, {"/layers/0/kernel_size", hundred_one}});
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(500));
    CHECK(too_big.kind() == c1r::ErrorKind::config);
    CHECK(std::string(too_big.what()).find("100000") != std::string::npos);
}

TEST_CASE("a 100-point sweep runs in one process and reports every point with its point object",
          "[batch][sweep]") {
    TempDir dir("c1r_batch");
    json config = small_config("kernel-by-length", 64, 3);
    json lengths = json::array(), kernels = json::array();
    for (int i = 0; i < 10; ++i) lengths.push_back(32 + 8 * i), kernels.push_back(1 + i);
    config["sweep"] = {{"/input/shape/1", lengths}, {"/layers/0/kernel_size", kernels}};
    std::string path = dir.write_json("sweep.json", config);

    ProcessResult r = run_binary({path, "--format", "jsonl", "--quiet"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.empty());
    std::vector<json> reports = parse_jsonl(r.out);
    REQUIRE(reports.size() == 100);
    std::set<std::pair<int64_t, int64_t>> seen;
    for (const auto& report : reports) {
        INFO(report.dump());
        REQUIRE(report["point"].is_object());
        REQUIRE(report["point"].size() == 2);
        int64_t length = report["point"]["/input/shape/1"], kernel = report["point"]["/layers/0/kernel_size"];
        seen.insert({length, kernel});
        CHECK(report["config"] == path);
        CHECK(report["name"] == "kernel-by-length");
        CHECK(report["input"]["shape"] == json{1, length, 4});
        CHECK(report["output"]["shape"] == json{1, length - kernel + 1, 4});  // valid: L - K + 1
        CHECK(report["timing"]["forward_ms"]["median"].get<double>() > 0);
    }
    CHECK(seen.size() == 100);
}

TEST_CASE("sweep order follows the file: the last key written varies fastest (SPEC §3)",
          "[batch][sweep]") {
    // The SPEC's own example: kernel_size written first, the length last, so the length varies fastest.
    // Keys are written out of alphabetical order on purpose: the config must keep the file's order.
    TempDir dir("c1r_batch");
    std::string path = dir.write("order.json", R"({
      "name": "order",
      "input": { "shape": [1, 64, 4] },
      "layers": [ { "type": "conv1d", "filters": 4, "kernel_size": 3 } ],
      "run": { "warmup": 0, "repeats": 1, "threads": 1 },
      "sweep": { "/layers/0/kernel_size": [2, 3, 4], "/input/shape/1": [128, 1024] }
    })");
    ProcessResult r = run_binary({path, "--format", "jsonl", "--dry-run", "--quiet"});
    REQUIRE(r.exit_code == 0);
    std::vector<json> reports = parse_jsonl(r.out);
    REQUIRE(reports.size() == 6);
    std::vector<std::string> order;  // "kernel_size/length", readable in a failure message
    for (const auto& report : reports)
        order.push_back(report["point"]["/layers/0/kernel_size"].dump() + "/" +
                        report["point"]["/input/shape/1"].dump());
    CHECK(order == std::vector<std::string>{"2/128", "2/1024", "3/128", "3/1024", "4/128", "4/1024"});
}

TEST_CASE("a sweep point that makes an invalid config fails alone, the other points run", "[batch][sweep]") {
    TempDir dir("c1r_batch");
    json config = small_config("too-long-kernel", 20, 3);
    config["sweep"] = {{"/layers/0/kernel_size", {3, 25, 5}}};
    std::string path = dir.write_json("sweep.json", config);

    ProcessResult r = run_binary({path, "--format", "jsonl"});
    CHECK(r.exit_code == 2);
    std::vector<json> reports = parse_jsonl(r.out);
    REQUIRE(reports.size() == 3);
    CHECK(reports[0]["output"]["shape"] == json{1, 18, 4});
    CHECK(reports[1].contains("error"));
    CHECK(reports[1]["point"] == json{{"/layers/0/kernel_size", 25}});
    CHECK(reports[1]["error"]["pointer"] == "/layers/0");
    CHECK(reports[2]["output"]["shape"] == json{1, 16, 4});
    CHECK(r.err.find("/layers/0") != std::string::npos);  // the failure is explained on stderr
}

TEST_CASE("a sweep pointer missing from the config fails only its own points, the batch goes on",
          "[batch][sweep]") {
    TempDir dir("c1r_batch");
    json missing = small_config("missing", 32, 3);
    missing["sweep"] = {{"/layers/3/kernel_size", {2, 3}}};  // there is no layer 3
    std::string bad = dir.write_json("missing.json", missing);
    std::string good = dir.write_json("good.json", small_config("good", 32, 3));

    ProcessResult r = run_binary({bad, good, "--format", "jsonl"});
    CHECK(r.exit_code == 2);
    std::vector<json> reports = parse_jsonl(r.out);
    REQUIRE(reports.size() == 3);
    for (int i = 0; i < 2; ++i) {
        INFO(reports[i].dump());
        CHECK(reports[i]["config"] == bad);
        CHECK(reports[i]["name"] == "missing");
        CHECK(reports[i]["point"] == json{{"/layers/3/kernel_size", i + 2}});
        REQUIRE(reports[i].contains("error"));
        CHECK(reports[i]["error"]["message"].get<std::string>().find("/layers/3/kernel_size") !=
              std::string::npos);
    }
    CHECK(reports[2]["name"] == "good");
    CHECK(reports[2]["output"]["shape"] == json{1, 30, 4});
}

TEST_CASE("a grid of more than 100,000 points is refused with exit 2 before anything runs",
          "[batch][sweep]") {
    TempDir dir("c1r_batch");
    json config = small_config("huge", 4096, 3);
    json lengths = json::array(), kernels = json::array();
    for (int i = 0; i < 1000; ++i) lengths.push_back(100 + i);
    for (int i = 0; i < 101; ++i) kernels.push_back(1 + i);
    config["sweep"] = {{"/input/shape/1", lengths}, {"/layers/0/kernel_size", kernels}};
    std::string path = dir.write_json("huge.json", config);

    auto start = std::chrono::steady_clock::now();
    ProcessResult r = run_binary({path, "--format", "jsonl"});
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("100000") != std::string::npos);
    std::vector<json> reports = parse_jsonl(r.out);
    REQUIRE(reports.size() <= 1);  // at most the refusal itself, never a run
    for (const auto& report : reports) {
        CHECK(report.contains("error"));
        CHECK_FALSE(report.contains("output"));
    }
}

// ---- shards ----

TEST_CASE("select_shard: the parts are contiguous, in order, near-equal, and together the whole list",
          "[batch][shard]") {
    for (int n = 0; n <= 11; ++n) {
        std::vector<c1r::RunItem> items;
        for (int i = 0; i < n; ++i) items.push_back(item_named("item" + std::to_string(i)));
        for (int count = 1; count <= 12; ++count) {
            INFO("n " << n << ", count " << count);
            std::vector<std::string> joined;
            size_t smallest = SIZE_MAX, largest = 0;
            for (int index = 1; index <= count; ++index) {
                std::vector<c1r::RunItem> part = c1r::select_shard(items, index, count);
                smallest = std::min(smallest, part.size());
                largest = std::max(largest, part.size());
                for (const auto& item : part) joined.push_back(item.source);
            }
            std::vector<std::string> whole;
            for (const auto& item : items) whole.push_back(item.source);
            CHECK(joined == whole);
            CHECK(largest - smallest <= 1);
        }
    }
}

TEST_CASE("shards 1/3, 2/3 and 3/3 of a batch together equal the whole run, timings aside",
          "[batch][shard]") {
    TempDir dir("c1r_batch");
    fs::create_directories(dir.path() / "folder");
    dir.write_json("folder/a.json", small_config("folder-a", 40, 3));
    dir.write_json("folder/b.json", small_config("folder-b", 50, 5));
    json sweep = small_config("sweep", 64, 3);
    sweep["sweep"] = {{"/input/shape/1", {33, 65}}, {"/layers/0/kernel_size", {2, 4, 8}}};
    std::string sweep_path = dir.write_json("sweep.json", sweep);
    std::string bad =
        dir.write_json("bad.json", small_config("bad", 3, 5));  // failures are shard members too
    const std::vector<std::string> inputs{dir.file("folder"), sweep_path, bad,
                                          dir.write_json("last.json", small_config("last", 16, 1))};

    auto run = [&](const std::vector<std::string>& extra) {
        std::vector<std::string> args = inputs;
        args.insert(args.end(), {"--format", "jsonl", "--quiet"});
        args.insert(args.end(), extra.begin(), extra.end());
        ProcessResult r = run_binary(args);
        CHECK(r.exit_code == 2);  // bad.json, whichever shard holds it; others exit 0
        return parse_jsonl(r.out);
    };
    std::vector<json> whole = run({});
    REQUIRE(whole.size() == 10);
    std::vector<json> joined;
    for (int index = 1; index <= 3; ++index) {
        std::vector<std::string> args = inputs;
        args.insert(args.end(), {"--format", "jsonl", "--quiet", "--shard", std::to_string(index) + "/3"});
        ProcessResult r = run_binary(args);
        std::vector<json> part = parse_jsonl(r.out);
        bool holds_bad =
            std::any_of(part.begin(), part.end(), [](const json& p) { return p.contains("error"); });
        CHECK(r.exit_code == (holds_bad ? 2 : 0));
        CHECK(part.size() >= 3);  // 10 runs in 3 parts: 3, 3, 4
        CHECK(part.size() <= 4);
        joined.insert(joined.end(), part.begin(), part.end());
    }
    REQUIRE(joined.size() == whole.size());
    CHECK(names_of(joined) == names_of(whole));
    for (size_t i = 0; i < whole.size(); ++i) {
        INFO("run " << i);
        CHECK(without_timings(joined[i]) == without_timings(whole[i]));
    }
}

TEST_CASE("more shards than runs: the extra shards are empty and succeed", "[batch][shard]") {
    TempDir dir("c1r_batch");
    std::string a = dir.write_json("a.json", small_config("a", 16, 3));
    std::string b = dir.write_json("b.json", small_config("b", 16, 3));
    std::vector<std::string> names;
    for (int index = 1; index <= 5; ++index) {
        ProcessResult r =
            run_binary({a, b, "--dry-run", "--format", "jsonl", "--shard", std::to_string(index) + "/5"});
        CHECK(r.exit_code == 0);
        for (const auto& report : parse_jsonl(r.out)) names.push_back(report["name"]);
    }
    CHECK(names == std::vector<std::string>{"a", "b"});
    ProcessResult empty_json = run_binary({a, b, "--dry-run", "--format", "json", "--shard", "1/5"});
    CHECK(empty_json.exit_code == 0);
    CHECK(json::parse(empty_json.out) == json::array());
}

TEST_CASE("the shard option takes I/N with 1 <= I <= N and refuses anything else with exit 2",
          "[batch][shard]") {
    TempDir dir("c1r_batch");
    std::string a = dir.write_json("a.json", small_config("a", 16, 3));
    for (std::string shard : {"0/3", "4/3", "abc", "1/0", "1", "1/", "/3", "-1/3", "1/-3", "1.5/3", "1/3x"}) {
        INFO("--shard " << shard);
        ProcessResult r = run_binary({a, "--dry-run", "--format", "jsonl", "--shard", shard});
        CHECK(r.exit_code == 2);
        CHECK(r.out.empty());
        CHECK(r.err.find("--shard") != std::string::npos);
    }
}

TEST_CASE("the shard option refuses a malformed or overflowing I/N instead of running a wrong part",
          "[batch][shard]") {
    TempDir dir("c1r_batch");
    std::vector<std::string> paths;
    for (const char* name : {"a", "b", "c"})
        paths.push_back(dir.write_json(std::string(name) + ".json", small_config(name, 16, 3)));
    auto run_shard = [&](const std::string& shard) {
        std::vector<std::string> args = paths;
        args.insert(args.end(), {"--dry-run", "--format", "jsonl", "--shard", shard});
        return run_binary(args);
    };
    // Three numbers are not I/N; today the trailing "/4" is ignored and shard 1/3 runs.
    ProcessResult three_numbers = run_shard("1/3/4");
    CHECK(three_numbers.exit_code == 2);
    CHECK(three_numbers.out.empty());

    // N/N always holds the last run; index * size overflows int64 in select_shard and the part comes out
    // empty.
    ProcessResult largest = run_shard("9223372036854775807/9223372036854775807");
    INFO(largest.out << largest.err);
    bool refused = largest.exit_code == 2 && largest.out.empty();
    bool last_run =
        largest.exit_code == 0 && names_of(parse_jsonl(largest.out)) == std::vector<std::string>{"c"};
    CHECK((refused || last_run));

    // Past int64: sscanf's %ld overflow is undefined behaviour; refuse it.
    CHECK(run_shard("1/99999999999999999999").exit_code == 2);
}

// ---- folders ----

TEST_CASE("a folder runs its *.json files in name order and nothing else", "[batch][folder]") {
    TempDir dir("c1r_batch");
    dir.write_json("b10.json", small_config("b10", 16, 3));
    dir.write_json("b2.json", small_config("b2", 16, 3));
    dir.write_json("a.json", small_config("a", 16, 3));
    dir.write("notes.txt", "not a config");
    dir.write("a.json.bak", "{}");
    fs::create_directories(dir.path() / "nested.json");  // a folder named like a config is no config
    dir.write_json("nested.json/inner.json", small_config("inner", 16, 3));

    ProcessResult r = run_binary({dir.path().string(), "--format", "jsonl", "--quiet"});
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    std::vector<json> reports = parse_jsonl(r.out);
    CHECK(names_of(reports) ==
          std::vector<std::string>{"a", "b10", "b2"});  // byte order, as `ls` in the C locale
}

TEST_CASE("a folder with a bad config goes on with every other config and exits 2", "[batch][folder]") {
    TempDir dir("c1r_batch");
    dir.write_json("1-good.json", small_config("first", 16, 3));
    dir.write("2-syntax.json", "{ \"name\": \"broken\",\n  \"layers\": [ , ] }");
    dir.write_json("3-short.json", small_config("short", 3, 5));
    dir.write_json("4-good.json", small_config("last", 16, 3));

    ProcessResult r = run_binary({dir.path().string(), "--format", "jsonl"});
    CHECK(r.exit_code == 2);
    std::vector<json> reports = parse_jsonl(r.out);
    REQUIRE(reports.size() == 4);
    CHECK(reports[0]["output"]["shape"] == json{1, 14, 4});
    CHECK(reports[1].contains("error"));
    CHECK(reports[1]["config"].get<std::string>().find("2-syntax.json") != std::string::npos);
    CHECK(reports[2].contains("error"));
    CHECK(reports[2]["name"] == "short");
    CHECK(reports[3]["output"]["shape"] == json{1, 14, 4});
    CHECK(r.err.find("2-syntax.json:2:") != std::string::npos);  // file and line for the syntax error
    CHECK(r.err.find("3-short.json") != std::string::npos);
}

TEST_CASE("the worst exit code wins: 2 over 1, in either order, and every run is still attempted",
          "[batch][exit]") {
    // --timeout of a microsecond fails every run that reaches oneDNN with a runtime error (exit 1).
    TempDir dir("c1r_batch");
    std::string good = dir.write_json("good.json", small_config("good", 16, 3));
    std::string invalid = dir.write_json("invalid.json", small_config("invalid", 3, 5));
    const std::vector<std::string> timeout{"--format", "jsonl", "--timeout", "0.000001"};

    auto run = [&](std::vector<std::string> args) {
        args.insert(args.end(), timeout.begin(), timeout.end());
        return run_binary(args);
    };
    ProcessResult runtime_only = run({good, good});
    CHECK(runtime_only.exit_code == 1);
    CHECK(parse_jsonl(runtime_only.out).size() == 2);

    for (const auto& order :
         {std::vector<std::string>{good, invalid, good}, std::vector<std::string>{invalid, good, good}}) {
        ProcessResult r = run(order);
        CHECK(r.exit_code == 2);
        std::vector<json> reports = parse_jsonl(r.out);
        REQUIRE(reports.size() == 3);
        for (const auto& report : reports) CHECK(report.contains("error"));
    }
}

// ---- progress ----

TEST_CASE("progress: on a terminal it shows done/total, the config, elapsed and time left, --quiet hides it",
          "[batch][progress]") {
    TempDir dir("c1r_batch");
    std::vector<std::string> args;
    for (const char* name : {"one", "two", "three"})
        args.push_back(dir.write_json(std::string(name) + ".json", small_config(name, 16, 3)));
    args.insert(args.end(), {"--format", "jsonl"});

    TerminalResult shown = run_on_terminal(args, true);
    CHECK(shown.exit_code == 0);
    CHECK(parse_jsonl(shown.out).size() == 3);  // the report itself never goes to the terminal
    INFO(shown.terminal);
    CHECK(shown.terminal.find("/3]") != std::string::npos);
    CHECK(shown.terminal.find("three.json") != std::string::npos);
    CHECK(shown.terminal.find("elapsed") != std::string::npos);
    CHECK(shown.terminal.find("left") != std::string::npos);
    for (const auto& line : visible_lines(shown.terminal)) CHECK(line.find("elapsed") == std::string::npos);

    args.push_back("--quiet");
    TerminalResult quiet = run_on_terminal(args, true);
    CHECK(quiet.exit_code == 0);
    CHECK(quiet.terminal.empty());
    CHECK(parse_jsonl(quiet.out).size() == 3);

    // Not a terminal: nothing on stderr for a clean batch even without --quiet.
    args.pop_back();
    ProcessResult piped = run_binary(args);
    CHECK(piped.exit_code == 0);
    CHECK(piped.err.empty());
}

TEST_CASE("progress: a report printed to the same terminal never shares a line with the progress line",
          "[batch][progress]") {
    // Standard output and error on one terminal (the plain `conv1d-reshape configs/`): the progress line must
    // be cleared before a report is printed, or it stays on screen glued to the report's first line.
    TempDir dir("c1r_batch");
    std::vector<std::string> args;
    for (const char* name : {"one", "two", "three"})
        args.push_back(dir.write_json(std::string(name) + ".json", small_config(name, 16, 3)));
    args.push_back("--dry-run");
    TerminalResult r = run_on_terminal(args, false);
    CHECK(r.exit_code == 0);
    INFO(r.terminal);
    std::vector<std::string> lines = visible_lines(r.terminal);
    int headers = 0;
    for (const auto& line : lines) {
        CHECK(line.find("elapsed") == std::string::npos);
        if (line.find("== ") != std::string::npos) {
            ++headers;
            CHECK(line.rfind("== ", 0) == 0);
        }
    }
    CHECK(headers == 3);
}

// ---- scripts ----

TEST_CASE("scripts/shard_parallel.sh: two shards merge into the unsharded list and keep the worst exit code",
          "[batch][shard][scripts]") {
    if (run_shell("command -v parallel").exit_code != 0)
        c1r_test::skip_test("GNU Parallel is not installed (Debian: parallel; scripts/setup.sh test installs it)");
    TempDir dir("c1r_batch");
    json sweep = small_config("sweep", 64, 3);
    sweep["sweep"] = {{"/layers/0/kernel_size", {2, 3, 4, 5, 6}}};
    std::string inputs = shell_quoted(dir.write_json("sweep.json", sweep)) + " " +
                         shell_quoted(dir.write_json("bad.json", small_config("bad", 3, 5))) + " " +
                         shell_quoted(dir.write_json("good.json", small_config("good", 16, 3)));
    const std::string script = shell_quoted(std::string(C1R_SOURCE_DIR) + "/scripts/shard_parallel.sh");
    const std::string binary = shell_quoted(C1R_BINARY);

    ProcessResult whole = run_binary({dir.file("sweep.json"), dir.file("bad.json"), dir.file("good.json"),
                                      "--dry-run", "--format", "jsonl"});
    ProcessResult sharded = run_shell(script + " -n 2 -j 2 -b " + binary + " -o " +
                                      shell_quoted(dir.file("keep")) + " -- " + inputs + " --dry-run");
    INFO(sharded.err);
    CHECK(sharded.exit_code == 2);  // bad.json's shard exits 2, the other 0: the worst wins
    CHECK(parse_jsonl(sharded.out) == parse_jsonl(whole.out));
    CHECK(parse_jsonl(c1r_test::read_text(dir.file("keep/shard-1.jsonl"))).size() == 3);
    CHECK(parse_jsonl(c1r_test::read_text(dir.file("keep/shard-2.jsonl"))).size() == 4);
    CHECK(sharded.err.find("shard 2/2: conv1d-reshape:") != std::string::npos);  // whose message it is

    CHECK(run_shell(script + " -b " + binary + " -- " + inputs + " --format csv").exit_code == 2);
    CHECK(run_shell(script + " -b " + binary + " -- " + inputs + " --shard 1/2").exit_code == 2);
}

TEST_CASE("scripts/shard_slurm.sh: array tasks (SLURM_* set by hand) merge into the unsharded list",
          "[batch][shard][scripts]") {
    TempDir dir("c1r_batch");
    json sweep = small_config("sweep", 64, 3);
    sweep["sweep"] = {{"/layers/0/kernel_size", {2, 3, 4, 5, 6}}};
    std::string config = dir.write_json("sweep.json", sweep);
    const std::string script = shell_quoted(std::string(C1R_SOURCE_DIR) + "/scripts/shard_slurm.sh");
    const std::string out = shell_quoted(dir.file("out"));
    const std::string env =
        "C1R_BINARY=" + shell_quoted(C1R_BINARY) + " SLURM_SUBMIT_DIR=" + shell_quoted(dir.path().string());

    ProcessResult whole = run_binary({config, "--dry-run", "--format", "jsonl"});
    // --array=0-2: Slurm numbers these tasks 0, 1, 2; they are shards 1/3, 2/3 and 3/3.
    for (int task = 0; task < 3; ++task) {
        ProcessResult r = run_shell(env + " SLURM_ARRAY_TASK_ID=" + std::to_string(task) +
                                    " SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_COUNT=3 " + script + " " + out +
                                    " " + shell_quoted(config) + " --dry-run");
        INFO(r.err);
        CHECK(r.exit_code == 0);
        CHECK(fs::exists(dir.file("out/shard-" + std::to_string(task + 1) + ".jsonl")));
    }
    ProcessResult merged = run_shell(script + " --merge " + out);
    CHECK(merged.exit_code == 0);
    CHECK(parse_jsonl(merged.out) == parse_jsonl(whole.out));

    fs::remove(dir.file("out/shard-2.jsonl"));
    ProcessResult incomplete = run_shell(script + " --merge " + out);
    CHECK(incomplete.exit_code == 2);
    CHECK(incomplete.out.empty());
    CHECK(incomplete.err.find("2") != std::string::npos);
    CHECK(run_shell(script + " " + out + " " + shell_quoted(config)).exit_code == 2);  // not in an array
}
