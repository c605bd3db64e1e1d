// One list of fields per report level, and what the formats derive from it (used inside src/report/ only).
//
// A level (a run, a layer of a run) lists its fields once, in order. Each field has a JSON key, a CSV column
// and a table column, or some of them; the JSON object, the CSV header and rows and the table columns of the
// level are all read off the same list, in its order. A field's CSV and table text come from its JSON value
// unless the field says otherwise: null is "" in CSV and "-" in the table, text is itself (quoted as CSV
// needs), numbers are written as in JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "report/text_table.hpp"

namespace c1r::report {

using json = nlohmann::ordered_json;  // keys in the SPEC's order

template <typename Row>
struct Field {
    std::string_view key = {};            // JSON key; empty: not in JSON
    json (*value)(const Row&) = nullptr;  // the JSON value; discarded (see omitted()) leaves the key out
    std::string_view csv = {};            // CSV column; empty: not in CSV
    std::string_view table = {};          // table column header; empty: not in the table
    Align align = Align::right;           // in the table
    std::string (*csv_text)(const Row&) = nullptr;    // CSV text, when not the value's
    std::string (*table_text)(const Row&) = nullptr;  // table text, when not the value's
};

// The value of a field that is left out of the JSON object (for keys present only when they apply).
inline json omitted() { return json(json::value_t::discarded); }

// RFC 4180: quoted only when the text holds a comma, a quote or a line break; quotes doubled.
std::string csv_field(const std::string& text);

// Text from files (names, messages, sweep values) may hold bytes that are not UTF-8: shown as U+FFFD rather
// than failing the whole report.
std::string safe_dump(const json& value, int indent = -1);

std::string csv_text_of(const json& value);
std::string table_text_of(const json& value);

template <typename Row>
void append_json(json& object, std::span<const Field<Row>> fields, const Row& row) {
    for (const auto& field : fields) {
        if (field.key.empty()) continue;
        json value = field.value(row);
        if (!value.is_discarded()) object[std::string(field.key)] = std::move(value);
    }
}

template <typename Row>
std::vector<std::string> csv_columns(std::span<const Field<Row>> fields) {
    std::vector<std::string> columns;
    for (const auto& field : fields)
        if (!field.csv.empty()) columns.emplace_back(field.csv);
    return columns;
}

template <typename Row>
void append_csv(std::vector<std::string>& cells, std::span<const Field<Row>> fields, const Row& row) {
    for (const auto& field : fields) {
        if (field.csv.empty()) continue;
        if (field.csv_text) {
            cells.push_back(field.csv_text(row));
            continue;
        }
        json value = field.value(row);
        cells.push_back(value.is_discarded() ? std::string() : csv_text_of(value));
    }
}

template <typename Row>
TextTable text_table(std::span<const Field<Row>> fields, std::string indent) {
    std::vector<TextTable::Column> columns;
    for (const auto& field : fields)
        if (!field.table.empty()) columns.push_back({std::string(field.table), field.align});
    return TextTable(std::move(columns), std::move(indent));
}

template <typename Row>
std::vector<std::string> table_cells(std::span<const Field<Row>> fields, const Row& row) {
    std::vector<std::string> cells;
    for (const auto& field : fields) {
        if (field.table.empty()) continue;
        cells.push_back(field.table_text ? field.table_text(row) : table_text_of(field.value(row)));
    }
    return cells;
}

}  // namespace c1r::report
