// Checks the CSV sequence reader on files written into a temporary folder: accepted layouts and rejected
// ones.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "io/csv.hpp"
#include "core/error.hpp"
#include "test_helpers.hpp"

namespace fs = std::filesystem;

namespace {

// Writes each test's CSV text to its own file in a folder removed at the end of the test.
class CsvFiles {
public:
    CsvFiles() {
        static int counter = 0;
        dir_ = fs::temp_directory_path() /
               ("c1r_csv_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    CsvFiles(const CsvFiles&) = delete;
    CsvFiles& operator=(const CsvFiles&) = delete;
    ~CsvFiles() {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    std::string write(const std::string& text) {
        const std::string path = (dir_ / ("input" + std::to_string(next_++) + ".csv")).string();
        std::ofstream(path, std::ios::binary) << text;
        return path;
    }
    std::string dir() const { return dir_.string(); }

private:
    fs::path dir_;
    int next_ = 0;
};

// Returns the message of the c1r::Error that read_csv(path) throws, after checking its kind and form.
std::string csv_error(const std::string& path) {
    try {
        c1r::read_csv(path);
    } catch (const c1r::Error& e) {
        const std::string message = e.what();
        INFO(message);
        CHECK(e.kind() == c1r::ErrorKind::input);
        CHECK(message.rfind(path + ": ", 0) == 0);
        CHECK(message.find('\n') == std::string::npos);
        return message;
    }
    FAIL("read_csv(" << path << ") did not throw");
    return {};
}

void check_table(const c1r::CsvTable& table, int64_t rows, int64_t cols, const std::vector<float>& data) {
    CHECK(table.rows == rows);
    CHECK(table.cols == cols);
    CHECK(table.data == data);
}

}  // namespace

TEST_CASE("read_csv reads numbers without a header", "[csv]") {
    CsvFiles files;
    check_table(c1r::read_csv(files.write("1,2,3\n4,5,6\n")), 2, 3, {1, 2, 3, 4, 5, 6});
    // No final newline, a single column, spaces and tabs around cells.
    check_table(c1r::read_csv(files.write("1.5\n-2\n3e2")), 3, 1, {1.5f, -2, 300});
    check_table(c1r::read_csv(files.write(" 1 ,\t2\t\n+0.25 , -1e-3\n")), 2, 2, {1, 2, 0.25f, -1e-3f});
    // Tiny values underflow to float32 zero rather than erroring.
    check_table(c1r::read_csv(files.write("1e-50,.5\n")), 1, 2, {0, 0.5f});
}

TEST_CASE("read_csv skips a header row, comments and blank lines", "[csv]") {
    CsvFiles files;
    check_table(c1r::read_csv(files.write("time,x,y\n1,2,3\n4,5,6\n")), 2, 3, {1, 2, 3, 4, 5, 6});
    // A header has no number at all; empty cells beside text still make one.
    check_table(c1r::read_csv(files.write("time,,y\n1,2,3\n")), 1, 3, {1, 2, 3});
    check_table(c1r::read_csv(files.write(
                    "# recorded 2024\n\n  # channels: a, b\nA,B\n\n1,2\n   \n# mid comment\n3,4\n")),
                2, 2, {1, 2, 3, 4});
}

TEST_CASE("read_csv handles CRLF line endings and a UTF-8 BOM", "[csv]") {
    CsvFiles files;
    check_table(c1r::read_csv(files.write("a,b\r\n1,2\r\n3,4\r\n")), 2, 2, {1, 2, 3, 4});
    check_table(c1r::read_csv(files.write("\xEF\xBB\xBF"
                                          "a,b\n1,2\n")),
                1, 2, {1, 2});
    // A BOM right before a number must not turn the first data row into a header.
    check_table(c1r::read_csv(files.write("\xEF\xBB\xBF"
                                          "1,2\r\n3,4")),
                2, 2, {1, 2, 3, 4});
}

TEST_CASE("read_csv names the line and column of a bad cell", "[csv]") {
    CsvFiles files;
    std::string path = files.write("# comment\nx,y\n1,2\n\n3,abc\n");
    CHECK(csv_error(path).find(path + ": line 5, column 2: 'abc' is not a number") == 0);
    path = files.write("1,2\r\n3,4x\r\n");
    CHECK(csv_error(path).find("line 2, column 2: '4x' is not a number") != std::string::npos);
    path = files.write("1,,3\n");
    CHECK(csv_error(path).find("line 1, column 2: '' is not a number (empty cell)") != std::string::npos);
    path = files.write("1,2,\n");
    CHECK(csv_error(path).find("line 1, column 3: '' is not a number") != std::string::npos);
    path = files.write("a,b\n1,nan\n");
    CHECK(csv_error(path).find("line 2, column 2: 'nan' is not a finite number") != std::string::npos);
    path = files.write("a,b\n-inf,1\n");
    CHECK(csv_error(path).find("line 2, column 1: '-inf' is not a finite number") != std::string::npos);
    path = files.write("1e39,1\n");
    CHECK(csv_error(path).find("line 1, column 1: '1e39' is out of float32 range") != std::string::npos);
    path = files.write("1,2\n0x10,2\n");
    CHECK(csv_error(path).find("line 2, column 1: '0x10' is not a number") != std::string::npos);
    path = files.write("a;b\n1;2\n");
    CHECK(csv_error(path).find("line 2, column 1: '1;2' is not a number (the separator must be ',')") !=
          std::string::npos);
}

TEST_CASE("read_csv takes a first row with numbers as data: a bad cell there is an error", "[csv]") {
    CsvFiles files;
    // Before, one text cell made the whole row a header, dropped without a word.
    std::string path = files.write("1,2,label\n3,4,5\n");
    CHECK(csv_error(path).find(path + ": line 1, column 3: 'label' is not a number") == 0);
    path = files.write("# comment\n0.5,x1\n1,2\n");
    CHECK(csv_error(path).find(path + ": line 2, column 2: 'x1' is not a number") == 0);
    // A row of empty cells is no header either.
    path = files.write(",\n1,2\n");
    CHECK(csv_error(path).find(path + ": line 1, column 1: '' is not a number (empty cell)") == 0);
}

TEST_CASE("a CSV input's header row is dropped with a note on stderr", "[csv][cli]") {
    c1r_test::TempDir dir("c1r_csv_header");
    const std::string csv = dir.write("seq.csv", "time,x\n1,2\n3,4\n5,6\n");
    const std::string config =
        dir.write("c.json", R"({"input": {"shape": [1, 3, 2]}, "layers": [{"type": "max_pool1d"}]})");
    auto run = c1r_test::run_binary({"--config", config, "--input", csv, "--dry-run", "--format", "json"});
    REQUIRE(run.exit_code == 0);
    CHECK(run.err.find("conv1d-reshape: note: " + csv + ": line 1 (time,x) has no number: taken as a header") !=
          std::string::npos);
    CHECK(c1r_test::json::parse(run.out).at("input").at("shape") == c1r_test::json::array({1, 3, 2}));
    // A header-less file: no note.
    dir.write("seq.csv", "1,2\n3,4\n5,6\n");
    auto plain = c1r_test::run_binary({"--config", config, "--input", csv, "--dry-run", "--format", "json"});
    REQUIRE(plain.exit_code == 0);
    CHECK(plain.err.find("header") == std::string::npos);
    // A bad cell among numbers in the first row: exit 2, one line naming the file, row and column.
    dir.write("seq.csv", "1,x\n3,4\n5,6\n");
    auto bad = c1r_test::run_binary({"--config", config, "--input", csv, "--dry-run"});
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find(csv + ": line 1, column 2: 'x' is not a number") != std::string::npos);
    CHECK(std::count(bad.err.begin(), bad.err.end(), '\n') == 1);
}

TEST_CASE("read_csv rejects ragged rows", "[csv]") {
    CsvFiles files;
    std::string path = files.write("1,2,3\n4,5\n");
    CHECK(csv_error(path).find(path + ": line 2 has 2 cells, expected 3") == 0);
    path = files.write("a,b\n\n1,2,3\n");
    CHECK(csv_error(path).find("line 3 has 3 cells, expected 2 (as on line 1)") != std::string::npos);
}

TEST_CASE("read_csv rejects files without data rows and unreadable paths", "[csv]") {
    CsvFiles files;
    CHECK(csv_error(files.write("")).find("no data rows") != std::string::npos);
    CHECK(csv_error(files.write("\xEF\xBB\xBF")).find("no data rows") != std::string::npos);
    CHECK(csv_error(files.write("# only a comment\n\n\r\n")).find("no data rows") != std::string::npos);
    CHECK(csv_error(files.write("# c\ntime,x\n")).find("no data rows: only a header on line 2") !=
          std::string::npos);
    CHECK(csv_error(files.dir() + "/missing.csv").find("cannot open") != std::string::npos);
    CHECK(csv_error(files.dir()).find("is a directory") != std::string::npos);
}
