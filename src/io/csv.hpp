// Reader for CSV sequences: one time step per row, one channel per column, numbers only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace c1r {

struct CsvTable {
    int64_t rows = 0;
    int64_t cols = 0;
    std::vector<float> data;  // row-major rows x cols
};

// Reads a comma-separated table of finite numbers (spaces/tabs around cells are ignored).
// Blank lines and lines starting with '#' (after optional whitespace) are skipped; the first other
// line is a header if none of its cells is a number (said on stderr, once per file); a first line with
// numbers is data, so a bad cell there is an error naming the line and column. Accepts CRLF line endings and a UTF-8 BOM.
// Throws Error(ErrorKind::input) with a one-line "<path>: line L, column C: ..." style message on
// a bad cell, ragged rows, or when there are no data rows.
CsvTable read_csv(const std::string& path);

}  // namespace c1r
