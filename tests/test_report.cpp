// Checks the report formats (SPEC §4): json/jsonl keys, failed-run objects, CSV columns, plots, clean stdout.
#include <locale.h>
#include <sys/wait.h>

#include <algorithm>
#include <clocale>
#include <cstdlib>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "planner/planner.hpp"
#include "report/plan_report.hpp"
#include "report/report.hpp"
#include "report/text_table.hpp"
#include "test_helpers.hpp"

using c1r_test::json;
using c1r_test::ProcessResult;
using c1r_test::run_binary;
using c1r_test::run_shell;
using c1r_test::TempDir;

namespace {

const std::string kCsvHeader =
    "config,name,point,layer,type,input_shape,output_shape,params,flops,receptive_field,impl,median_ms,min_"
    "ms";

std::vector<json> parse_jsonl(const std::string& text) {
    std::vector<json> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(json::parse(line));
    return out;
}

// Splits one CSV line into fields (quoted fields may hold commas and doubled quotes; no newlines in ours).
std::vector<std::string> csv_fields(const std::string& line) {
    std::vector<std::string> fields{""};
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        char c = line[i];
        if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"')
            fields.back() += '"', ++i;
        else if (c == '"')
            quoted = !quoted;
        else if (c == ',' && !quoted)
            fields.emplace_back();
        else
            fields.back() += c;
    }
    return fields;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// Every name in `keys` is present in `object` (extra keys are allowed: the SPEC lists the minimum).
void require_keys(const json& object, const std::vector<std::string>& keys) {
    REQUIRE(object.is_object());
    for (const auto& key : keys) {
        INFO("key \"" << key << "\" in " << object.dump().substr(0, 300));
        CHECK(object.contains(key));
    }
}

std::set<std::string> keys_of(const json& object) {
    std::set<std::string> keys;
    for (const auto& [key, value] : object.items()) keys.insert(key);
    return keys;
}

bool is_shape(const json& value) {
    if (!value.is_array() || value.size() != 3) return false;
    for (const auto& d : value)
        if (!d.is_number_integer() || d.get<int64_t>() < 1) return false;
    return true;
}

void check_stats(const json& stats, const std::vector<std::string>& keys) {
    require_keys(stats, keys);
    for (const auto& key : keys) CHECK(stats[key].is_number());
    CHECK(stats["min"].get<double>() <= stats["median"].get<double>());
    CHECK(stats["median"].get<double>() <= stats["max"].get<double>());
}

// Every SPEC §4 key of a successful timed run, with its type.
void check_full_report(const json& r) {
    require_keys(r, {"schema", "config", "name", "point", "dtype", "threads", "onednn", "input", "output",
                     "layers", "timing"});
    CHECK(r["schema"] == "conv1d-reshape/report/v1");
    CHECK(r["config"].is_string());
    CHECK(r["dtype"] == "f32");
    CHECK(r["threads"].is_number_integer());
    CHECK(r["threads"].get<int>() >= 1);
    CHECK(r["onednn"].get<std::string>().rfind("2.", 0) == 0);
    CHECK(is_shape(r["input"]["shape"]));
    CHECK(r["input"]["source"] == "random");
    CHECK(is_shape(r["output"]["shape"]));
    REQUIRE(r["layers"].is_array());
    REQUIRE_FALSE(r["layers"].empty());
    json previous_output = r["input"]["shape"];
    for (size_t i = 0; i < r["layers"].size(); ++i) {
        const json& l = r["layers"][i];
        INFO("layer " << i << ": " << l.dump());
        require_keys(l, {"index", "type", "input_shape", "output_shape", "padding", "params", "flops",
                         "receptive_field", "jump", "impl", "time_ms"});
        CHECK(l["index"] == i);
        CHECK(l["type"].is_string());
        CHECK(l["input_shape"] == previous_output);  // shapes chain from layer to layer
        CHECK(is_shape(l["output_shape"]));
        CHECK((l["padding"].is_null() || (l["padding"].is_array() && l["padding"].size() == 2)));
        CHECK(l["params"].is_number_integer());
        CHECK(l["flops"].is_number_integer());
        CHECK(l["receptive_field"].is_number_integer());
        CHECK(l["jump"].is_number());
        CHECK(l["impl"].is_string());
        check_stats(l["time_ms"], {"min", "median", "mean", "max"});
        previous_output = l["output_shape"];
    }
    CHECK(r["output"]["shape"] == previous_output);
    const json& t = r["timing"];
    require_keys(t, {"create_ms", "warmup", "repeats", "forward_ms", "gflops"});
    CHECK(t["create_ms"].is_number());
    CHECK(t["warmup"].is_number_integer());
    CHECK(t["repeats"].is_number_integer());
    check_stats(t["forward_ms"], {"min", "median", "mean", "p95", "max"});
    CHECK(t["forward_ms"]["median"].get<double>() > 0);
    CHECK(t["gflops"].is_number());
}

// conv (windowed: padding pair) -> upsample (not windowed: padding null) -> transposed conv -> pool.
json stack_config() {
    json layers = json::array({c1r_test::conv_layer(8, 3, 2, "same"),
                               {{"type", "upsample1d"}, {"size", 2}},
                               {{"type", "conv1d_transpose"},
                                {"filters", 4},
                                {"kernel_size", 3},
                                {"strides", 2},
                                {"padding", "same"}},
                               {{"type", "max_pool1d"}, {"pool_size", 2}}});
    json config = c1r_test::config_json({1, 20, 6}, layers);
    config["name"] = "stack";
    config["run"]["warmup"] = 1;
    config["run"]["repeats"] = 3;
    return config;
}


bool is_png(const std::string& path) { return c1r_test::read_text(path).rfind("\x89PNG\r\n\x1a\n", 0) == 0; }
}  // namespace

