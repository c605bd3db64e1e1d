// Checks the built binary end to end: exit codes (SPEC §5), error messages on stderr, and reports on stdout
// only.
#include <CLI/CLI.hpp>
#include <catch2/catch.hpp>
#include <regex>

#include "cli/flags.hpp"
#include "report/report.hpp"
#include "test_helpers.hpp"

using c1r_test::config_json;
using c1r_test::conv_layer;
using c1r_test::json;
using c1r_test::run_binary;
using c1r_test::TempDir;
using Catch::Matchers::Contains;

namespace {

// Quick run settings so no test waits on timing: one thread (no auto probe), no warmup, one repeat.
const std::vector<std::string> kQuick = {"--threads", "1", "--warmup", "0", "--repeats", "1"};

std::vector<std::string> args_with(std::vector<std::string> args,
                                   const std::vector<std::string>& more = kQuick) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

json reduce_config() { return config_json({1, 20, 32}, json::array({conv_layer(16, 2, 2)})); }

// Parses all of stdout as one JSON document: anything else printed there makes this fail.
json parse_stdout(const c1r_test::ProcessResult& result) {
    INFO("stdout: " << result.out << "\nstderr: " << result.err);
    json value;
    REQUIRE_NOTHROW(value = json::parse(result.out));
    return value;
}

}  // namespace

TEST_CASE("a value of the wrong type: exit 2, file and pointer on stderr", "[cli][errors]") {
    TempDir dir("c1r_cli_test");
    json config = reduce_config();
    config["layers"][0]["kernel_size"] = "2";
    const std::string path = dir.write_json("bad_type.json", config);
    auto result = run_binary(args_with({path}));
    INFO(result.err);
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Contains("/layers/0/kernel_size"));
    CHECK_THAT(result.err, Contains("bad_type.json"));
}

TEST_CASE("a JSON syntax error: exit 2 with file:line:column", "[cli][errors]") {
    TempDir dir("c1r_cli_test");
    // line 2 is `  "name": ,` — the unexpected ',' is its 11th character
    const std::string path = dir.write("syntax.json", "{\n  \"name\": ,\n  \"layers\": []\n}\n");
    auto result = run_binary(args_with({path}));
    INFO(result.err);
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Contains(path + ":2:11"));
}

TEST_CASE("an unknown key: exit 2 naming it", "[cli][errors]") {
    TempDir dir("c1r_cli_test");
    json config = reduce_config();
    config["layers"][0]["kernal_size"] = 2;
    auto result = run_binary(args_with({dir.write_json("typo.json", config)}));
    INFO(result.err);
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Contains("/layers/0/kernal_size"));
}

TEST_CASE("an input too short for the kernel: exit 2 naming the layer", "[cli][errors]") {
    TempDir dir("c1r_cli_test");
    // (1, 4, 2) -> conv k5 valid: 4 - 5 + 1 = 0 < 1
    auto result = run_binary(
        args_with({dir.write_json("short.json", config_json({1, 4, 2}, json::array({conv_layer(4, 5)})))}));
    INFO(result.err);
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Contains("/layers/0"));
}

TEST_CASE("format json: exit 0 and stdout is one JSON document", "[cli][report]") {
    TempDir dir("c1r_cli_test");
    auto result = run_binary(args_with({dir.write_json("reduce.json", reduce_config()), "--format", "json"}));
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    json report = parse_stdout(result);
    REQUIRE(report.is_object());
    CHECK(report["schema"] == "conv1d-reshape/report/v1");
    CHECK(report["output"]["shape"] == json::array({1, 10, 16}));  // SPEC reduce case
    REQUIRE(report["layers"].size() == 1);
    CHECK(report["layers"][0]["params"] == 1040);
    CHECK(report["layers"][0]["flops"] == 20480);
    CHECK(report["timing"].is_object());
    CHECK_FALSE(report.contains("verify"));  // only with --verify
}

