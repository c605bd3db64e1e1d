// CSV sequence reader: comma-separated finite numbers, optional header, comments, CRLF and BOM tolerated.
#include "io/csv.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <set>
#include <iterator>
#include <string_view>

#include "core/error.hpp"
#include "core/strings.hpp"

namespace c1r {
namespace {

constexpr std::string_view kBom{"\xEF\xBB\xBF"};

[[noreturn]] void fail(const std::string& path, const std::string& what) {
    throw Error::at(ErrorKind::input, path, "", what);
}

std::string printable(std::string_view text) { return snippet(text, false); }

std::string read_file(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) fail(path, "cannot open: " + std::string(std::strerror(errno)));
    if (S_ISDIR(st.st_mode)) fail(path, "is a directory, expected a CSV file");
    if (!S_ISREG(st.st_mode)) fail(path, "is not a regular file, expected a CSV file");
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path, "cannot open: " + std::string(std::strerror(errno)));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) fail(path, "read error");
    return text;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

enum class CellKind { number, not_a_number, not_finite, out_of_range };

// Parses a whole cell as a number with std::from_chars (locale-independent); a leading '+' is allowed.
CellKind parse_cell(std::string_view cell, float& out) {
    if (!cell.empty() && cell.front() == '+') {
        cell.remove_prefix(1);
        if (!cell.empty() && (cell.front() == '+' || cell.front() == '-')) return CellKind::not_a_number;
    }
    if (cell.empty()) return CellKind::not_a_number;
    double value = 0;
    const char* end = cell.data() + cell.size();
    const auto [ptr, ec] = std::from_chars(cell.data(), end, value);
    if (ec == std::errc::invalid_argument || ptr != end) return CellKind::not_a_number;
    if (ec == std::errc::result_out_of_range) return CellKind::out_of_range;
    if (!std::isfinite(value)) return CellKind::not_finite;
    out = static_cast<float>(value);
    if (!std::isfinite(out)) return CellKind::out_of_range;
    return CellKind::number;
}

void split_cells(std::string_view line, std::vector<std::string_view>& cells) {
    cells.clear();
    while (true) {
        const size_t comma = line.find(',');
        cells.push_back(trim(line.substr(0, comma)));
        if (comma == std::string_view::npos) break;
        line.remove_prefix(comma + 1);
    }
}

// Says on stderr that a row was taken as a header, once per file in a process (a sweep reads its input once
// per point).
void note_header(const std::string& path, int64_t line, const std::string& text) {
    static std::set<std::string> noted;
    if (!noted.insert(path).second) return;
    std::cerr << "conv1d-reshape: note: " << path << ": line " << line << " (" << text
              << ") has no number: taken as a header and skipped\n";
}

}  // namespace

CsvTable read_csv(const std::string& path) {
    const std::string text = read_file(path);
    std::string_view rest(text);
    if (rest.substr(0, kBom.size()) == kBom) rest.remove_prefix(kBom.size());

    CsvTable table;
    std::vector<std::string_view> cells;
    int64_t line_no = 0;
    int64_t width_line = 0;  // the line that fixed the column count
    int64_t header_line = 0;
    std::string header_text;
    bool first = true;
    while (!rest.empty()) {
        const size_t newline = rest.find('\n');
        std::string_view line = rest.substr(0, newline);
        rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        const std::string_view content = trim(line);
        if (content.empty() || content.front() == '#') continue;

        split_cells(line, cells);
        const auto count = static_cast<int64_t>(cells.size());
        if (first) {
            first = false;
            table.cols = count;
            width_line = line_no;
            // A header is a row none of whose cells is a number ("time,x,y"). A first row with numbers is
            // data, so a bad cell among them is an error below, never a silently dropped row.
            float ignored = 0;
            bool header = false;
            bool any_number = false;
            for (const auto cell : cells) {
                any_number = any_number || parse_cell(cell, ignored) == CellKind::number;
                header = header || !cell.empty();  // a row of empty cells is no header
            }
            header = header && !any_number;
            if (header) {
                header_line = line_no;
                for (const auto cell : cells) header_text += (header_text.empty() ? "" : ",") + printable(cell);
                continue;
            }
        }
        if (count != table.cols) {
            fail(path, "line " + std::to_string(line_no) + " has " + std::to_string(count) +
                           " cells, expected " + std::to_string(table.cols) + " (as on line " +
                           std::to_string(width_line) + ")");
        }
        for (size_t c = 0; c < cells.size(); ++c) {
            float value = 0;
            const CellKind kind = parse_cell(cells[c], value);
            if (kind == CellKind::number) {
                table.data.push_back(value);
                continue;
            }
            std::string what = "line " + std::to_string(line_no) + ", column " + std::to_string(c + 1) +
                               ": '" + printable(cells[c]) + "' ";
            if (kind == CellKind::not_finite) {
                what += "is not a finite number";
            } else if (kind == CellKind::out_of_range) {
                what += "is out of float32 range";
            } else {
                what += "is not a number";
                if (cells[c].empty()) what += " (empty cell)";
                if (cells.size() == 1 && cells[c].find_first_of(";\t") != std::string_view::npos) {
                    what += " (the separator must be ',')";
                }
            }
            fail(path, what);
        }
        ++table.rows;
    }
    if (table.rows == 0) {
        if (header_line > 0) {
            fail(path, "no data rows: only a header on line " + std::to_string(header_line));
        }
        fail(path, "no data rows: the file is empty or holds only comments and blank lines");
    }
    if (header_line > 0) note_header(path, header_line, header_text);  // only for a file that is read
    return table;
}

}  // namespace c1r
