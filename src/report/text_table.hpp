// Aligned text columns for people: the run report's layer table and the plan subcommand's tables.
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace c1r {

enum class Align { left, right };

// Columns padded to their widest cell (header included), two spaces apart, each line starting with `indent`.
// The last column is not padded and trailing blanks are dropped, so an empty last cell leaves no spaces.
// Widths are display widths (UTF-8: arrows count one, East Asian wide characters two).
class TextTable {
public:
    struct Column {
        std::string header;
        Align align = Align::left;
    };
    TextTable(std::vector<Column> columns, std::string indent);

    // One cell per column.
    void add(std::vector<std::string> row);
    void print(std::ostream& out) const;

private:
    std::vector<Align> align_;
    std::string indent_;
    std::vector<std::vector<std::string>> rows_;  // the header first
};

// The width a terminal gives `text`, as {fmt} pads it.
size_t display_width(std::string_view text);

}  // namespace c1r
