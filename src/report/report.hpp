// One record type for a run and the printers that write it: table, json, jsonl and csv behind one interface.
#pragma once

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plan/plan.hpp"

namespace c1r {

struct TimeStats {
    double min = 0, median = 0, mean = 0, p95 = 0, max = 0;
};
TimeStats summarize(std::vector<double> samples_ms);

struct LayerRecord {
    LayerPlan plan;
    std::optional<std::string> impl;
    std::optional<TimeStats> time_ms;
    std::optional<std::string> layout;       // oneDNN layout of the layer's output
    std::optional<bool> reorder;             // a reorder ran before the layer's primitive
    std::optional<double> reorder_ms;        // its median time
    std::optional<double> max_abs_error, max_rel_error;
};

struct TimingRecord {
    double create_ms = 0;
    bool cache_hit = false;  // every primitive came from oneDNN's primitive cache
    int64_t warmup = 0, repeats = 0;
    TimeStats forward_ms;
    double gflops = 0;
    std::optional<double> threads_probe_ms;  // time spent choosing the thread count (auto)
};

struct VerifyRecord {
    double max_abs_error = 0, max_rel_error = 0, tolerance = 0;
    bool passed = true;
};

struct ErrorRecord {
    std::string message;
    std::string pointer;
    int exit_code = 1;
};

struct RunRecord {
    std::string config;  // the file, as given
    std::optional<std::string> name;
    nlohmann::json point;  // null, or {pointer: value} for a sweep point
    // Everything below is unset when the run failed.
    DataFormat data_format = DataFormat::channels_last;
    DType dtype = DType::f32;
    int threads = 1;
    std::string threads_mode;  // "auto" or "fixed"
    std::string onednn, cpu_isa;
    Shape input_shape, output_shape;
    std::vector<std::pair<std::string, Shape>> outputs;  // every model output, by name
    // The first input's and every output's axis order (layers/layout.hpp); empty: the data format's.
    std::string input_layout;
    std::vector<std::string> output_layouts;
    bool graph = false;        // not a single chain: rows name their inputs in the table
    std::string input_source;  // "random" or the file
    std::vector<LayerRecord> layers;
    int64_t params = 0, flops = 0, memory_bytes = 0;
    std::optional<int64_t> peak_rss_bytes;
    std::optional<TimingRecord> timing;
    std::optional<VerifyRecord> verify;
    std::optional<ErrorRecord> error;
};

nlohmann::ordered_json to_json(const RunRecord& record);

enum class Format { table, json, jsonl, csv };
// What a CSV row is (SPEC §4): a layer of a run (`--csv layers`, the default) or a whole run (`--csv runs`).
enum class CsvLayout { layers, runs };

// Streams records: begin() before the first, print() as each run ends, end() after the last.
class Printer {
public:
    virtual ~Printer() = default;
    virtual void begin() {}
    virtual void print(const RunRecord& record) = 0;
    virtual void end() {}
};

std::unique_ptr<Printer> make_printer(Format format, std::ostream& out, CsvLayout csv = CsvLayout::layers);

// `--csv runs`: one row per run, one column per swept pointer, numeric shape columns (runs_csv.cpp).
std::unique_ptr<Printer> make_runs_csv_printer(std::ostream& out);

}  // namespace c1r