TEST_CASE("two configs with --format json give an array, jsonl one line each", "[cli][report]") {
    TempDir dir("c1r_cli_test");
    const std::string a = dir.write_json("a.json", reduce_config());
    const std::string b =
        dir.write_json("b.json", config_json({1, 15, 8}, json::array({conv_layer(4, 3, 1, "same")})));
    auto result = run_binary(args_with({a, b, "--format", "json"}));
    REQUIRE(result.exit_code == 0);
    json reports = parse_stdout(result);
    REQUIRE(reports.is_array());
    REQUIRE(reports.size() == 2);
    CHECK(reports[1]["output"]["shape"] == json::array({1, 15, 4}));  // same keeps 15

    auto lines = run_binary(args_with({a, b, "--format", "jsonl"}));
    REQUIRE(lines.exit_code == 0);
    std::istringstream in(lines.out);
    int count = 0;
    for (std::string line; std::getline(in, line); ++count) CHECK_NOTHROW(json::parse(line));
    CHECK(count == 2);
}

TEST_CASE("in a batch a bad config fails with 2 and the others still run", "[cli][report]") {
    TempDir dir("c1r_cli_test");
    json bad = reduce_config();
    bad["layers"][0]["strides"] = 0;
    const std::string good_path = dir.write_json("a_good.json", reduce_config());
    const std::string bad_path = dir.write_json("b_bad.json", bad);
    auto result = run_binary(args_with({bad_path, good_path, "--format", "json"}));
    CHECK(result.exit_code == 2);
    json reports = parse_stdout(result);
    REQUIRE(reports.size() == 2);
    CHECK(reports[0]["error"]["pointer"] == "/layers/0/strides");
    CHECK(reports[1]["output"]["shape"] == json::array({1, 10, 16}));
    CHECK_THAT(result.err, Contains("/layers/0/strides"));
}

TEST_CASE("dry run gives shapes but null timing", "[cli][report]") {
    TempDir dir("c1r_cli_test");
    auto result =
        run_binary({dir.write_json("reduce.json", reduce_config()), "--dry-run", "--format", "json"});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    json report = parse_stdout(result);
    CHECK(report["timing"].is_null());
    CHECK(report["layers"][0]["impl"].is_null());
    CHECK(report["output"]["shape"] == json::array({1, 10, 16}));
    CHECK(report["layers"][0]["receptive_field"] == 2);
}

TEST_CASE("dry run allocates nothing: a 256 GB run plans in no time", "[cli][report]") {
    TempDir dir("c1r_cli_test");
    // (1, 1e9, 64) f32 is 256 GB; conv k3 valid: 1e9 - 3 + 1 = 999999998
    json config = config_json({1, 1000000000, 64}, json::array({conv_layer(64, 3)}));
    auto result = run_binary({dir.write_json("huge.json", config), "--dry-run", "--format", "json"});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(parse_stdout(result)["output"]["shape"] == json::array({1, 999999998, 64}));
}

TEST_CASE("dry run reports a transposed conv crop, negative where bias-only steps are added",
          "[cli][report]") {
    TempDir dir("c1r_cli_test");
    // (1,5,4) -> Conv1DTranspose(k1, s2, same): 5*2 = 10 out of a full result of 4*2+1 = 9 -> crop [0, -1]
    json layer = {{"type", "conv1d_transpose"},
                  {"filters", 2},
                  {"kernel_size", 1},
                  {"strides", 2},
                  {"padding", "same"}};
    auto result = run_binary({dir.write_json("t.json", config_json({1, 5, 4}, json::array({layer}))),
                              "--dry-run", "--format", "json"});
    REQUIRE(result.exit_code == 0);
    json report = parse_stdout(result);
    CHECK(report["layers"][0]["padding"] == json::array({0, -1}));
    CHECK(report["output"]["shape"] == json::array({1, 10, 2}));
}

