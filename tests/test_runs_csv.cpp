// Sweeps of keys left at their defaults (SPEC §3) and `--csv runs` (SPEC §4), through the binary.
//
// Expected lengths come from the Keras length rules written out here (valid: floor((L - K) / s) + 1, same:
// ceil(L / s)), not from the tool.
#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "test_helpers.hpp"

namespace {

using c1r_test::json;
using c1r_test::run_binary;
using c1r_test::TempDir;

int64_t keras_length(int64_t L, int64_t k, int64_t s, const std::string& padding) {
    return padding == "same" ? (L + s - 1) / s : (L - k) / s + 1;
}

std::vector<json> parse_jsonl(const std::string& text) {
    std::vector<json> out;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
        if (!line.empty()) out.push_back(json::parse(line));
    return out;
}

std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
    std::vector<std::vector<std::string>> rows;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        std::vector<std::string> cells;
        std::string cell;
        bool quoted = false;
        for (char c : line) {
            if (c == '"') quoted = !quoted;
            else if (c == ',' && !quoted) cells.push_back(std::exchange(cell, ""));
            else cell += c;
        }
        cells.push_back(cell);
        rows.push_back(cells);
    }
    return rows;
}

// A conv that writes only what it must: strides, padding and dilation_rate are left at their defaults.
json bare_conv_config(int64_t length) {
    return json{{"name", "bare"},
                {"input", {{"shape", {1, length, 3}}}},
                {"layers", json::array({{{"type", "conv1d"}, {"filters", 4}, {"kernel_size", 3}}})},
                {"run", {{"warmup", 0}, {"repeats", 1}, {"threads", 1}}}};
}

}  // namespace

TEST_CASE("a sweep may name keys the config leaves at their defaults", "[sweep][defaults]") {
    TempDir dir("c1r_sweep_defaults");
    json config = bare_conv_config(64);
    config["sweep"] = {{"/layers/0/strides", {1, 2, 4}}, {"/layers/0/padding", {"valid", "same"}}};
    const std::string path = dir.write_json("bare.json", config);
    auto r = run_binary({path, "--dry-run", "--format", "jsonl", "--quiet"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.empty());
    auto reports = parse_jsonl(r.out);
    REQUIRE(reports.size() == 6);
    for (const json& report : reports) {
        INFO(report.dump());
        REQUIRE_FALSE(report.contains("error"));
        const int64_t s = report["point"]["/layers/0/strides"];
        const std::string padding = report["point"]["/layers/0/padding"];
        CHECK(report["output"]["shape"] == json::array({1, keras_length(64, 3, s, padding), 4}));
    }
    // A pool's strides default to its pool_size; swept, the swept value wins.
    json pool{{"input", {{"shape", {1, 12, 2}}}},
              {"layers", json::array({{{"type", "max_pool1d"}, {"pool_size", 3}}})},
              {"sweep", {{"/layers/0/strides", {1, 3}}}}};
    auto p = run_binary({dir.write_json("pool.json", pool), "--dry-run", "--format", "jsonl", "--quiet"});
    REQUIRE(p.exit_code == 0);
    auto pools = parse_jsonl(p.out);
    REQUIRE(pools.size() == 2);
    CHECK(pools[0]["output"]["shape"] == json::array({1, keras_length(12, 3, 1, "valid"), 2}));
    CHECK(pools[1]["output"]["shape"] == json::array({1, keras_length(12, 3, 3, "valid"), 2}));
}

TEST_CASE("csv runs: one row per run, a column per swept pointer, numeric shapes", "[report][csv][sweep]") {
    TempDir dir("c1r_runs_csv");
    json config = bare_conv_config(50);
    config["sweep"] = {{"/layers/0/kernel_size", {3, 60, 5}}, {"/layers/0/strides", {1, 2}}};
    const std::string path = dir.write_json("grid.json", config);
    auto r = run_binary({path, "--dry-run", "--csv", "runs", "--quiet"});
    // kernel 60 on 50 steps fails (exit 2) and keeps its rows, with the message in the error column.
    CHECK(r.exit_code == 2);
    auto rows = csv_rows(r.out);
    REQUIRE(rows.size() == 7);
    const std::vector<std::string> header{
        "config", "name", "/layers/0/kernel_size", "/layers/0/strides", "input_batch", "input_length",
        "input_channels", "output_batch", "output_length", "output_channels", "params", "flops",
        "receptive_field", "median_ms", "min_ms", "gflops", "error"};
    CHECK(rows[0] == header);
    const int64_t kernels[] = {3, 60, 5}, strides[] = {1, 2};
    for (size_t i = 1; i < rows.size(); ++i) {
        const auto& row = rows[i];
        INFO(i);
        REQUIRE(row.size() == header.size());
        const int64_t k = kernels[(i - 1) / 2], s = strides[(i - 1) % 2];
        CHECK(row[0] == path);
        CHECK(row[1] == "bare");
        CHECK(row[2] == std::to_string(k));
        CHECK(row[3] == std::to_string(s));
        if (k > 50) {
            CHECK(row[4].empty());
            CHECK(row[16].find("layer 0") != std::string::npos);
            continue;
        }
        CHECK(row[4] == "1");
        CHECK(row[5] == "50");
        CHECK(row[6] == "3");
        CHECK(row[7] == "1");
        CHECK(row[8] == std::to_string(keras_length(50, k, s, "valid")));
        CHECK(row[9] == "4");
        CHECK(row[10] == std::to_string(k * 3 * 4 + 4));  // kernel (k, 3, 4) and bias (4,)
        CHECK(row[12] == std::to_string(k));              // one conv: its kernel
        CHECK(row[13].empty());                            // --dry-run: no timing
        CHECK(row[16].empty());
    }

    // Timed: median, min and GFLOP/s are numbers.
    config["sweep"] = {{"/layers/0/kernel_size", {3, 5}}};
    auto timed = run_binary({dir.write_json("timed.json", config), "--format", "csv", "--csv", "runs", "--quiet"});
    REQUIRE(timed.exit_code == 0);
    auto timed_rows = csv_rows(timed.out);
    REQUIRE(timed_rows.size() == 3);
    for (size_t i = 1; i < 3; ++i) {
        CHECK(std::stod(timed_rows[i][12]) > 0);  // median_ms (one pointer: columns shift by one)
        CHECK(std::stod(timed_rows[i][13]) > 0);  // min_ms
        CHECK(std::stod(timed_rows[i][14]) > 0);  // gflops
    }

    // --csv layers is the per-layer CSV; --csv with --format json is a usage error.
    auto layers = run_binary({path, "--dry-run", "--csv", "layers", "--quiet"});
    CHECK(layers.out.rfind("config,name,point,layer,type,input_shape,output_shape,", 0) == 0);
    auto json_csv = run_binary({path, "--dry-run", "--format", "json", "--csv", "runs"});
    CHECK(json_csv.exit_code == 2);
    CHECK(json_csv.err.find("--csv") != std::string::npos);
    CHECK(json_csv.out.empty());
}
