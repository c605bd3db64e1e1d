// Checks the .npy reader against numpy-written fixtures and broken files, and the writer's format and
// atomicity.
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "io/npy.hpp"
#include "test_helpers.hpp"

#ifndef C1R_FIXTURE_DIR
#error "C1R_FIXTURE_DIR (absolute path of tests/fixtures) must be defined by the build"
#endif

namespace fs = std::filesystem;

namespace {

const std::string kNpyDir = std::string(C1R_FIXTURE_DIR) + "/npy/";

// The rule scripts/make_npy_fixtures.py uses for every good fixture: value(i) = (i - 7) * 0.25.
float expected_value(int64_t flat_index) { return static_cast<float>(flat_index - 7) * 0.25f; }

std::vector<int64_t> shape_for_rank(int rank) {
    if (rank == 1) return {5};
    if (rank == 2) return {3, 4};
    return {2, 3, 4};
}

std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Returns the message of the c1r::Error that `read_npy(path)` throws, after checking its kind and form.
std::string npy_error(const std::string& path) {
    try {
        c1r::read_npy(path);
    } catch (const c1r::Error& e) {
        const std::string message = e.what();
        INFO(message);
        CHECK(e.kind() == c1r::ErrorKind::input);
        CHECK(message.rfind(path + ": ", 0) == 0);
        CHECK(message.find('\n') == std::string::npos);
        return message;
    }
    FAIL("read_npy(" << path << ") did not throw");
    return {};
}

// Names of the files in a folder: a failed write must leave nothing behind.
std::vector<std::string> entries(const c1r_test::TempDir& dir) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir.path())) names.push_back(entry.path().filename().string());
    return names;
}

}  // namespace

TEST_CASE("read_npy decodes every dtype, byte order, memory order, version and rank", "[npy]") {
    int checked = 0;
    for (const std::string dtype : {"f4", "f8"}) {
        for (const std::string endian : {"le", "be"}) {
            for (const std::string order : {"c", "f"}) {
                for (const int version : {1, 2, 3}) {
                    for (const int rank : {1, 2, 3}) {
                        const std::string name = "good_" + dtype + "_" + endian + "_" + order + "_v" +
                                                 std::to_string(version) + "_" + std::to_string(rank) +
                                                 "d.npy";
                        INFO(name);
                        const c1r::NpyArray array = c1r::read_npy(kNpyDir + name);
                        const std::vector<int64_t> shape = shape_for_rank(rank);
                        REQUIRE(array.shape == shape);
                        int64_t count = 1;
                        for (const int64_t dim : shape) count *= dim;
                        REQUIRE(array.data.size() == static_cast<size_t>(count));
                        for (int64_t i = 0; i < count; ++i) {
                            INFO("flat index " << i);
                            REQUIRE(array.data[static_cast<size_t>(i)] == expected_value(i));
                        }
                        ++checked;
                    }
                }
            }
        }
    }
    CHECK(checked == 72);
}

TEST_CASE("read_npy accepts '=' as the host byte order", "[npy]") {
    const c1r::NpyArray array = c1r::read_npy(kNpyDir + "good_native_f4_2d.npy");
    REQUIRE(array.shape == std::vector<int64_t>{3, 4});
    for (size_t i = 0; i < array.data.size(); ++i)
        CHECK(array.data[i] == expected_value(static_cast<int64_t>(i)));
}