TEST_CASE("shapes too large for 64 bits and runs over --max-memory are refused with 2", "[cli][errors]") {
    TempDir dir("c1r_cli_test");
    const int64_t big = int64_t{1} << 31;  // the largest setting the parser takes; 2^93 elements overflow
    auto overflow = run_binary(
        {dir.write_json("overflow.json", config_json({big, big, big}, json::array({conv_layer(4, 1)}))),
         "--dry-run"});
    INFO(overflow.err);
    CHECK(overflow.exit_code == 2);

    auto refused =
        run_binary(args_with({dir.write_json("reduce.json", reduce_config()), "--max-memory", "1000"}));
    INFO(refused.err);
    CHECK(refused.exit_code == 2);
    CHECK_THAT(refused.err, Contains("1000"));  // the limit is shown
}

TEST_CASE("format csv: the SPEC header and one row per layer", "[cli][report]") {
    TempDir dir("c1r_cli_test");
    auto result = run_binary(args_with({dir.write_json("reduce.json", reduce_config()), "--format", "csv"}));
    REQUIRE(result.exit_code == 0);
    std::istringstream in(result.out);
    std::string header, row, extra;
    std::getline(in, header);
    std::getline(in, row);
    CHECK(header ==
          "config,name,point,layer,type,input_shape,output_shape,params,flops,receptive_field,impl,median_ms,"
          "min_ms");
    CHECK_THAT(row, Contains("conv1d,1x20x32,1x10x16,1040,20480,2,"));
    CHECK_FALSE(std::getline(in, extra));
}

TEST_CASE("a folder runs its *.json files in name order", "[cli][report]") {
    TempDir dir("c1r_cli_test");
    dir.write_json("b_second.json", config_json({1, 15, 8}, json::array({conv_layer(4, 3, 1, "same")})));
    dir.write_json("a_first.json", reduce_config());
    dir.write("notes.txt", "not a config");
    auto result = run_binary(args_with({dir.path().string(), "--format", "json"}));
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    json reports = parse_stdout(result);
    REQUIRE(reports.size() == 2);
    CHECK_THAT(reports[0]["config"].get<std::string>(), Contains("a_first.json"));
    CHECK_THAT(reports[1]["config"].get<std::string>(), Contains("b_second.json"));
}

TEST_CASE("verify passes on a mixed stack", "[cli][verify]") {
    TempDir dir("c1r_cli_test");
    json relu_conv = conv_layer(16, 3, 1, "same");
    relu_conv["activation"] = "relu";
    json transpose = {{"type", "conv1d_transpose"}, {"filters", 8},        {"kernel_size", 3}, {"strides", 2},
                      {"padding", "same"},          {"activation", "tanh"}};
    json layers = json::array(
        {relu_conv, json{{"type", "max_pool1d"}}, transpose, json{{"type", "upsample1d"}},
         json{{"type", "permute"}, {"dims", {2, 1}}}, conv_layer(12, 5, 2, "causal"),
         json{{"type", "activation"}, {"activation", "gelu"}}, json{{"type", "permute"}, {"dims", {2, 1}}},
         json{{"type", "reshape"}, {"target_shape", {-1, 4}}},
         json{{"type", "activation"}, {"activation", "sigmoid"}},
         json{{"type", "avg_pool1d"}, {"pool_size", 3}, {"padding", "same"}}});
    auto result = run_binary(args_with(
        {dir.write_json("mixed.json", config_json({2, 30, 6}, layers)), "--verify", "--format", "json"}));
    INFO(result.err);
    CHECK(result.exit_code == 0);
    json report = parse_stdout(result);
    REQUIRE(report.contains("verify"));
    CHECK(report["verify"]["passed"] == true);
    // (2,30,6) conv -> (2,30,16) pool -> (2,15,16) transpose s2 same -> (2,30,8) upsample -> (2,60,8)
    // permute -> (2,8,60) conv k5 s2 causal, ceil(8/2) = 4 -> (2,4,12) gelu (fused) permute -> (2,12,4)
    // reshape 48/4 = 12 -> (2,12,4) sigmoid, avg pool 3 same, ceil(12/3) = 4 -> (2,4,4)
    CHECK(report["output"]["shape"] == json::array({2, 4, 4}));
}