// ---- json ----

TEST_CASE("json: one run gives one object that carries every SPEC key", "[report][json]") {
    TempDir dir("c1r_report");
    std::string path = dir.write_json("stack.json", stack_config());
    ProcessResult r = run_binary({path, "--format", "json", "--warmup", "2", "--repeats", "4", "--quiet"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.empty());
    json report = json::parse(r.out);  // the whole of stdout is one JSON document
    REQUIRE(report.is_object());
    check_full_report(report);
    CHECK(report["config"] == path);
    CHECK(report["name"] == "stack");
    CHECK(report["point"].is_null());
    CHECK(report["input"]["shape"] == json{1, 20, 6});
    CHECK(report["output"]["shape"] == json{1, 20, 4});
    CHECK(report["timing"]["warmup"] == 2);  // the command line over the config's run section
    CHECK(report["timing"]["repeats"] == 4);
    CHECK(report["layers"][0]["padding"] == json{0, 1});  // same, k3 s2 on 20: total 1, left 0
    CHECK(report["layers"][1]["padding"].is_null());
    CHECK_FALSE(report.contains("verify"));  // only with --verify
}

TEST_CASE("json: several runs give an array, one object per run in order", "[report][json]") {
    TempDir dir("c1r_report");
    std::string a = dir.write_json("a.json", stack_config());
    json second = c1r_test::config_json({1, 15, 64}, json::array({c1r_test::conv_layer(32, 3, 1, "same")}));
    second["name"] = "keep";
    std::string b = dir.write_json("b.json", second);
    ProcessResult r = run_binary({"--config", a, "--config", b, "--format", "json", "--quiet"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.empty());
    json reports = json::parse(r.out);
    REQUIRE(reports.is_array());
    REQUIRE(reports.size() == 2);
    check_full_report(reports[0]);
    check_full_report(reports[1]);
    CHECK(reports[0]["name"] == "stack");
    CHECK(reports[1]["output"]["shape"] == json{1, 15, 32});
}

TEST_CASE("json: --dry-run reports shapes with null timing and impl", "[report][json]") {
    TempDir dir("c1r_report");
    std::string path = dir.write_json("stack.json", stack_config());
    ProcessResult r = run_binary({path, "--format", "json", "--dry-run", "--quiet"});
    REQUIRE(r.exit_code == 0);
    json report = json::parse(r.out);
    CHECK(report["timing"].is_null());
    CHECK(report["output"]["shape"] == json{1, 20, 4});
    for (const auto& layer : report["layers"]) {
        CHECK(layer["impl"].is_null());
        CHECK(layer["time_ms"].is_null());
    }
}

// ---- jsonl ----

TEST_CASE("jsonl: one complete object per line, sweep points included, failures in place",
          "[report][jsonl]") {
    TempDir dir("c1r_report");
    json sweep = stack_config();
    sweep["sweep"] = {{"/input/shape/1", {16, 24}}};
    std::string swept = dir.write_json("sweep.json", sweep);
    std::string bad = dir.write_json(
        "bad.json", c1r_test::config_json({1, 3, 4}, json::array({c1r_test::conv_layer(4, 5)})));
    std::string plain = dir.write_json("plain.json", stack_config());

    ProcessResult r = run_binary({swept, bad, plain, "--format", "jsonl"});
    CHECK(r.exit_code == 2);
    REQUIRE_FALSE(r.out.empty());
    CHECK(r.out.back() == '\n');
    std::vector<std::string> lines = lines_of(r.out);
    REQUIRE(lines.size() == 4);
    for (const auto& line : lines) CHECK(line.find('\n') == std::string::npos);
    std::vector<json> reports = parse_jsonl(r.out);
    check_full_report(reports[0]);
    CHECK(reports[0]["point"] == json{{"/input/shape/1", 16}});
    CHECK(reports[0]["output"]["shape"] == json{1, 16, 4});
    check_full_report(reports[1]);
    CHECK(reports[1]["point"] == json{{"/input/shape/1", 24}});
    CHECK(reports[2].contains("error"));
    check_full_report(reports[3]);
    CHECK(reports[3]["point"].is_null());
}

// ---- failures ----

TEST_CASE("a failed run's object has schema, config, name, point and error, and nothing else",
          "[report][error]") {
    TempDir dir("c1r_report");
    json short_config = c1r_test::config_json({1, 3, 4}, json::array({c1r_test::conv_layer(4, 5)}));
    short_config["name"] = "too-short";
    std::string bad = dir.write_json("short.json", short_config);
    json swept = short_config;
    swept["name"] = "swept";
    swept["sweep"] = {{"/layers/0/kernel_size", {7}}};
    std::string bad_point = dir.write_json("swept.json", swept);
    std::string unreadable = dir.file("missing.json");

    ProcessResult r = run_binary({bad, bad_point, unreadable, "--format", "jsonl"});
    CHECK(r.exit_code == 2);
    std::vector<json> reports = parse_jsonl(r.out);
    REQUIRE(reports.size() == 3);
    const std::set<std::string> expected_keys{"schema", "config", "name", "point", "error"};
    for (const auto& report : reports) {
        INFO(report.dump());
        CHECK(keys_of(report) == expected_keys);
        CHECK(report["schema"] == "conv1d-reshape/report/v1");
        CHECK(keys_of(report["error"]) == std::set<std::string>{"message", "pointer"});
        CHECK(report["error"]["message"].is_string());
        CHECK((report["error"]["pointer"].is_null() || report["error"]["pointer"].is_string()));
        // The message on stderr is the same one, once.
        std::string message = report["error"]["message"];
        CHECK(r.err.find(message) != std::string::npos);
        CHECK(r.err.find(message) == r.err.rfind(message));
    }
    CHECK(reports[0]["name"] == "too-short");
    CHECK(reports[0]["point"].is_null());
    CHECK(reports[0]["error"]["pointer"] == "/layers/0");
    CHECK(reports[1]["name"] == "swept");
    CHECK(reports[1]["point"] == json{{"/layers/0/kernel_size", 7}});
    CHECK(reports[2]["config"] == unreadable);
    CHECK(reports[2]["name"].is_null());  // unknown: the file could not be read
}

TEST_CASE("to_json: an error record drops every run field, whatever else the record holds",
          "[report][error]") {
    c1r::RunRecord record;
    record.config = "x.json";
    record.name = "x";
    record.point = {{"/layers/0/kernel_size", 3}};
    record.params = 1040;  // set before the failure; must not leak into the report
    record.timing = c1r::TimingRecord{};
    record.error =
        c1r::ErrorRecord{"x.json: /layers/0/kernel_size: expected an integer", "/layers/0/kernel_size", 2};
    nlohmann::ordered_json out = c1r::to_json(record);
    std::vector<std::string> keys;
    for (const auto& [key, value] : out.items()) keys.push_back(key);
    CHECK(keys ==
          std::vector<std::string>{"schema", "config", "name", "point", "error"});  // in the SPEC's order
    CHECK(out["point"]["/layers/0/kernel_size"] == 3);
    CHECK(out["error"]["pointer"] == "/layers/0/kernel_size");

    record.error->pointer.clear();
    record.name.reset();
    out = c1r::to_json(record);
    CHECK(out["error"]["pointer"].is_null());
    CHECK(out["name"].is_null());
}

// ---- csv ----

TEST_CASE("csv: exactly the SPEC header, then one row per layer of every run", "[report][csv]") {
    TempDir dir("c1r_report");
    std::string stack = dir.write_json("stack.json", stack_config());  // 4 layers
    json sweep = c1r_test::config_json({1, 20, 32}, json::array({c1r_test::conv_layer(16, 2, 2)}));
    sweep["name"] = "reduce, swept";  // a comma: the field must be quoted
    sweep["sweep"] = {{"/input/shape/1", {20, 40}}};
    std::string swept = dir.write_json("sweep.json", sweep);  // 2 runs x 1 layer

    ProcessResult r = run_binary({stack, swept, "--format", "csv", "--quiet"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.empty());
    std::vector<std::string> lines = lines_of(r.out);
    REQUIRE(lines.size() == 1 + 4 + 2);
    CHECK(lines[0] == kCsvHeader);
    const std::vector<std::string> header = csv_fields(kCsvHeader);
    std::vector<std::vector<std::string>> rows;
    for (size_t i = 1; i < lines.size(); ++i) {
        INFO(lines[i]);
        rows.push_back(csv_fields(lines[i]));
        CHECK(rows.back().size() == header.size());
    }
    auto field = [&](size_t row, const std::string& column) {
        return rows[row]
                   [static_cast<size_t>(std::find(header.begin(), header.end(), column) - header.begin())];
    };
    for (size_t i = 0; i < 4; ++i) {
        CHECK(field(i, "config") == stack);
        CHECK(field(i, "name") == "stack");
        CHECK(field(i, "point").empty());
        CHECK(field(i, "layer") == std::to_string(i));
        CHECK_FALSE(field(i, "impl").empty());
        CHECK(std::stod(field(i, "median_ms")) >= std::stod(field(i, "min_ms")));
    }
    CHECK(field(0, "type") == "conv1d");
    CHECK(field(0, "input_shape") == "1x20x6");
    CHECK(field(0, "output_shape") == "1x10x8");
    CHECK(field(1, "type") == "upsample1d");
    CHECK(field(3, "output_shape") == "1x20x4");
    CHECK(field(4, "name") == "reduce, swept");
    CHECK(json::parse(field(4, "point")) == json{{"/input/shape/1", 20}});
    CHECK(field(4, "output_shape") == "1x10x16");
    CHECK(field(4, "params") == "1040");
    CHECK(field(4, "flops") == "20480");
    CHECK(field(4, "receptive_field") == "2");
    CHECK(field(5, "output_shape") == "1x20x16");
}

TEST_CASE("csv: a failed run keeps the column count, the header comes even with no runs", "[report][csv]") {
    std::ostringstream out;
    auto printer = c1r::make_printer(c1r::Format::csv, out);
    printer->begin();
    CHECK(out.str() == kCsvHeader + "\n");
    c1r::RunRecord failed;
    failed.config = "bad.json";
    failed.error = c1r::ErrorRecord{"bad", "", 2};
    printer->print(failed);
    printer->end();
    std::vector<std::string> lines = lines_of(out.str());
    REQUIRE(lines.size() == 2);
    CHECK(csv_fields(lines[1]).size() == csv_fields(kCsvHeader).size());
    CHECK(csv_fields(lines[1])[0] == "bad.json");
}

// ---- printers ----

TEST_CASE("printers: jsonl writes each run as it ends, json waits for the end and gives [] for none",
          "[report][printer]") {
    c1r::RunRecord failed;
    failed.config = "a.json";
    failed.error = c1r::ErrorRecord{"boom", "", 1};

    std::ostringstream lines;
    auto jsonl = c1r::make_printer(c1r::Format::jsonl, lines);
    jsonl->begin();
    jsonl->print(failed);
    CHECK(lines.str() == c1r::to_json(failed).dump() + "\n");  // before end(): streamed
    jsonl->end();

    std::ostringstream none;
    auto empty = c1r::make_printer(c1r::Format::json, none);
    empty->begin();
    empty->end();
    CHECK(json::parse(none.str()) == json::array());

    std::ostringstream one;
    auto single = c1r::make_printer(c1r::Format::json, one);
    single->begin();
    single->print(failed);
    CHECK(one.str().empty());
    single->end();
    CHECK(json::parse(one.str()).is_object());
}

// ---- stdout ----

TEST_CASE("standard output carries the report and nothing else, in every format", "[report][stdout]") {
    TempDir dir("c1r_report");
    std::string a = dir.write_json("a.json", stack_config());
    std::string b = dir.write_json("b.json", stack_config());
    for (std::string format : {"table", "json", "jsonl", "csv"}) {
        INFO("--format " << format);
        ProcessResult r = run_binary({a, b, "--format", format, "--quiet"});
        CHECK(r.exit_code == 0);
        CHECK(r.err.empty());
        if (format == "json") CHECK(json::parse(r.out).size() == 2);
        if (format == "jsonl") CHECK(parse_jsonl(r.out).size() == 2);
        if (format == "csv") {
            std::vector<std::string> lines = lines_of(r.out);
            CHECK(lines.size() == 1 + 8);
            for (const auto& line : lines) CHECK(csv_fields(line).size() == 13);
        }
        if (format == "table") {
            CHECK(r.out.find("== stack") != std::string::npos);
            CHECK(r.out.find("conv1d-reshape:") == std::string::npos);  // no diagnostics mixed in
        }
    }
    // A failure explains itself on stderr; stdout still parses as the report alone.
    std::string bad = dir.write_json(
        "bad.json", c1r_test::config_json({1, 3, 4}, json::array({c1r_test::conv_layer(4, 5)})));
    ProcessResult failed = run_binary({a, bad, "--format", "json", "--quiet"});
    CHECK(failed.exit_code == 2);
    CHECK(json::parse(failed.out).size() == 2);
    CHECK(failed.err.find("bad.json") != std::string::npos);
}

TEST_CASE("numbers print with a dot under a comma-decimal locale", "[report][locale]") {
    const char* const kLocale = "de_DE.UTF-8";
    locale_t probe = newlocale(LC_ALL_MASK, kLocale, static_cast<locale_t>(0));
    if (probe == static_cast<locale_t>(0))
        c1r_test::skip_test(std::string("locale ") + kLocale +
                            " is not installed (scripts/setup.sh test generates it with locale-gen)");
    freelocale(probe);
    TempDir dir("c1r_report");
    std::string path = dir.write_json("stack.json", stack_config());
    const char* saved = std::getenv("LC_ALL");
    std::string saved_value = saved ? saved : "";
    ::setenv("LC_ALL", kLocale, 1);  // inherited by the child only; this process keeps its own locale
    ProcessResult json_run = run_binary({path, "--format", "json", "--quiet"});
    ProcessResult csv_run = run_binary({path, "--format", "csv", "--quiet"});
    ProcessResult table_run = run_binary({path, "--format", "table", "--quiet"});
    if (saved)
        ::setenv("LC_ALL", saved_value.c_str(), 1);
    else
        ::unsetenv("LC_ALL");

    REQUIRE(json_run.exit_code == 0);
    json report = json::parse(json_run.out);
    CHECK(report["timing"]["forward_ms"]["median"].is_number_float());
    REQUIRE(csv_run.exit_code == 0);
    std::vector<std::string> lines = lines_of(csv_run.out);
    for (size_t i = 1; i < lines.size(); ++i)
        CHECK(csv_fields(lines[i]).size() == 13);  // a decimal comma would add columns
    REQUIRE(table_run.exit_code == 0);
    CHECK(std::regex_search(table_run.out, std::regex(R"(forward: median [0-9]+\.[0-9]+ ms)")));
    CHECK(std::regex_search(table_run.out, std::regex(R"( [0-9]+\.[0-9]+ GFLOP/s)")));
}

// ---- plots ----

TEST_CASE(
    "scripts/plot_reports.py: flow and sweep PNGs from JSONL, clear errors when there is nothing to plot",
    "[report][plot][scripts]") {
    if (run_shell("/usr/bin/python3 -c 'import matplotlib'").exit_code != 0)
        c1r_test::skip_test(
            "/usr/bin/python3 has no matplotlib (Debian: python3-matplotlib; scripts/setup.sh test installs it)");
    TempDir dir("c1r_report");
    const std::string plot = "/usr/bin/python3 '" + std::string(C1R_SOURCE_DIR) + "/scripts/plot_reports.py'";
    json sweep = c1r_test::config_json({1, 64, 8}, json::array({c1r_test::conv_layer(8, 3)}));
    sweep["name"] = "tiny-sweep";
    sweep["sweep"] = {{"/input/shape/1", {32, 64, 128}}, {"/layers/0/strides", {1, 2}}};
    ProcessResult swept = run_binary({dir.write_json("sweep.json", sweep), "--format", "jsonl", "--quiet"});
    REQUIRE(swept.exit_code == 0);
    std::string sweep_reports = dir.write("sweep.jsonl", swept.out);
    ProcessResult stack =
        run_binary({dir.write_json("stack.json", stack_config()), "--format", "jsonl", "--quiet"});
    REQUIRE(stack.exit_code == 0);
    std::string stack_reports = dir.write("stack.jsonl", stack.out);
    const std::string out = dir.file("png");

    // Standard input, auto: a plain run gives a flow plot.
    ProcessResult flow = run_shell(plot + " --out '" + out + "' < '" + stack_reports + "'");
    INFO(flow.err);
    CHECK(flow.exit_code == 0);
    CHECK(flow.out == out + "/flow-stack.png\n");
    CHECK(is_png(out + "/flow-stack.png"));

    // A file, auto: a sweep gives one sweep plot (x: the length, one line per stride).
    ProcessResult sweep_plot = run_shell(plot + " '" + sweep_reports + "' --out '" + out + "'");
    INFO(sweep_plot.err);
    CHECK(sweep_plot.exit_code == 0);
    CHECK(sweep_plot.out == out + "/sweep-tiny-sweep.png\n");
    CHECK(is_png(out + "/sweep-tiny-sweep.png"));

    // --kind flow on a sweep with --run N: the flow of that one point.
    ProcessResult one = run_shell(plot + " '" + sweep_reports + "' --kind flow --run 2 --out '" + out + "'");
    CHECK(one.exit_code == 0);
    CHECK(lines_of(one.out).size() == 1);

    ProcessResult empty = run_shell(plot + " --out '" + out + "' < /dev/null");
    CHECK(empty.exit_code == 2);
    CHECK(empty.err.find("empty") != std::string::npos);
    ProcessResult no_sweep = run_shell(plot + " '" + stack_reports + "' --kind sweep --out '" + out + "'");
    CHECK(no_sweep.exit_code == 2);
    CHECK(no_sweep.err.find("no sweep points") != std::string::npos);
    ProcessResult not_reports = run_shell("echo '{\"a\": 1}' | " + plot + " --out '" + out + "'");
    CHECK(not_reports.exit_code == 2);
    CHECK(not_reports.err.find("not a conv1d-reshape report") != std::string::npos);
}

TEST_CASE("scripts/plot_reports.py marks length and channels as mixed after a permute", "[report][plot][scripts]") {
    if (run_shell("/usr/bin/python3 -c 'import json'").exit_code != 0)
        c1r_test::skip_test("/usr/bin/python3 is missing");
    TempDir dir("c1r_report");
    const std::string scripts = std::string(C1R_SOURCE_DIR) + "/scripts";
    auto series = [&](const std::string& config) {
        ProcessResult run = run_binary({config, "--dry-run", "--format", "jsonl", "--quiet"});
        REQUIRE(run.exit_code == 0);
        const std::string reports = dir.write("reports.jsonl", run.out);
        ProcessResult py = run_shell(
            "/usr/bin/python3 -c 'import sys, json; sys.path.insert(0, \"" + scripts +
            "\"); import plot_reports as p; r = p.read_reports(\"" + reports +
            "\")[0]; labels, lengths, channels, mixed = p.flow_series(r); "
            "print(json.dumps({\"lengths\": lengths, \"channels\": channels, \"mixed\": mixed, "
            "\"labels\": labels}))'");
        INFO(py.err);
        REQUIRE(py.exit_code == 0);
        return json::parse(py.out);
    };
    // Permute(2,1) -> Conv1D(32, same) -> Permute(2,1) on (1, 5, 16): 5 -> 16 -> 16 -> 32 is the filter count
    // becoming the length, not growth in time: every point after the first permute is marked.
    json permuted = series(std::string(C1R_SOURCE_DIR) + "/configs/permute.json");
    CHECK(permuted["lengths"] == json::array({5, 16, 16, 32}));
    CHECK(permuted["channels"] == json::array({16, 5, 32, 16}));
    CHECK(permuted["mixed"] == json::array({false, true, true, true}));
    CHECK(permuted["labels"][1].get<std::string>().find("(axes mixed)") != std::string::npos);
    CHECK(permuted["labels"][0] == "input");
    // A plain stack keeps length as time: nothing is marked.
    json plain = series(dir.write_json("stack.json", stack_config()));
    for (const auto& m : plain["mixed"]) CHECK(m == false);
    for (const auto& label : plain["labels"]) CHECK(label.get<std::string>().find("mixed") == std::string::npos);
}

// ---- one field list per level: the formats agree where they share a field ----

namespace {

// A timed run of two layers, built by hand: no oneDNN involved.
c1r::RunRecord two_layer_record() {
    c1r::RunRecord r;
    r.config = "two.json";
    r.name = "two";
    r.threads = 1;
    r.threads_mode = "fixed";
    r.onednn = "2.6.3";
    r.cpu_isa = "avx2";
    r.input_shape = {1, 20, 32};
    r.output_shape = {1, 10, 8};
    r.input_source = "random";
    for (size_t i = 0; i < 2; ++i) {
        c1r::LayerRecord l;
        l.plan.index = i;
        l.plan.spec.type = i == 0 ? c1r::LayerType::conv1d : c1r::LayerType::upsample1d;
        l.plan.spec.pointer = "/layers/" + std::to_string(i);
        l.plan.input_shape = i == 0 ? c1r::Shape{1, 20, 32} : c1r::Shape{1, 5, 8};
        l.plan.output_shape = i == 0 ? c1r::Shape{1, 5, 8} : c1r::Shape{1, 10, 8};
        if (i == 0) l.plan.padding = std::pair<int64_t, int64_t>{0, 1};
        l.plan.params = i == 0 ? 1234567 : 0;
        l.plan.flops = i == 0 ? 7654321 : 0;
        if (i == 0) l.plan.receptive_field = 4;
        l.plan.jump = i == 0 ? 4.0 : 2.0;
        l.plan.summary = i == 0 ? "8 filters k4 s4 valid" : "x2";
        if (i == 0)
            l.impl = "brgconv:avx2";  // the second has none: null in JSON, empty in CSV, "-" in the table
        l.time_ms = c1r::TimeStats{0.25, 0.5, 0.5, 0.75, 1.0};
        r.layers.push_back(l);
    }
    r.params = 1234567;
    r.flops = 7654321;
    r.timing = c1r::TimingRecord{};
    return r;
}

std::string printed(c1r::Format format, const c1r::RunRecord& record) {
    std::ostringstream out;
    auto printer = c1r::make_printer(format, out);
    printer->begin();
    printer->print(record);
    printer->end();
    return out.str();
}

// A JSON value as CSV writes it.
std::string as_csv(const json& value) {
    if (value.is_null()) return "";
    if (value.is_string()) return value.get<std::string>();
    if (value.is_array()) {
        std::string text;
        for (const auto& d : value) text += (text.empty() ? "" : "x") + d.dump();
        return text;
    }
    return value.dump();
}

}  // namespace

TEST_CASE("fields: every CSV column shared with JSON holds the JSON value", "[report][fields]") {
    const c1r::RunRecord record = two_layer_record();
    const json report = json::parse(c1r::to_json(record).dump());
    std::vector<std::string> lines = lines_of(printed(c1r::Format::csv, record));
    REQUIRE(lines.size() == 3);
    const std::vector<std::string> header = csv_fields(lines[0]);
    CHECK(lines[0] == kCsvHeader);
    // CSV column -> where JSON has it (run level, or the layer's key).
    const std::vector<std::pair<std::string, std::string>> shared{{"config", "/config"},
                                                                  {"name", "/name"},
                                                                  {"layer", "index"},
                                                                  {"type", "type"},
                                                                  {"input_shape", "input_shape"},
                                                                  {"output_shape", "output_shape"},
                                                                  {"params", "params"},
                                                                  {"flops", "flops"},
                                                                  {"receptive_field", "receptive_field"},
                                                                  {"impl", "impl"},
                                                                  {"median_ms", "time_ms/median"},
                                                                  {"min_ms", "time_ms/min"}};
    for (size_t row = 0; row < 2; ++row) {
        const std::vector<std::string> cells = csv_fields(lines[row + 1]);
        REQUIRE(cells.size() == header.size());
        const json& layer = report["layers"][row];
        for (const auto& [column, where] : shared) {
            INFO("row " << row << ", column " << column);
            const size_t at =
                static_cast<size_t>(std::find(header.begin(), header.end(), column) - header.begin());
            REQUIRE(at < header.size());
            const json value =
                where[0] == '/' ? report[json::json_pointer(where)] : layer[json::json_pointer("/" + where)];
            CHECK(cells[at] == as_csv(value));
        }
    }
}

TEST_CASE("fields: the table's layer columns show the JSON values (params with commas, null as -)",
          "[report][fields][table]") {
    const std::vector<std::string> lines = lines_of(printed(c1r::Format::table, two_layer_record()));
    REQUIRE(lines.size() >= 4);
    CHECK(lines[0] == "== two  (two.json)");
    CHECK(std::regex_match(lines[1], std::regex(R"(  #  shape flow +params  RF  jump  median ms  impl)")));
    CHECK(lines[2].find("(1, 20, 32) \u2500conv1d 8 filters k4 s4 valid\u2192 (1, 5, 8)") != std::string::npos);
    CHECK(std::regex_search(lines[2], std::regex(R"(  1,234,567   4     4     0\.5000  brgconv:avx2$)")));
    CHECK(std::regex_search(lines[3], std::regex(R"(          0   -     2     0\.5000  -$)")));
}

// ---- the shared text table ----

TEST_CASE("TextTable: aligned columns, UTF-8 widths, no trailing blanks", "[report][table]") {
    c1r::TextTable table({{"#", c1r::Align::right}, {"flow"}, {"n", c1r::Align::right}, {"note"}}, "  ");
    table.add({"1", "a \u2192 b", "12", "x"});
    table.add({"10", "\u6f22\u5b57", "3", ""});  // two wide characters: four columns
    std::ostringstream out;
    table.print(out);
    CHECK(out.str() ==
          "   #  flow    n  note\n"
          "   1  a \u2192 b  12  x\n"
          "  10  \u6f22\u5b57    3\n");
    CHECK(c1r::display_width("a \u2192 b") == 5);
    CHECK(c1r::display_width("\u6f22\u5b57") == 4);
    CHECK(c1r::display_width("") == 0);
}

// ---- plan printers ----

TEST_CASE("plan printers: table, json and csv list the same settings", "[report][plan]") {
    c1r::PlanQuery query;
    query.in_length = 20;
    query.out_length = 10;
    query.top = 3;
    query.two_layer = true;
    query.two_layer_top = 2;
    const c1r::PlanResult result = c1r::search_plan(query);
    REQUIRE(result.candidates.size() == 3);
    REQUIRE(result.stacks.size() == 2);
    std::ostringstream table, doc, jsonl, csv;
    c1r::print_plan(c1r::Format::table, query, result, table);
    c1r::print_plan(c1r::Format::json, query, result, doc);
    c1r::print_plan(c1r::Format::jsonl, query, result, jsonl);
    c1r::print_plan(c1r::Format::csv, query, result, csv);
    CHECK(jsonl.str() == doc.str());  // not a plan format: printed as json

    const json parsed = json::parse(doc.str());
    REQUIRE(parsed["candidates"].size() == 3);
    REQUIRE(parsed["two_layer"].size() == 2);
    const std::vector<std::string> rows = lines_of(csv.str());
    REQUIRE(rows.size() == 1 + 3 + 2 * 2);
    const std::vector<std::string> header = csv_fields(rows[0]);
    const std::vector<std::string> table_lines = lines_of(table.str());
    for (size_t i = 0; i < 3; ++i) {
        INFO("candidate " << i);
        const json& c = parsed["candidates"][i];
        const std::vector<std::string> cells = csv_fields(rows[1 + i]);
        REQUIRE(cells.size() == header.size());
        CHECK(cells[0] == "single");
        CHECK(cells[3] == c["type"]);
        for (const std::string key : {"weights", "receptive_field", "unread_steps"}) {
            const size_t at =
                static_cast<size_t>(std::find(header.begin(), header.end(), key) - header.begin());
            CHECK(cells[at] == c[key].dump());
        }
        // Table row i + 1 (after the summary and the header): rank, type, then the settings text.
        CHECK(std::regex_search(table_lines[2 + i], std::regex("^ +" + std::to_string(i + 1) + "  " +
                                                               c["type"].get<std::string>() + " ")));
    }
    CHECK(table_lines[1].rfind("   #  type", 0) == 0);
}
