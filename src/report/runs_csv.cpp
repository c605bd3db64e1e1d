// `--format csv --csv runs` (SPEC §4): one row per run, ready for a spreadsheet or pandas.
//
// Columns: config, name, one per swept pointer (headed by the pointer, in the order the sweeps name them; a run
// without that pointer leaves it empty), input and output batch / length / channels as separate numbers (length
// empty for a rank-2 (batch, features) tensor), params, flops, receptive_field (of the last layer), median_ms,
// min_ms, gflops and error (the message of a failed run, whose other cells are empty). The header needs every
// pointer of the batch, so rows are written when the batch ends.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ostream>

#include "core/error.hpp"
#include "report/fields.hpp"
#include "report/report.hpp"

namespace c1r {
namespace {

using report::csv_field;
using report::csv_text_of;
using report::json;

std::string number(int64_t value) { return fmt::format("{}", value); }

// Milliseconds to the nanosecond, as the JSON report writes them.
std::string ms(double value) { return json(std::round(value * 1e6) / 1e6).dump(); }

void shape_cells(std::vector<std::string>& cells, const Shape& shape) {
    cells.push_back(number(shape.batch));
    cells.push_back(shape.rank == 2 ? "" : number(shape.length));
    cells.push_back(number(shape.channels));
}

class RunsCsvPrinter : public Printer {
public:
    explicit RunsCsvPrinter(std::ostream& out) : out_(out) {}

    void print(const RunRecord& r) override {
        Row row;
        row.head = {csv_field(r.config), r.name ? csv_field(*r.name) : ""};
        if (r.point.is_object())
            for (const auto& [pointer, value] : r.point.items()) {
                if (std::find(pointers_.begin(), pointers_.end(), pointer) == pointers_.end())
                    pointers_.push_back(pointer);
                row.point.emplace_back(pointer, csv_text_of(json::parse(report::safe_dump(value))));
            }
        std::vector<std::string>& cells = row.tail;
        if (r.error) {
            cells.assign(12, "");  // input and output shapes (6), params ... gflops (6)
            cells.push_back(csv_field(one_line(r.error->message)));
        } else {
            shape_cells(cells, r.input_shape);
            shape_cells(cells, r.output_shape);
            cells.push_back(number(r.params));
            cells.push_back(number(r.flops));
            const auto rf = r.layers.empty() ? std::nullopt : r.layers.back().plan.receptive_field;
            cells.push_back(rf ? number(*rf) : "");
            cells.push_back(r.timing ? ms(r.timing->forward_ms.median) : "");
            cells.push_back(r.timing ? ms(r.timing->forward_ms.min) : "");
            cells.push_back(r.timing ? json(std::round(r.timing->gflops * 1e3) / 1e3).dump() : "");
            cells.push_back("");
        }
        rows_.push_back(std::move(row));
    }

    void end() override {
        std::vector<std::string> header{"config", "name"};
        for (const auto& p : pointers_) header.push_back(csv_field(p));
        for (const char* column :
             {"input_batch", "input_length", "input_channels", "output_batch", "output_length", "output_channels",
              "params", "flops", "receptive_field", "median_ms", "min_ms", "gflops", "error"})
            header.emplace_back(column);
        out_ << fmt::format("{}\n", fmt::join(header, ","));
        for (const Row& row : rows_) {
            std::vector<std::string> cells = row.head;
            for (const auto& p : pointers_) {
                std::string cell;
                for (const auto& [pointer, text] : row.point)
                    if (pointer == p) cell = text;
                cells.push_back(std::move(cell));
            }
            cells.insert(cells.end(), row.tail.begin(), row.tail.end());
            out_ << fmt::format("{}\n", fmt::join(cells, ","));
        }
        out_.flush();
    }

private:
    struct Row {
        std::vector<std::string> head;
        std::vector<std::pair<std::string, std::string>> point;
        std::vector<std::string> tail;
    };
    std::ostream& out_;
    std::vector<std::string> pointers_;  // first seen first
    std::vector<Row> rows_;
};

}  // namespace

std::unique_ptr<Printer> make_runs_csv_printer(std::ostream& out) { return std::make_unique<RunsCsvPrinter>(out); }

}  // namespace c1r