TEST_CASE("save-output with two runs is a usage error", "[cli][usage]") {
    TempDir dir("c1r_cli_test");
    const std::string a = dir.write_json("a.json", reduce_config());
    const std::string b = dir.write_json("b.json", reduce_config());
    auto result = run_binary(args_with({a, b, "--save-output", dir.file("out.npy")}));
    CHECK(result.exit_code == 2);
    CHECK_FALSE(std::filesystem::exists(dir.file("out.npy")));
    CHECK(result.out.empty());
}

TEST_CASE("help and version exit 0, unknown flags, bad values and no config exit 2", "[cli][usage]") {
    auto help = run_binary({"--help"});
    CHECK(help.exit_code == 0);
    CHECK_THAT(help.out, Contains("--config"));

    auto version = run_binary({"--version"});
    CHECK(version.exit_code == 0);
    CHECK(std::regex_search(version.out, std::regex("[0-9]+\\.[0-9]+\\.[0-9]+")));

    auto unknown = run_binary({"--no-such-flag"});
    CHECK(unknown.exit_code == 2);
    CHECK(unknown.out.empty());

    auto bad_value = run_binary({"x.json", "--format", "yaml"});
    CHECK(bad_value.exit_code == 2);

    auto nothing = run_binary({});
    CHECK(nothing.exit_code == 2);
}

// ---- flag values (src/cli/flags.hpp): checked while the command line is parsed ----

