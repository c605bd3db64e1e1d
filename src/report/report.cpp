// Report printers: one record, one field list, four formats, streamed a run at a time.
#include "report/report.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <ostream>
#include <sstream>

namespace c1r {
namespace {

using json = nlohmann::ordered_json;  // keys in the SPEC's order

json shape_json(const Shape& shape, DataFormat format) {
    Dims3 d = dims_from_shape(shape, format);
    return json::array({d[0], d[1], d[2]});
}

// Text from files (names, messages, sweep values) may hold bytes that are not UTF-8: shown as U+FFFD rather
// than failing the whole report.
template <typename Json>
std::string safe_dump(const Json& value, int indent = -1) {
    return value.dump(indent, ' ', false, Json::error_handler_t::replace);
}

// Times to the nanosecond: the clock resolves no finer, and 0.0084945 reads better than 0.008494499999999999.
double ns_ms(double ms) { return std::round(ms * 1e6) / 1e6; }

json stats_json(const TimeStats& t) {
    return {{"min", ns_ms(t.min)}, {"median", ns_ms(t.median)}, {"mean", ns_ms(t.mean)}, {"p95", ns_ms(t.p95)},
            {"max", ns_ms(t.max)}};
}

template <typename T>
json optional_json(const std::optional<T>& value) {
    return value ? json(*value) : json(nullptr);
}

// Whole numbers print as integers (a jump of 2, not 2.0).
json number_json(const std::optional<double>& value) {
    if (!value) return nullptr;
    if (*value == std::floor(*value) && std::fabs(*value) < 9e15) return static_cast<int64_t>(*value);
    return *value;
}

std::string fixed(double value, int digits) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(digits) << value;
    return s.str();
}

// Milliseconds with about four significant digits, so microsecond layers don't print as 0.000.
std::string ms_text(double ms) {
    if (ms >= 100) return fixed(ms, 1);
    if (ms >= 1) return fixed(ms, 3);
    if (ms >= 0.01) return fixed(ms, 4);
    return fixed(ms, 5);
}

std::string with_commas(int64_t value) {
    std::string digits = std::to_string(value), out;
    int count = 0;
    for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
        if (count && count % 3 == 0 && *it != '-') out.insert(out.begin(), ',');
        out.insert(out.begin(), *it);
        ++count;
    }
    return out;
}

std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
    std::string out = "\"";
    for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string jump_text(const std::optional<double>& jump) {
    if (!jump) return "-";
    if (*jump == std::floor(*jump)) return std::to_string(static_cast<int64_t>(*jump));
    std::ostringstream s;
    s << std::setprecision(4) << *jump;
    return s.str();
}

class TablePrinter : public Printer {
public:
    explicit TablePrinter(std::ostream& out) : out_(out) {}