TEST_CASE("read_npy rejects broken files with a message naming the file and the problem", "[npy]") {
    struct Case {
        const char* file;
        const char* hint;
    };
    const Case cases[] = {
        {"bad_empty.npy", "empty file"},
        {"bad_magic.npy", "bad magic at byte offset 0"},
        {"bad_version.npy", "unsupported .npy format version 4.0 at byte offset 6"},
        {"bad_truncated_header.npy", "truncated header"},
        {"bad_header_len.npy", "header length 4294967040 (at byte offset 8) runs past the end"},
        {"bad_truncated_data.npy", "truncated data: shape (2, 3) of float32 needs 24 bytes"},
        {"bad_trailing_bytes.npy", "4 trailing bytes after the data"},
        {"bad_complex.npy", "unsupported dtype '<c8' (complex)"},
        {"bad_object.npy", "unsupported dtype '|O' (Python object)"},
        {"bad_structured.npy", "structured dtypes are not supported"},
        {"bad_float16.npy", "unsupported dtype '<f2'"},
        {"bad_pipe_order.npy", "byte order '|'"},
        {"bad_4d.npy", "has 4 dimensions; expected 1 to 3"},
        {"bad_scalar.npy", "0-d (scalar) arrays are not supported"},
        {"bad_zero_dim.npy", "dimension 1 of (2, 0, 3) is 0"},
        {"bad_negative_dim.npy", "negative dimension"},
        {"bad_huge_shape.npy", "truncated data: shape (1, 1099511627776, 1048576) of float32 needs"},
        {"bad_overflow_shape.npy",
         "element count of (1099511627776, 1099511627776, 1099511627776) overflows"},
        {"bad_overflow_bytes.npy", "data size of (2305843009213693952,) in float64 overflows"},
        {"bad_dict_syntax.npy", "malformed header at byte offset 26: expected ',' or '}'"},
        {"bad_dict_extra_key.npy", "unexpected header key 'x'"},
        {"bad_dict_missing_key.npy", "header key 'fortran_order' is missing"},
        {"bad_dict_duplicate_key.npy", "duplicate header key 'descr'"},
        {"bad_dict_not_tuple.npy", "needs a trailing comma"},
        {"bad_dict_order_value.npy", "'fortran_order' must be True or False"},
        {"bad_dict_unterminated.npy", "the header dict is not closed with '}'"},
        {"bad_nan.npy", "element [1, 2] (flat index 6 in C order) is NaN; inputs must be finite"},
        {"bad_inf_fortran.npy", "element [1, 0] (flat index 3 in C order) is infinite"},
        {"bad_f8_overflow.npy", "element [3] (flat index 3 in C order) = 1e+300 overflows float32"},
    };
    for (const Case& c : cases) {
        INFO(c.file);
        const std::string message = npy_error(kNpyDir + c.file);
        INFO(message);
        CHECK(message.find(c.hint) != std::string::npos);
    }
}

TEST_CASE("read_npy rejects a missing path and a directory", "[npy]") {
    CHECK(npy_error(kNpyDir + "no_such_file.npy").find("cannot open: No such file or directory") !=
          std::string::npos);
    CHECK(npy_error(std::string(C1R_FIXTURE_DIR)).find("is a directory") != std::string::npos);
}

