// Aligned text columns, padded by {fmt} (which knows UTF-8 display widths).
#include "report/text_table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ostream>

namespace c1r {

size_t display_width(std::string_view text) {
    // {fmt} has no public width function, but its padding is one: padded to `bytes` columns (a display width
    // is never more than the byte count), the text gains exactly bytes - width fill characters. Measuring
    // this way, the widths and the padding in print() can never disagree.
    const size_t bytes = text.size();
    return bytes - (fmt::formatted_size("{:<{}}", text, bytes) - bytes);
}

TextTable::TextTable(std::vector<Column> columns, std::string indent) : indent_(std::move(indent)) {
    std::vector<std::string> header;
    for (auto& column : columns) {
        align_.push_back(column.align);
        header.push_back(std::move(column.header));
    }
    rows_.push_back(std::move(header));
}

void TextTable::add(std::vector<std::string> row) {
    row.resize(align_.size());
    rows_.push_back(std::move(row));
}

void TextTable::print(std::ostream& out) const {
    std::vector<size_t> width(align_.size(), 0);
    for (const auto& row : rows_)
        for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], display_width(row[i]));
    for (const auto& row : rows_) {
        fmt::memory_buffer line;
        fmt::format_to(std::back_inserter(line), "{}", indent_);
        for (size_t i = 0; i < row.size(); ++i) {
            const bool last = i + 1 == row.size();
            if (i) fmt::format_to(std::back_inserter(line), "  ");
            if (last && align_[i] == Align::left)
                fmt::format_to(std::back_inserter(line), "{}", row[i]);
            else if (align_[i] == Align::left)
                fmt::format_to(std::back_inserter(line), "{:<{}}", row[i], width[i]);
            else
                fmt::format_to(std::back_inserter(line), "{:>{}}", row[i], width[i]);
        }
        std::string_view text(line.data(), line.size());
        text = text.substr(0, text.find_last_not_of(' ') + 1);
        out << text << "\n";
    }
}

}  // namespace c1r