    void print(const RunRecord& r) override {
        if (printed_++) out_ << "\n";
        out_ << "== " << r.name.value_or("?") << "  (" << r.config << ")";
        if (!r.point.is_null()) out_ << "  point " << safe_dump(r.point);
        out_ << "\n";
        if (r.error) {
            out_ << "   failed: " << one_line(r.error->message) << "\n";
            out_.flush();
            return;
        }
        struct Row {
            std::string index, flow, params, rf, jump, time, impl;
        };
        std::vector<Row> rows{{"#", "shape flow", "params", "RF", "jump", "median ms", "impl"}};
        for (const auto& l : r.layers) {
            const LayerPlan& p = l.plan;
            std::string op = std::string(to_string(p.spec.type)) + " " + p.summary;
            std::string flow = shape_text(p.input_shape, r.data_format) + " \u2500" + op + "\u2192 " +
                               shape_text(p.output_shape, r.data_format);
            std::string impl = l.impl.value_or("-");
            if (l.reorder.value_or(false)) impl += " +reorder";
            rows.push_back({std::to_string(p.index), flow, with_commas(p.params),
                            p.receptive_field ? std::to_string(*p.receptive_field) : "-", jump_text(p.jump),
                            l.time_ms ? ms_text(l.time_ms->median) : "-", impl});
        }
        auto width = [&](auto field) {
            size_t w = 0;
            for (const auto& row : rows) w = std::max(w, display_width(row.*field));
            return w;
        };
        size_t wi = width(&Row::index), wf = width(&Row::flow), wp = width(&Row::params), wr = width(&Row::rf),
               wj = width(&Row::jump), wt = width(&Row::time);
        for (const auto& row : rows) {
            out_ << "  " << pad_left(row.index, wi) << "  " << pad_right(row.flow, wf) << "  " << pad_left(row.params, wp)
                 << "  " << pad_left(row.rf, wr) << "  " << pad_left(row.jump, wj) << "  " << pad_left(row.time, wt)
                 << "  " << row.impl << "\n";
        }
        out_ << "  total: " << shape_text(r.input_shape, r.data_format) << " \u2192 "
             << shape_text(r.output_shape, r.data_format) << "  params " << with_commas(r.params) << "  "
             << fixed(static_cast<double>(r.flops) / 1e6, 2) << " MFLOP";
        if (r.timing) {
            const auto& t = *r.timing;
            out_ << "\n  forward: median " << ms_text(t.forward_ms.median) << " ms (min " << ms_text(t.forward_ms.min)
                 << ", p95 " << ms_text(t.forward_ms.p95) << ", " << t.repeats << " repeats after " << t.warmup
                 << " warmup)  " << fixed(t.gflops, 2) << " GFLOP/s  create " << ms_text(t.create_ms) << " ms"
                 << (t.cache_hit ? " (cache hit)" : "");
        } else {
            out_ << "\n  dry run: no oneDNN execution; estimated memory "
                 << fixed(static_cast<double>(r.memory_bytes) / (1 << 20), 2) << " MiB";
        }
        out_ << "\n  oneDNN " << r.onednn << " (" << r.cpu_isa << ")  threads " << r.threads << " (" << r.threads_mode
             << ")  " << to_string(r.dtype);
        if (r.peak_rss_bytes) out_ << "  peak RSS " << fixed(static_cast<double>(*r.peak_rss_bytes) / (1 << 20), 1) << " MiB";
        if (r.verify)
            out_ << "\n  verify: " << (r.verify->passed ? "passed" : "FAILED") << "  max abs error "
                 << r.verify->max_abs_error << "  max rel error " << r.verify->max_rel_error << " (tolerance "
                 << r.verify->tolerance << ")";
        out_ << "\n";
        out_.flush();
    }

private:
    // Columns hold a few multi-byte characters (arrows); count code points, not bytes.
    static size_t display_width(const std::string& s) {
        return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
    }
    static std::string pad_left(const std::string& s, size_t w) {
        return std::string(w - std::min(w, display_width(s)), ' ') + s;
    }
    static std::string pad_right(const std::string& s, size_t w) {
        return s + std::string(w - std::min(w, display_width(s)), ' ');
    }

    std::ostream& out_;
    int printed_ = 0;
};

// One object for one run, an array for several: the decision waits for the end.
class JsonPrinter : public Printer {
public:
    explicit JsonPrinter(std::ostream& out) : out_(out) {}
    void print(const RunRecord& record) override { records_.push_back(to_json(record)); }
    void end() override {
        if (records_.size() == 1) out_ << safe_dump(records_[0], 2) << "\n";
        else out_ << safe_dump(json(records_), 2) << "\n";
        out_.flush();
    }

private:
    std::ostream& out_;
    std::vector<json> records_;  // ordered_json
};

class JsonlPrinter : public Printer {
public:
    explicit JsonlPrinter(std::ostream& out) : out_(out) {}
    void print(const RunRecord& record) override { out_ << safe_dump(to_json(record)) << "\n" << std::flush; }

private:
    std::ostream& out_;
};