namespace {

// Parses `args` (after the program name) for one option `--x` set up by `setup`; returns CLI11's error text,
// or "" when the value was taken.
template <typename T, typename Setup>
std::string parse_x(std::vector<std::string> args, T& value, Setup&& setup) {
    CLI::App app;
    setup(app.add_option("--x", value));
    std::reverse(args.begin(), args.end());  // CLI::App::parse(vector) takes them last first
    try {
        app.parse(args);
    } catch (const CLI::ParseError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("flags: integer() calls 1.5 not an integer, before the range check", "[cli][flags]") {
    std::optional<int64_t> n;
    auto setup = [](CLI::Option* o) { o->check(c1r::integer())->check(CLI::Range(int64_t{1}, int64_t{10})); };
    CHECK(parse_x({"--x", "1.5"}, n, setup) == "--x: 1.5 is not an integer");
    CHECK(parse_x({"--x", "x"}, n, setup) == "--x: x is not an integer");
    CHECK_THAT(parse_x({"--x", "0"}, n, setup), Contains("not in range 1 to 10"));
    CHECK(parse_x({"--x", "7"}, n, setup).empty());
    CHECK(n == 7);
}

TEST_CASE("flags: threads_value() takes auto (as 0) or 1 to 4096, in decimal", "[cli][flags]") {
    std::optional<int64_t> threads;
    auto setup = [](CLI::Option* o) { o->transform(c1r::threads_value("--threads")); };
    CHECK(parse_x({"--x", "auto"}, threads, setup).empty());
    CHECK(threads == 0);
    CHECK(parse_x({"--x", "4096"}, threads, setup).empty());
    CHECK(threads == 4096);
    CHECK(parse_x({"--x", "010"}, threads, setup).empty());
    CHECK(threads == 10);  // not octal
    for (const std::string bad : {"x", "0", "4097", "1.5", "-2", ""}) {
        INFO(bad);
        CHECK(parse_x({"--x", bad}, threads, setup) ==
              "--threads " + bad + ": expected auto or a count from 1 to 4096");
    }
}

TEST_CASE("flags: size_value() reads bytes as CLI::AsSizeValue does, K = 1024", "[cli][flags]") {
    std::optional<int64_t> bytes;
    auto setup = [](CLI::Option* o) { o->transform(c1r::size_value("--max-memory")); };
    const std::vector<std::pair<std::string, int64_t>> good{{"1000000", 1000000},
                                                            {"1K", 1024},
                                                            {"2kb", 2048},
                                                            {"512M", int64_t{512} << 20},
                                                            {"8G", int64_t{8} << 30},
                                                            {"8GiB", int64_t{8} << 30},
                                                            {"8 G", int64_t{8} << 30},
                                                            {"1T", int64_t{1} << 40}};
    for (const auto& [text, value] : good) {
        INFO(text);
        CHECK(parse_x({"--x", text}, bytes, setup).empty());
        CHECK(bytes == value);
    }
    // 0 would read as "no limit"; -5G and 8E do not fit; 0.5, 1.5G and 1e9 are not whole byte counts.
    for (const std::string bad : {"abc", "0", "-5", "-5G", "12Q", "0.5", "1e-9", "1.5G", "1e9", "8E"}) {
        INFO(bad);
        CHECK(parse_x({"--x", bad}, bytes, setup) ==
              "--max-memory " + bad + ": expected a positive size, e.g. 8G, 512M or 1000000");
    }
}

TEST_CASE("flags: choice() takes the names only and converts them", "[cli][flags]") {
    c1r::Format format = c1r::Format::table;
    auto setup = [](CLI::Option* o) {
        c1r::choice(o, std::vector<std::pair<std::string, c1r::Format>>{{"table", c1r::Format::table},
                                                                        {"csv", c1r::Format::csv}});
    };
    CHECK(parse_x({"--x", "csv"}, format, setup).empty());
    CHECK(format == c1r::Format::csv);
    CHECK(parse_x({"--x", "xml"}, format, setup) == "--x: xml not in {table,csv}");
    CHECK(parse_x({"--x", "3"}, format, setup) == "--x: 3 not in {table,csv}");  // not the enum's number
}

// Every refused value: one line `conv1d-reshape: ... (see --help)`, exit 2, nothing on stdout.
TEST_CASE("bad flag values get the one-line usage message", "[cli][usage]") {
    const std::string config = C1R_SOURCE_DIR "/configs/reduce.json";
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{"--repeats", "1.5"}, "conv1d-reshape: --repeats: 1.5 is not an integer (see --help)\n"},
        {{"--repeats", "0"}, "conv1d-reshape: --repeats: Value 0 not in range 1 to 1000000 (see --help)\n"},
        {{"--warmup", "2.5"}, "conv1d-reshape: --warmup: 2.5 is not an integer (see --help)\n"},
        {{"--threads", "x"},
         "conv1d-reshape: --threads x: expected auto or a count from 1 to 4096 (see --help)\n"},
        {{"--max-memory", "abc"},
         "conv1d-reshape: --max-memory abc: expected a positive size, e.g. 8G, 512M or 1000000 (see "
         "--help)\n"},
        {{"--format", "xml"}, "conv1d-reshape: --format: xml not in {table,json,jsonl,csv} (see --help)\n"},
        {{"--dtype", "f16"}, "conv1d-reshape: --dtype: f16 not in {f32,bf16} (see --help)\n"},
    };
    for (const auto& [flags, message] : cases) {
        std::vector<std::string> args{config, "--dry-run"};
        args.insert(args.end(), flags.begin(), flags.end());
        auto result = run_binary(args);
        CAPTURE(flags);
        CHECK(result.exit_code == 2);
        CHECK(result.err == message);
        CHECK(result.out.empty());
    }
    auto plan = run_binary({"plan", "--in-length", "10", "--out-length", "5", "--format", "jsonl"});
    CHECK(plan.exit_code == 2);
    CHECK(plan.err == "conv1d-reshape: --format: jsonl not in {table,json,csv} (see --help)\n");
}

TEST_CASE("help names the choices of --format and --dtype, not enum numbers", "[cli][usage]") {
    auto help = run_binary({"--help"});
    REQUIRE(help.exit_code == 0);
    CHECK_THAT(help.out, Contains("--format TEXT:{table,json,jsonl,csv}"));
    CHECK_THAT(help.out, Contains("--dtype TEXT:{f32,bf16}"));
    CHECK_THAT(help.out, Contains("--threads auto|N"));
    CHECK_THAT(help.out, Contains("--max-memory BYTES"));
    CHECK(help.out.find("->") == std::string::npos);
    auto plan = run_binary({"plan", "--help"});
    CHECK_THAT(plan.out, Contains("--format TEXT:{table,json,csv}"));
}

TEST_CASE("flag values reach the run: --threads, --dtype, --max-memory", "[cli][flags]") {
    const std::string config = C1R_SOURCE_DIR "/configs/reduce.json";
    json fixed =
        parse_stdout(run_binary({config, "--dry-run", "-f", "json", "--threads", "3", "--dtype", "bf16"}));
    CHECK(fixed["threads"] == 3);
    CHECK(fixed["threads_mode"] == "fixed");
    CHECK(fixed["dtype"] == "bf16");
    CHECK(parse_stdout(run_binary(
              {config, "--dry-run", "-f", "json", "--threads", "auto"}))["threads_mode"] == "auto");
    auto refused = run_binary(args_with({config, "--max-memory", "2K", "-f", "jsonl"}));
    CHECK(refused.exit_code == 2);
    CHECK_THAT(refused.err, Contains("more than --max-memory 2048"));
}

// ---- a config from standard input ----

TEST_CASE("standard input given twice (- -) is a usage error: it is read once", "[cli][stdin]") {
    auto result = run_binary({"-", "-", "--dry-run"});
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Contains("- (standard input) is given more than once"));
    CHECK(result.out.empty());
}