TEST_CASE("write_npy output is what numpy writes and reads back unchanged", "[npy]") {
    c1r_test::TempDir dir("c1r_npy_test");
    SECTION("byte-identical to numpy for float32 little-endian C order") {
        for (const int rank : {1, 2, 3}) {
            const std::vector<int64_t> shape = shape_for_rank(rank);
            std::vector<float> values;
            for (int64_t i = 0; i < (rank == 1 ? 5 : rank == 2 ? 12 : 24); ++i)
                values.push_back(expected_value(i));
            const std::string out = dir.file("rank" + std::to_string(rank) + ".npy");
            c1r::write_npy(out, shape, values.data(), values.size());
            const std::string numpy_file = kNpyDir + "good_f4_le_c_v1_" + std::to_string(rank) + "d.npy";
            INFO(numpy_file);
            CHECK(read_bytes(out) == read_bytes(numpy_file));
        }
    }
    SECTION("round trip keeps shape and exact values") {
        const std::vector<int64_t> shape{3, 1, 7};
        std::vector<float> values;
        for (int i = 0; i < 21; ++i)
            values.push_back(static_cast<float>(i) * 1.1e-3f - 0.5f + (i == 20 ? 1e30f : 0));
        values[4] = 1e-42f;  // subnormal
        values[5] = -0.0f;
        const std::string out = dir.file("round.npy");
        c1r::write_npy(out, shape, values.data(), values.size());
        const c1r::NpyArray back = c1r::read_npy(out);
        CHECK(back.shape == shape);
        REQUIRE(back.data.size() == values.size());
        for (size_t i = 0; i < values.size(); ++i) {
            CHECK(std::bit_cast<uint32_t>(back.data[i]) == std::bit_cast<uint32_t>(values[i]));
        }
        CHECK(entries(dir) == std::vector<std::string>{"round.npy"});
    }
    SECTION("overwrites an existing file and leaves readable permissions") {
        const std::string out = dir.file("over.npy");
        std::ofstream(out) << "old contents";
        const float values[2] = {1.0f, 2.0f};
        c1r::write_npy(out, {2}, values, 2);
        CHECK(c1r::read_npy(out).data == std::vector<float>{1.0f, 2.0f});
        struct stat st {};
        REQUIRE(::stat(out.c_str(), &st) == 0);
        CHECK((st.st_mode & S_IRUSR) != 0);
        CHECK((st.st_mode & S_IWUSR) != 0);
        const mode_t mask = ::umask(0);
        ::umask(mask);
        CHECK((st.st_mode & 0777) == (0666 & ~mask));
    }
    SECTION("switches to format 2.0 only when the header does not fit 1.0") {
        const std::vector<int64_t> shape(30000, 1);  // "(1, 1, ...)" needs more than 65535 header bytes
        const float value = 3.0f;
        const std::string out = dir.file("wide.npy");
        c1r::write_npy(out, shape, &value, 1);
        const std::string bytes = read_bytes(out);
        REQUIRE(bytes.size() > 12);
        CHECK(bytes[6] == 2);
        CHECK(bytes[7] == 0);
        const size_t header_len = static_cast<unsigned char>(bytes[8]) |
                                  static_cast<unsigned char>(bytes[9]) << 8 |
                                  static_cast<size_t>(static_cast<unsigned char>(bytes[10])) << 16;
        CHECK((12 + header_len) % 64 == 0);
        CHECK(bytes.size() == 12 + header_len + 4);
        CHECK(bytes[12 + header_len - 1] == '\n');
    }
}

TEST_CASE("a failed write_npy throws and leaves no file behind", "[npy]") {
    c1r_test::TempDir dir("c1r_npy_test");
    const float values[6] = {1, 2, 3, 4, 5, 6};
    SECTION("folder does not exist") {
        const std::string missing_folder = dir.file("missing");
        const std::string out = missing_folder + "/out.npy";
        try {
            c1r::write_npy(out, {2, 3}, values, 6);
            FAIL("write_npy did not throw");
        } catch (const c1r::Error& e) {
            INFO(e.what());
            CHECK(e.kind() == c1r::ErrorKind::input);
            CHECK(std::string(e.what()).rfind(out + ": ", 0) == 0);
            CHECK(std::string(e.what()).find("does not exist") != std::string::npos);
        }
        CHECK_FALSE(fs::exists(missing_folder));
        CHECK(entries(dir).empty());
    }
    SECTION("target is a directory: the rename fails and the temporary file is removed") {
        const std::string out = dir.file("target.npy");
        fs::create_directory(out);
        try {
            c1r::write_npy(out, {2, 3}, values, 6);
            FAIL("write_npy did not throw");
        } catch (const c1r::Error& e) {
            INFO(e.what());
            CHECK(e.kind() == c1r::ErrorKind::runtime);
            CHECK(std::string(e.what()).rfind(out + ": ", 0) == 0);
        }
        CHECK(entries(dir) == std::vector<std::string>{"target.npy"});
        CHECK(fs::is_empty(out));
    }
    SECTION("shape does not match the data") {
        const std::string out = dir.file("mismatch.npy");
        try {
            c1r::write_npy(out, {2, 2}, values, 6);
            FAIL("write_npy did not throw");
        } catch (const c1r::Error& e) {
            INFO(e.what());
            CHECK(std::string(e.what()).find("has 4 elements but 6 values were given") != std::string::npos);
        }
        CHECK(entries(dir).empty());
    }
}