class CsvPrinter : public Printer {
public:
    explicit CsvPrinter(std::ostream& out) : out_(out) {}
    void begin() override {
        out_ << "config,name,point,layer,type,input_shape,output_shape,params,flops,receptive_field,impl,median_ms,"
                "min_ms\n";
    }
    void print(const RunRecord& r) override {
        std::string head = csv_field(r.config) + "," + csv_field(r.name.value_or("")) + "," +
                           csv_field(r.point.is_null() ? "" : safe_dump(r.point)) + ",";
        if (r.error) {
            out_ << head << ",error,,,,,,,,\n" << std::flush;
            return;
        }
        for (const auto& l : r.layers) {
            const LayerPlan& p = l.plan;
            out_ << head << p.index << "," << to_string(p.spec.type) << "," << shape_text_x(p.input_shape, r.data_format)
                 << "," << shape_text_x(p.output_shape, r.data_format) << "," << p.params << "," << p.flops << ","
                 << (p.receptive_field ? std::to_string(*p.receptive_field) : "") << ","
                 << csv_field(l.impl.value_or("")) << "," << (l.time_ms ? number(l.time_ms->median) : "") << ","
                 << (l.time_ms ? number(l.time_ms->min) : "") << "\n";
        }
        out_.flush();
    }

private:
    static std::string number(double v) { return json(ns_ms(v)).dump(); }
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
    json out = {{"schema", "conv1d-reshape/report/v1"},
                {"config", r.config},
                {"name", optional_json(r.name)},
                {"point", json::parse(safe_dump(r.point))}};
    if (r.error) {
        out["error"] = {{"message", r.error->message},
                        {"pointer", r.error->pointer.empty() ? json(nullptr) : json(r.error->pointer)}};
        return out;
    }
    out["dtype"] = to_string(r.dtype);
    out["threads"] = r.threads;
    out["threads_mode"] = r.threads_mode;
    out["onednn"] = r.onednn;
    out["cpu_isa"] = r.cpu_isa;
    out["data_format"] = r.data_format == DataFormat::channels_last ? "channels_last" : "channels_first";
    out["input"] = {{"shape", shape_json(r.input_shape, r.data_format)}, {"source", r.input_source}};
    out["output"] = {{"shape", shape_json(r.output_shape, r.data_format)}};
    json layers = json::array();
    for (const auto& l : r.layers) {
        const LayerPlan& p = l.plan;
        json layer = {{"index", p.index},
                      {"type", to_string(p.spec.type)},
                      {"settings", p.summary},
                      {"pointer", p.spec.pointer},
                      {"input_shape", shape_json(p.input_shape, r.data_format)},
                      {"output_shape", shape_json(p.output_shape, r.data_format)},
                      {"padding", p.padding ? json::array({p.padding->first, p.padding->second}) : json(nullptr)},
                      {"params", p.params},
                      {"flops", p.flops},
                      {"receptive_field", optional_json(p.receptive_field)},
                      {"jump", number_json(p.jump)},
                      {"impl", optional_json(l.impl)},
                      {"time_ms", l.time_ms ? stats_json(*l.time_ms) : json(nullptr)}};
        std::string desc = benchdnn_descriptor(p);
        if (!desc.empty()) layer["benchdnn"] = desc;
        if (l.layout) layer["layout"] = *l.layout;
        if (l.reorder) layer["reorder"] = *l.reorder;
        if (l.reorder_ms) layer["reorder_ms"] = ns_ms(*l.reorder_ms);
        if (l.max_abs_error) layer["max_abs_error"] = *l.max_abs_error;
        if (l.max_rel_error) layer["max_rel_error"] = *l.max_rel_error;
        layers.push_back(std::move(layer));
    }
    out["layers"] = std::move(layers);
    out["params"] = r.params;
    out["flops"] = r.flops;
    out["memory_bytes"] = r.memory_bytes;
    out["peak_rss_bytes"] = optional_json(r.peak_rss_bytes);
    if (r.timing) {
        const auto& t = *r.timing;
        out["timing"] = {{"create_ms", ns_ms(t.create_ms)},
                         {"cache_hit", t.cache_hit},
                         {"warmup", t.warmup},
                         {"repeats", t.repeats},
                         {"forward_ms", stats_json(t.forward_ms)},
                         {"gflops", std::round(t.gflops * 1e3) / 1e3},
                         {"threads_probe_ms", t.threads_probe_ms ? json(ns_ms(*t.threads_probe_ms)) : json(nullptr)}};
    } else {
        out["timing"] = nullptr;
    }
    if (r.verify)
        out["verify"] = {{"max_abs_error", r.verify->max_abs_error},
                         {"max_rel_error", r.verify->max_rel_error},
                         {"tolerance", r.verify->tolerance},
                         {"passed", r.verify->passed}};
    return out;
}

std::unique_ptr<Printer> make_printer(Format format, std::ostream& out) {
    switch (format) {
        case Format::table: return std::make_unique<TablePrinter>(out);
        case Format::json: return std::make_unique<JsonPrinter>(out);
        case Format::jsonl: return std::make_unique<JsonlPrinter>(out);
        case Format::csv: return std::make_unique<CsvPrinter>(out);
    }
    return nullptr;
}

}  // namespace c1r
