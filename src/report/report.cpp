// Report printers: one field list per level (run, layer), four formats read off it, streamed a run at a time.
#include "report/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ostream>

#include "core/error.hpp"
#include "layers/layout.hpp"
#include "report/fields.hpp"

namespace c1r {
namespace report {

std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
    std::string out = "\"";
    for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string safe_dump(const json& value, int indent) {
    return value.dump(indent, ' ', false, json::error_handler_t::replace);
}

std::string csv_text_of(const json& value) {
    if (value.is_null() || value.is_discarded()) return "";
    if (value.is_string()) return csv_field(value.get<std::string>());
    return csv_field(safe_dump(value));
}

std::string table_text_of(const json& value) {
    if (value.is_null() || value.is_discarded()) return "-";
    if (value.is_string()) return value.get<std::string>();
    return safe_dump(value);
}

}  // namespace report

namespace {

using report::Field;
using report::json;
using report::omitted;

// ---- values and their text ----

json shape_json(const Shape& shape, DataFormat format) { return user_dims(shape, format); }
// A model input's or output's shape in its axis order (the plan's; none for a run that failed before its plan).
json io_shape_json(const Shape& shape, DataFormat format, const std::string& layout) {
    return layout.empty() ? user_dims(shape, format) : layout_dims(shape, layout);
}
std::string io_shape_text(const Shape& shape, DataFormat format, const std::string& layout) {
    return layout.empty() ? shape_text(shape, format) : layout_shape_text(shape, layout);
}
std::string layout_at(const std::vector<std::string>& layouts, size_t k) { return k < layouts.size() ? layouts[k] : ""; }

// Times to the nanosecond: the clock resolves no finer, and 0.0084945 reads better than 0.008494499999999999.
double ns_ms(double ms) { return std::round(ms * 1e6) / 1e6; }

json stats_json(const TimeStats& t) {
    return {{"min", ns_ms(t.min)},
            {"median", ns_ms(t.median)},
            {"mean", ns_ms(t.mean)},
            {"p95", ns_ms(t.p95)},
            {"max", ns_ms(t.max)}};
}

template <typename T>
json optional_json(const std::optional<T>& value) {
    return value ? json(*value) : json(nullptr);
}

// Present when set, left out of the object otherwise.
template <typename T>
json if_set(const std::optional<T>& value) {
    return value ? json(*value) : omitted();
}

// Whole numbers print as integers (a jump of 2, not 2.0).
json number_json(const std::optional<double>& value) {
    if (!value) return nullptr;
    if (*value == std::floor(*value) && std::fabs(*value) < 9e15) return static_cast<int64_t>(*value);
    return *value;
}

// Milliseconds with about four significant digits, so microsecond layers don't print as 0.000.
std::string ms_text(double ms) {
    const int digits = ms >= 100 ? 1 : ms >= 1 ? 3 : ms >= 0.01 ? 4 : 5;
    return fmt::format("{:.{}f}", ms, digits);
}

std::string with_commas(int64_t value) {
    std::string text = fmt::format("{}", value);
    const size_t first_digit = value < 0 ? 1 : 0;
    for (size_t i = text.size(); i > first_digit + 3; i -= 3) text.insert(i - 3, ",");
    return text;
}

std::string jump_text(const std::optional<double>& jump) {
    if (!jump) return "-";
    if (*jump == std::floor(*jump)) return fmt::format("{}", static_cast<int64_t>(*jump));
    return fmt::format("{:.4g}", *jump);
}

double mib(int64_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

// ---- the layer level ----

struct LayerRow {
    const RunRecord& run;
    const LayerRecord& layer;
    const LayerPlan& plan() const { return layer.plan; }
    DataFormat format() const { return run.data_format; }
};

// JSON keys in their order; the CSV columns (layer,type,input_shape,...,median_ms,min_ms) and the table
// columns (#, shape flow, params, RF, jump, median ms, impl) are the entries that name one.
const Field<LayerRow> kLayerFields[] = {
    {.key = "index",
     .value = [](const LayerRow& r) -> json { return r.plan().index; },
     .csv = "layer",
     .table = "#"},
    {.key = "type",
     .value = [](const LayerRow& r) -> json { return to_string(r.plan().spec.type); },
     .csv = "type"},
    {.key = "name", .value = [](const LayerRow& r) -> json { return r.plan().spec.name; }},
    {.key = "inputs", .value = [](const LayerRow& r) -> json { return r.plan().input_names; }},
    {.key = "settings", .value = [](const LayerRow& r) -> json { return r.plan().summary; }},
    {.key = "pointer", .value = [](const LayerRow& r) -> json { return r.plan().spec.pointer; }},
    {.key = "input_shape",
     .value = [](const LayerRow& r) { return shape_json(r.plan().input_shape, r.format()); },
     .csv = "input_shape",
     .csv_text = [](const LayerRow& r) { return shape_text_x(r.plan().input_shape, r.format()); }},
    {.key = "output_shape",
     .value = [](const LayerRow& r) { return shape_json(r.plan().output_shape, r.format()); },
     .csv = "output_shape",
     .csv_text = [](const LayerRow& r) { return shape_text_x(r.plan().output_shape, r.format()); }},
    {.table = "shape flow",
     .align = Align::left,
     .table_text =
         [](const LayerRow& r) {
             const LayerPlan& p = r.plan();
             // A graph's rows say what they read: "a+b: (1, 8, 3) ─add → (1, 8, 3)".
             std::string from = r.run.graph ? fmt::format("{}: ", fmt::join(p.input_names, "+")) : "";
             return fmt::format("{}{} \u2500{} {}\u2192 {}", from, shape_text(p.input_shape, r.format()),
                                to_string(p.spec.type), p.summary, shape_text(p.output_shape, r.format()));
         }},
    {.key = "padding",
     .value = [](const LayerRow& r) -> json {
         const auto& pad = r.plan().padding;
         return pad ? json::array({pad->first, pad->second}) : json(nullptr);
     }},
    {.key = "params",
     .value = [](const LayerRow& r) -> json { return r.plan().params; },
     .csv = "params",
     .table = "params",
     .table_text = [](const LayerRow& r) { return with_commas(r.plan().params); }},
    {.key = "flops", .value = [](const LayerRow& r) -> json { return r.plan().flops; }, .csv = "flops"},
    {.key = "receptive_field",
     .value = [](const LayerRow& r) { return optional_json(r.plan().receptive_field); },
     .csv = "receptive_field",
     .table = "RF"},
    {.key = "jump",
     .value = [](const LayerRow& r) { return number_json(r.plan().jump); },
     .table = "jump",
     .table_text = [](const LayerRow& r) { return jump_text(r.plan().jump); }},
    {.table = "median ms",
     .table_text =
         [](const LayerRow& r) {
             return r.layer.time_ms ? ms_text(r.layer.time_ms->median) : std::string("-");
         }},
    {.key = "impl",
     .value = [](const LayerRow& r) { return optional_json(r.layer.impl); },
     .csv = "impl",
     .table = "impl",
     .align = Align::left,
     .table_text =
         [](const LayerRow& r) {
             return r.layer.impl.value_or("-") + (r.layer.reorder.value_or(false) ? " +reorder" : "");
         }},
    {.key = "time_ms",
     .value =
         [](const LayerRow& r) { return r.layer.time_ms ? stats_json(*r.layer.time_ms) : json(nullptr); }},
    {.value =
         [](const LayerRow& r) {
             return r.layer.time_ms ? json(ns_ms(r.layer.time_ms->median)) : json(nullptr);
         },
     .csv = "median_ms"},
    {.value =
         [](const LayerRow& r) {
             return r.layer.time_ms ? json(ns_ms(r.layer.time_ms->min)) : json(nullptr);
         },
     .csv = "min_ms"},
    {.key = "benchdnn",
     .value =
         [](const LayerRow& r) {
             std::string descriptor = benchdnn_descriptor(r.plan());
             return descriptor.empty() ? omitted() : json(descriptor);
         }},
    {.key = "layout", .value = [](const LayerRow& r) { return if_set(r.layer.layout); }},
    {.key = "reorder", .value = [](const LayerRow& r) { return if_set(r.layer.reorder); }},
    {.key = "reorder_ms",
     .value =
         [](const LayerRow& r) { return r.layer.reorder_ms ? json(ns_ms(*r.layer.reorder_ms)) : omitted(); }},
    {.key = "max_abs_error", .value = [](const LayerRow& r) { return if_set(r.layer.max_abs_error); }},
    {.key = "max_rel_error", .value = [](const LayerRow& r) { return if_set(r.layer.max_rel_error); }},
};

// ---- the run level ----
// Every run starts with kRunHead (also the CSV's leading columns); a failed run adds only its error, a run
// that ended adds kRunResult.

const Field<RunRecord> kRunHead[] = {
    {.key = "schema", .value = [](const RunRecord&) -> json { return "conv1d-reshape/report/v1"; }},
    {.key = "config", .value = [](const RunRecord& r) -> json { return r.config; }, .csv = "config"},
    {.key = "name", .value = [](const RunRecord& r) { return optional_json(r.name); }, .csv = "name"},
    {.key = "point",
     .value = [](const RunRecord& r) { return json::parse(report::safe_dump(r.point)); },
     .csv = "point"},
};

const Field<RunRecord> kRunError[] = {
    {.key = "error",
     .value = [](const RunRecord& r) -> json {
         return {{"message", r.error->message},
                 {"pointer", r.error->pointer.empty() ? json(nullptr) : json(r.error->pointer)}};
     }},
};

const Field<RunRecord> kRunResult[] = {
    {.key = "dtype", .value = [](const RunRecord& r) -> json { return to_string(r.dtype); }},
    {.key = "threads", .value = [](const RunRecord& r) -> json { return r.threads; }},
    {.key = "threads_mode", .value = [](const RunRecord& r) -> json { return r.threads_mode; }},
    {.key = "onednn", .value = [](const RunRecord& r) -> json { return r.onednn; }},
    {.key = "cpu_isa", .value = [](const RunRecord& r) -> json { return r.cpu_isa; }},
    {.key = "data_format",
     .value = [](const RunRecord& r) -> json {
         return r.data_format == DataFormat::channels_last ? "channels_last" : "channels_first";
     }},
    {.key = "input",
     .value = [](const RunRecord& r) -> json {
         return {{"shape", io_shape_json(r.input_shape, r.data_format, r.input_layout)}, {"source", r.input_source}};
     }},
    {.key = "output",
     .value = [](const RunRecord& r) -> json {
         return {{"shape", io_shape_json(r.output_shape, r.data_format, layout_at(r.output_layouts, 0))}};
     }},
    {.key = "outputs",
     .value = [](const RunRecord& r) -> json {
         json all = json::array();
         for (size_t k = 0; k < r.outputs.size(); ++k)
             all.push_back({{"name", r.outputs[k].first},
                            {"shape", io_shape_json(r.outputs[k].second, r.data_format, layout_at(r.output_layouts, k))}});
         return all;
     }},
    {.key = "layers",
     .value =
         [](const RunRecord& r) {
             json layers = json::array();
             for (const auto& layer : r.layers) {
                 json object = json::object();
                 report::append_json<LayerRow>(object, kLayerFields, LayerRow{r, layer});
                 layers.push_back(std::move(object));
             }
             return layers;
         }},
    {.key = "params", .value = [](const RunRecord& r) -> json { return r.params; }},
    {.key = "flops", .value = [](const RunRecord& r) -> json { return r.flops; }},
    {.key = "memory_bytes", .value = [](const RunRecord& r) -> json { return r.memory_bytes; }},
    {.key = "peak_rss_bytes", .value = [](const RunRecord& r) { return optional_json(r.peak_rss_bytes); }},
    {.key = "timing",
     .value = [](const RunRecord& r) -> json {
         if (!r.timing) return nullptr;
         const TimingRecord& t = *r.timing;
         return {{"create_ms", ns_ms(t.create_ms)},
                 {"cache_hit", t.cache_hit},
                 {"warmup", t.warmup},
                 {"repeats", t.repeats},
                 {"forward_ms", stats_json(t.forward_ms)},
                 {"gflops", std::round(t.gflops * 1e3) / 1e3},
                 {"threads_probe_ms", t.threads_probe_ms ? json(ns_ms(*t.threads_probe_ms)) : json(nullptr)}};
     }},
    {.key = "verify",
     .value = [](const RunRecord& r) -> json {
         if (!r.verify) return omitted();
         return {{"max_abs_error", r.verify->max_abs_error},
                 {"max_rel_error", r.verify->max_rel_error},
                 {"tolerance", r.verify->tolerance},
                 {"passed", r.verify->passed}};
     }},
};

// ---- printers ----

class TablePrinter : public Printer {
public:
    explicit TablePrinter(std::ostream& out) : out_(out) {}

    void print(const RunRecord& r) override {
        if (printed_++) out_ << "\n";
        out_ << fmt::format("== {}  ({})", r.name.value_or("?"), r.config);
        if (!r.point.is_null()) out_ << "  point " << report::safe_dump(r.point);
        out_ << "\n";
        if (r.error) {
            out_ << "   failed: " << one_line(r.error->message) << "\n";
            out_.flush();
            return;
        }
        TextTable layers = report::text_table<LayerRow>(kLayerFields, "  ");
        for (const auto& layer : r.layers)
            layers.add(report::table_cells<LayerRow>(kLayerFields, {r, layer}));
        layers.print(out_);
        out_ << fmt::format("  total: {} \u2192 {}  params {}  {:.2f} MFLOP",
                            io_shape_text(r.input_shape, r.data_format, r.input_layout),
                            io_shape_text(r.output_shape, r.data_format, layout_at(r.output_layouts, 0)), with_commas(r.params),
                            static_cast<double>(r.flops) / 1e6);
        if (r.timing) {
            const TimingRecord& t = *r.timing;
            out_ << fmt::format(
                "\n  forward: median {} ms (min {}, p95 {}, {} repeats after {} warmup)  {:.2f} GFLOP/s  "
                "create {} "
                "ms{}",
                ms_text(t.forward_ms.median), ms_text(t.forward_ms.min), ms_text(t.forward_ms.p95), t.repeats,
                t.warmup, t.gflops, ms_text(t.create_ms), t.cache_hit ? " (cache hit)" : "");
        } else {
            out_ << fmt::format("\n  dry run: no oneDNN execution; estimated memory {:.2f} MiB",
                                mib(r.memory_bytes));
        }
        out_ << fmt::format("\n  oneDNN {} ({})  threads {} ({})  {}", r.onednn, r.cpu_isa, r.threads,
                            r.threads_mode, to_string(r.dtype));
        if (r.peak_rss_bytes) out_ << fmt::format("  peak RSS {:.1f} MiB", mib(*r.peak_rss_bytes));
        if (r.verify)
            out_ << fmt::format("\n  verify: {}  max abs error {:g}  max rel error {:g} (tolerance {:g})",
                                r.verify->passed ? "passed" : "FAILED", r.verify->max_abs_error,
                                r.verify->max_rel_error, r.verify->tolerance);
        out_ << "\n";
        out_.flush();
    }

private:
    std::ostream& out_;
    int printed_ = 0;
};

// One object for one run, an array for several: the decision waits for the end.
class JsonPrinter : public Printer {
public:
    explicit JsonPrinter(std::ostream& out) : out_(out) {}
    void print(const RunRecord& record) override { records_.push_back(to_json(record)); }
    void end() override {
        out_ << report::safe_dump(records_.size() == 1 ? records_[0] : json(records_), 2) << "\n";
        out_.flush();
    }

private:
    std::ostream& out_;
    std::vector<json> records_;
};

class JsonlPrinter : public Printer {
public:
    explicit JsonlPrinter(std::ostream& out) : out_(out) {}
    void print(const RunRecord& record) override {
        out_ << report::safe_dump(to_json(record)) << "\n" << std::flush;
    }

private:
    std::ostream& out_;
};

// The run's head columns, then the layer's: one row per layer; a failed run is one row of type "error".
class CsvPrinter : public Printer {
public:
    explicit CsvPrinter(std::ostream& out) : out_(out) {}
    void begin() override {
        std::vector<std::string> columns = report::csv_columns<RunRecord>(kRunHead);
        for (auto& column : report::csv_columns<LayerRow>(kLayerFields)) columns.push_back(std::move(column));
        out_ << fmt::format("{}\n", fmt::join(columns, ","));
    }
    void print(const RunRecord& r) override {
        std::vector<std::string> head;
        report::append_csv<RunRecord>(head, kRunHead, r);
        if (r.error) {
            std::vector<std::string> cells = head;
            for (const auto& column : report::csv_columns<LayerRow>(kLayerFields))
                cells.push_back(column == "type" ? "error" : "");
            out_ << fmt::format("{}\n", fmt::join(cells, ",")) << std::flush;
            return;
        }
        for (const auto& layer : r.layers) {
            std::vector<std::string> cells = head;
            report::append_csv<LayerRow>(cells, kLayerFields, {r, layer});
            out_ << fmt::format("{}\n", fmt::join(cells, ","));
        }
        out_.flush();
    }

private:
    std::ostream& out_;
};

}  // namespace

TimeStats summarize(std::vector<double> samples) {
    TimeStats t;
    if (samples.empty()) return t;
    std::sort(samples.begin(), samples.end());
    size_t n = samples.size();
    t.min = samples.front();
    t.max = samples.back();
    t.median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
    double sum = 0;
    for (double s : samples) sum += s;
    t.mean = sum / static_cast<double>(n);
    // Nearest-rank 95th percentile.
    size_t rank = static_cast<size_t>(std::ceil(0.95 * static_cast<double>(n)));
    t.p95 = samples[std::max<size_t>(rank, 1) - 1];
    return t;
}

nlohmann::ordered_json to_json(const RunRecord& r) {
    report::json out = report::json::object();
    report::append_json<RunRecord>(out, kRunHead, r);
    report::append_json<RunRecord>(out, r.error ? std::span<const Field<RunRecord>>(kRunError) : kRunResult,
                                   r);
    return out;
}

std::unique_ptr<Printer> make_printer(Format format, std::ostream& out, CsvLayout csv) {
    switch (format) {
        case Format::table:
            return std::make_unique<TablePrinter>(out);
        case Format::json:
            return std::make_unique<JsonPrinter>(out);
        case Format::jsonl:
            return std::make_unique<JsonlPrinter>(out);
        case Format::csv:
            if (csv == CsvLayout::runs) return make_runs_csv_printer(out);
            return std::make_unique<CsvPrinter>(out);
    }
    return nullptr;
}

}  // namespace c1r