// Hidden ([.]) until src/run/batch.cpp and src/model/spec.cpp read "-" as standard input named <stdin>
// (read_text_file / parse_json_text / source_name); then drop the [.].
TEST_CASE("a config path - reads the config from standard input, named <stdin>", "[.][cli][stdin]") {
    TempDir dir("c1r_cli_test");
    const std::string binary = "'" + std::string(C1R_BINARY) + "'";
    const std::string plain = dir.write_json("plain.json", reduce_config());
    auto result = c1r_test::run_shell(binary + " - --dry-run --format json < '" + plain + "'");
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    json report = json::parse(result.out);
    CHECK(report["config"] == "<stdin>");
    CHECK(report["output"]["shape"] == json::array({1, 10, 16}));

    // A file and standard input in one batch, in the order given.
    auto both =
        c1r_test::run_shell("cat '" + plain + "' | " + binary + " '" + plain + "' - --dry-run -f jsonl");
    REQUIRE(both.exit_code == 0);
    std::istringstream lines(both.out);
    std::string first, second;
    std::getline(lines, first);
    std::getline(lines, second);
    CHECK(json::parse(first)["config"] == plain);
    CHECK(json::parse(second)["config"] == "<stdin>");

    // Messages name it too: a syntax error with line and column.
    const std::string broken = dir.write("broken.json", "{\n  \"name\": ,\n}\n");
    auto bad = c1r_test::run_shell(binary + " - --dry-run < '" + broken + "'");
    CHECK(bad.exit_code == 2);
    CHECK_THAT(bad.err, Contains("<stdin>:2:11: invalid JSON"));

    // A sweep read once: the last key as written varies fastest.
    const std::string sweep_text = R"({"name": "s", "input": {"shape": [1, 20, 32]},
        "layers": [{"type": "conv1d", "filters": 4, "kernel_size": 2}],
        "run": {"warmup": 0, "repeats": 1, "threads": 1},
        "sweep": {"/layers/0/kernel_size": [2, 3], "/input/shape/1": [20, 40]}})";
    const std::string swept = dir.write("sweep.json", sweep_text);
    auto points = c1r_test::run_shell(binary + " - --dry-run -f csv < '" + swept + "'");
    REQUIRE(points.exit_code == 0);
    auto from_file = run_binary({swept, "--dry-run", "-f", "csv"});
    std::string expected = from_file.out;
    for (size_t at = 0; (at = expected.find(swept, at)) != std::string::npos;)
        expected.replace(at, swept.size(), "<stdin>");
    CHECK(points.out == expected);
}
