// Strict .npy reader (validates every header field against the real file size) and .npy writer (through
// io/atomic_file.hpp).
#include "io/npy.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <string_view>

#include "core/error.hpp"
#include "core/strings.hpp"
#include "io/atomic_file.hpp"

namespace c1r {
namespace {

constexpr std::string_view kMagic{"\x93NUMPY", 6};
constexpr size_t kHeaderAlign = 64;  // numpy aligns the data start to 64 bytes since 1.x
constexpr size_t kChunkBytes = size_t{1} << 16;

[[noreturn]] void fail(const std::string& path, const std::string& what, ErrorKind kind = ErrorKind::input) {
    throw Error::at(kind, path, "", what);
}

std::string errno_text(int err) { return std::strerror(err); }

std::string printable(std::string_view text) { return snippet(text, true); }

std::string shape_text(const std::vector<int64_t>& shape) {
    std::string out = "(";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i > 0) out += ", ";
        out += std::to_string(shape[i]);
    }
    if (shape.size() == 1) out += ",";
    return out + ")";
}

std::string index_text(const std::vector<int64_t>& index) {
    std::string out = "[";
    for (size_t i = 0; i < index.size(); ++i) {
        if (i > 0) out += ", ";
        out += std::to_string(index[i]);
    }
    return out + "]";
}

// Reads exactly `size` bytes at `offset`; the file size was checked beforehand, so a short read means
// the file changed under us.
void read_at(const std::string& path, int fd, void* buffer, size_t size, uint64_t offset) {
    auto* out = static_cast<unsigned char*>(buffer);
    size_t done = 0;
    while (done < size) {
        const ssize_t got = ::pread(fd, out + done, size - done, static_cast<off_t>(offset + done));
        if (got < 0) {
            if (errno == EINTR) continue;
            fail(path,
                 "read error at byte offset " + std::to_string(offset + done) + ": " + errno_text(errno));
        }
        if (got == 0) {
            fail(path, "unexpected end of file at byte offset " + std::to_string(offset + done) +
                           " (the file shrank while being read)");
        }
        done += static_cast<size_t>(got);
    }
}

// What a numpy type code is, to make "unsupported dtype" messages self-explanatory.
const char* dtype_kind(const std::string& type) {
    const char code = type.empty() ? '\0' : type[0];
    if (code == 'i' || code == 'u') return "integer";
    if (code == 'b' || code == '?') return "boolean";
    if (code == 'c') return "complex";
    if (code == 'f') return "float of unsupported size";
    if (code == 'O') return "Python object";
    if (code == 'S' || code == 'U' || code == 'a') return "string";
    if (code == 'V') return "void/structured";
    if (code == 'M' || code == 'm') return "datetime";
    return "unknown";
}

struct Header {
    bool big_endian = false;
    size_t item_size = 0;  // 4 or 8
    bool integer = false;  // int32 / int64
    bool fortran_order = false;
    std::vector<int64_t> shape;
};

// Parses the header dict literal exactly as numpy writes it, following Python literal syntax strictly:
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } plus whitespace padding.
class HeaderParser {
public:
    HeaderParser(const std::string& path, std::string_view text, size_t file_offset)
        : path_(path), text_(text), base_(file_offset) {}

    Header parse() {
        bool have_descr = false;
        bool have_order = false;
        bool have_shape = false;
        skip_space();
        expect('{', "header dict must start with '{'");
        while (true) {
            skip_space();
            if (at_end()) fail_at(pos_, "the header dict is not closed with '}'");
            if (peek() == '}') break;
            const size_t key_pos = pos_;
            const std::string key = parse_string("expected a quoted key or '}'");
            skip_space();
            expect(':', "expected ':' after header key '" + printable(key) + "'");
            skip_space();
            if (key == "descr") {
                if (have_descr) fail_at(key_pos, "duplicate header key 'descr'");
                have_descr = true;
                parse_descr();
            } else if (key == "fortran_order") {
                if (have_order) fail_at(key_pos, "duplicate header key 'fortran_order'");
                have_order = true;
                parse_fortran_order();
            } else if (key == "shape") {
                if (have_shape) fail_at(key_pos, "duplicate header key 'shape'");
                have_shape = true;
                parse_shape();
            } else {
                fail_at(key_pos, "unexpected header key '" + printable(key) +
                                     "' (expected exactly 'descr', 'fortran_order' and 'shape')");
            }
            skip_space();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            if (peek() == '}') break;
            fail_at(pos_, "expected ',' or '}' after the value of header key '" + key + "'");
        }
        ++pos_;  // '}'
        skip_space();
        if (pos_ != text_.size()) {
            fail_at(pos_, "unexpected text after the header dict: '" + printable(text_.substr(pos_)) + "'");
        }
        if (!have_descr) fail_at(0, "header key 'descr' is missing");
        if (!have_order) fail_at(0, "header key 'fortran_order' is missing");
        if (!have_shape) fail_at(0, "header key 'shape' is missing");
        return header_;
    }

private:
    [[noreturn]] void fail_at(size_t pos, const std::string& what) const {
        fail(path_, "malformed header at byte offset " + std::to_string(base_ + pos) + ": " + what);
    }
    [[noreturn]] void fail_key(const std::string& key, const std::string& what) const {
        fail(path_, "header key '" + key + "': " + what);
    }

    char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
    bool at_end() const { return pos_ >= text_.size(); }

    void skip_space() {
        while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++pos_;
    }

    void expect(char c, const std::string& what) {
        if (at_end() || peek() != c) fail_at(pos_, what);
        ++pos_;
    }

    // A Python string literal without escapes (numpy never writes any in these fields).
    std::string parse_string(const std::string& what) {
        const char quote = peek();
        if (quote != '\'' && quote != '"') fail_at(pos_, what);
        const size_t start = ++pos_;
        while (!at_end() && peek() != quote) {
            const auto c = static_cast<unsigned char>(peek());
            if (c == '\\' || c < 0x20 || c >= 0x7f) fail_at(pos_, "unsupported character in string literal");
            ++pos_;
        }
        if (at_end()) fail_at(start - 1, "unterminated string literal");
        std::string value(text_.substr(start, pos_ - start));
        ++pos_;
        return value;
    }

    void parse_descr() {
        const char c = peek();
        if (c == '[' || c == '{') {
            fail_key("descr", "structured dtypes are not supported; expected float32 or float64");
        }
        const std::string descr = parse_string("expected a dtype string for header key 'descr'");
        const std::string shown = "'" + printable(descr) + "'";
        const std::string supported =
            "; only float32, float64, int32 and int64 ('<f4', '<f8', '<i4', '<i8', either byte order) are supported";
        if (descr.size() < 2) fail_key("descr", "unsupported dtype " + shown + supported);
        const char order = descr[0];
        const bool has_order = order == '<' || order == '>' || order == '=' || order == '|';
        const std::string type = has_order ? descr.substr(1) : descr;
        if (type != "f4" && type != "f8" && type != "i4" && type != "i8") {
            fail_key("descr", "unsupported dtype " + shown + " (" + dtype_kind(type) + ")" + supported);
        }
        if (!has_order) fail_key("descr", "dtype " + shown + " lacks a byte order ('<', '>' or '=')");
        if (order == '|') {
            fail_key("descr", "byte order '|' (not applicable) is meaningless for the multi-byte dtype " +
                                  shown + "; expected '<', '>' or '='");
        }
        header_.item_size = type == "f4" || type == "i4" ? 4 : 8;
        header_.integer = type[0] == 'i';  // token ids for embeddings: exact below 2^24
        header_.big_endian = order == '>' || (order == '=' && std::endian::native == std::endian::big);
    }

    void parse_fortran_order() {
        if (text_.substr(pos_, 4) == "True") {
            header_.fortran_order = true;
            pos_ += 4;
        } else if (text_.substr(pos_, 5) == "False") {
            header_.fortran_order = false;
            pos_ += 5;
        } else {
            fail_at(pos_, "header key 'fortran_order' must be True or False");
        }
    }

    int64_t parse_dim() {
        const size_t start = pos_;
        if (peek() == '-')
            fail_key("shape", "negative dimension at byte offset " + std::to_string(base_ + pos_));
        if (peek() < '0' || peek() > '9')
            fail_at(pos_, "expected a dimension (non-negative integer) in 'shape'");
        int64_t value = 0;
        while (!at_end() && peek() >= '0' && peek() <= '9') {
            const int digit = peek() - '0';
            if (value > (std::numeric_limits<int64_t>::max() - digit) / 10) {
                fail_key("shape",
                         "dimension at byte offset " + std::to_string(base_ + start) + " does not fit int64");
            }
            value = value * 10 + digit;
            ++pos_;
        }
        if (pos_ - start > 1 && text_[start] == '0')
            fail_at(start, "dimension with a leading zero in 'shape'");
        return value;
    }

    void parse_shape() {
        if (peek() == '[') fail_at(pos_, "header key 'shape' must be a tuple, not a list");
        expect('(', "header key 'shape' must be a tuple '(...)'");
        std::vector<int64_t> dims;
        skip_space();
        bool trailing_comma = false;
        while (peek() != ')') {
            if (at_end()) fail_at(pos_, "unterminated tuple in 'shape'");
            dims.push_back(parse_dim());
            skip_space();
            trailing_comma = false;
            if (peek() == ',') {
                ++pos_;
                trailing_comma = true;
                skip_space();
            } else if (peek() != ')') {
                fail_at(pos_, "expected ',' or ')' in 'shape'");
            }
        }
        if (dims.size() == 1 && !trailing_comma) {
            fail_at(pos_,
                    "header key 'shape' must be a tuple; a 1-element tuple needs a trailing comma: (n,)");
        }
        ++pos_;  // ')'
        header_.shape = std::move(dims);
    }

    const std::string& path_;
    std::string_view text_;
    size_t base_;
    size_t pos_ = 0;
    Header header_;
};

uint32_t load_u32(const unsigned char* p, bool big_endian) {
    return big_endian
               ? (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]}
               : (uint32_t{p[3]} << 24) | (uint32_t{p[2]} << 16) | (uint32_t{p[1]} << 8) | uint32_t{p[0]};
}

uint64_t load_u64(const unsigned char* p, bool big_endian) {
    const uint64_t first = load_u32(p, big_endian);
    const uint64_t second = load_u32(p + 4, big_endian);
    return big_endian ? (first << 32) | second : (second << 32) | first;
}

// Multi-index (C order of dims) of the element stored at `file_index`.
std::vector<int64_t> multi_index(const std::vector<int64_t>& shape, bool fortran_order, int64_t file_index) {
    std::vector<int64_t> index(shape.size());
    if (fortran_order) {
        for (size_t k = 0; k < shape.size(); ++k) {
            index[k] = file_index % shape[k];
            file_index /= shape[k];
        }
    } else {
        for (size_t k = shape.size(); k-- > 0;) {
            index[k] = file_index % shape[k];
            file_index /= shape[k];
        }
    }
    return index;
}

int64_t c_flat_index(const std::vector<int64_t>& shape, const std::vector<int64_t>& index) {
    int64_t flat = 0;
    for (size_t k = 0; k < shape.size(); ++k) flat = flat * shape[k] + index[k];
    return flat;
}

std::vector<float> fortran_to_c(const std::vector<int64_t>& shape, const std::vector<float>& in) {
    std::vector<float> out(in.size());
    std::vector<int64_t> stride(shape.size());  // Fortran strides in elements
    int64_t s = 1;
    for (size_t k = 0; k < shape.size(); ++k) {
        stride[k] = s;
        s *= shape[k];
    }
    std::vector<int64_t> index(shape.size(), 0);
    for (size_t c = 0; c < out.size(); ++c) {
        int64_t f = 0;
        for (size_t k = 0; k < shape.size(); ++k) f += index[k] * stride[k];
        out[c] = in[static_cast<size_t>(f)];
        for (size_t k = shape.size(); k-- > 0;) {
            if (++index[k] < shape[k]) break;
            index[k] = 0;
        }
    }
    return out;
}

std::string build_header(const std::vector<int64_t>& shape, int& major) {
    const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_text(shape) + ", }";
    for (major = 1; major <= 2; ++major) {
        const size_t preamble = kMagic.size() + 2 + (major == 1 ? 2 : 4);
        const size_t unpadded = preamble + dict.size() + 1;  // + '\n'
        const size_t total = (unpadded + kHeaderAlign - 1) / kHeaderAlign * kHeaderAlign;
        const size_t header_len = total - preamble;
        if (major == 2 || header_len <= std::numeric_limits<uint16_t>::max()) {
            std::string out(kMagic);
            out += static_cast<char>(major);
            out += '\0';
            const int len_bytes = major == 1 ? 2 : 4;
            for (int i = 0; i < len_bytes; ++i) out += static_cast<char>((header_len >> (8 * i)) & 0xff);
            out += dict;
            out.append(header_len - dict.size() - 1, ' ');
            out += '\n';
            return out;
        }
    }
    return {};  // unreachable: version 2.0 always fits
}

}  // namespace

NpyArray read_npy(const std::string& path, size_t max_dims) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) fail(path, "cannot open: " + errno_text(errno));
    if (S_ISDIR(st.st_mode)) fail(path, "is a directory, expected a .npy file");
    if (!S_ISREG(st.st_mode)) fail(path, "is not a regular file, expected a .npy file");
    FdGuard fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) fail(path, "cannot open: " + errno_text(errno));
    if (::fstat(fd.get(), &st) != 0) fail(path, "cannot stat: " + errno_text(errno));
    if (!S_ISREG(st.st_mode)) fail(path, "is not a regular file, expected a .npy file");
    const auto file_size = static_cast<uint64_t>(st.st_size);

    // Magic, version and header length.
    unsigned char prefix[12] = {};
    read_at(path, fd.get(), prefix, static_cast<size_t>(std::min<uint64_t>(file_size, sizeof prefix)), 0);
    const size_t magic_seen = static_cast<size_t>(std::min<uint64_t>(file_size, kMagic.size()));
    if (file_size == 0) fail(path, "empty file, expected a .npy file");
    if (std::memcmp(prefix, kMagic.data(), magic_seen) != 0) {
        fail(path, "not a .npy file: bad magic at byte offset 0 (expected \\x93NUMPY, found '" +
                       printable(std::string_view(reinterpret_cast<const char*>(prefix), magic_seen)) + "')");
    }
    if (file_size < 8) {
        fail(path, "truncated header: the file ends at byte offset " + std::to_string(file_size) +
                       ", inside the magic and version (8 bytes)");
    }
    const int major = prefix[6];
    const int minor = prefix[7];
    if ((major != 1 && major != 2 && major != 3) || minor != 0) {
        fail(path, "unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor) +
                       " at byte offset 6 (supported: 1.0, 2.0, 3.0)");
    }
    const size_t len_bytes = major == 1 ? 2 : 4;
    const uint64_t preamble = 8 + len_bytes;
    if (file_size < preamble) {
        fail(path, "truncated header: the file ends at byte offset " + std::to_string(file_size) +
                       ", inside the header length field (bytes 8 to " + std::to_string(preamble) + ")");
    }
    const uint64_t header_len =
        major == 1 ? uint64_t{prefix[8]} | (uint64_t{prefix[9]} << 8) : load_u32(prefix + 8, false);
    if (header_len > file_size - preamble) {
        fail(path, "truncated header: the header length " + std::to_string(header_len) +
                       " (at byte offset 8) runs past the end of the file (" + std::to_string(file_size) +
                       " bytes)");
    }

    // The header dict; its size is now known to be at most the file size.
    std::string header_text(static_cast<size_t>(header_len), '\0');
    read_at(path, fd.get(), header_text.data(), header_text.size(), preamble);
    const Header header = HeaderParser(path, header_text, static_cast<size_t>(preamble)).parse();

    const std::vector<int64_t>& shape = header.shape;
    const std::string dtype_name = header.integer ? (header.item_size == 4 ? "int32" : "int64")
                                                  : header.item_size == 4 ? "float32" : "float64";
    if (shape.empty()) {
        fail(path, "header key 'shape': 0-d (scalar) arrays are not supported; expected 1 to 3 dimensions");
    }
    if (shape.size() > max_dims) {
        fail(path, "header key 'shape': " + shape_text(shape) + " has " + std::to_string(shape.size()) +
                       " dimensions; expected 1 to " + std::to_string(max_dims));
    }
    int64_t count = 1;
    for (size_t k = 0; k < shape.size(); ++k) {
        if (shape[k] < 1) {
            fail(path, "header key 'shape': dimension " + std::to_string(k) + " of " + shape_text(shape) +
                           " is " + std::to_string(shape[k]) + "; every dimension must be >= 1");
        }
        if (__builtin_mul_overflow(count, shape[k], &count)) {
            fail(path, "header key 'shape': the element count of " + shape_text(shape) + " overflows int64");
        }
    }
    int64_t data_bytes = 0;
    if (__builtin_mul_overflow(count, static_cast<int64_t>(header.item_size), &data_bytes)) {
        fail(path, "header key 'shape': the data size of " + shape_text(shape) + " in " + dtype_name +
                       " overflows int64");
    }
    const uint64_t data_offset = preamble + header_len;
    const uint64_t available = file_size - data_offset;
    if (static_cast<uint64_t>(data_bytes) > available) {
        fail(path, "truncated data: shape " + shape_text(shape) + " of " + dtype_name + " needs " +
                       std::to_string(data_bytes) + " bytes after the header (byte offset " +
                       std::to_string(data_offset) + ") but only " + std::to_string(available) +
                       " are present");
    }
    if (static_cast<uint64_t>(data_bytes) < available) {
        fail(path, std::to_string(available - static_cast<uint64_t>(data_bytes)) +
                       " trailing bytes after the data, which ends at byte offset " +
                       std::to_string(data_offset + static_cast<uint64_t>(data_bytes)) + " (shape " +
                       shape_text(shape) + " of " + dtype_name + ")");
    }

    // The data, in file order; count <= file size, so the allocation is bounded by the file.
    std::vector<float> values(static_cast<size_t>(count));
    std::vector<unsigned char> chunk(std::min<size_t>(kChunkBytes, static_cast<size_t>(data_bytes)));
    const size_t per_chunk = chunk.size() / header.item_size;
    for (size_t first = 0; first < values.size(); first += per_chunk) {
        const size_t n = std::min(per_chunk, values.size() - first);
        read_at(path, fd.get(), chunk.data(), n * header.item_size, data_offset + first * header.item_size);
        for (size_t i = 0; i < n; ++i) {
            const unsigned char* p = chunk.data() + i * header.item_size;
            double wide = 0;
            float value = 0;
            if (header.integer) {
                const int64_t id = header.item_size == 4
                                      ? static_cast<int64_t>(static_cast<int32_t>(load_u32(p, header.big_endian)))
                                      : static_cast<int64_t>(load_u64(p, header.big_endian));
                if (id > (int64_t{1} << 24) || id < -(int64_t{1} << 24)) {
                    const auto index = multi_index(shape, header.fortran_order, static_cast<int64_t>(first + i));
                    fail(path, "element " + index_text(index) + " = " + std::to_string(id) +
                                   " is beyond 2^24, the largest id held exactly");
                }
                value = static_cast<float>(id);
                wide = value;
            } else if (header.item_size == 4) {
                value = std::bit_cast<float>(load_u32(p, header.big_endian));
                wide = value;
            } else {
                wide = std::bit_cast<double>(load_u64(p, header.big_endian));
                value = static_cast<float>(wide);
            }
            if (!std::isfinite(value)) {
                const auto index = multi_index(shape, header.fortran_order, static_cast<int64_t>(first + i));
                const std::string where = "element " + index_text(index) + " (flat index " +
                                          std::to_string(c_flat_index(shape, index)) + " in C order)";
                if (std::isnan(wide)) fail(path, where + " is NaN; inputs must be finite");
                if (std::isinf(wide)) fail(path, where + " is infinite; inputs must be finite");
                char text[32];
                std::snprintf(text, sizeof text, "%.9g", wide);
                fail(path, where + " = " + text + " overflows float32; inputs must be finite");
            }
            values[first + i] = value;
        }
    }

    NpyArray array;
    array.shape = shape;
    array.data = header.fortran_order && shape.size() > 1 ? fortran_to_c(shape, values) : std::move(values);
    return array;
}

void write_npy(const std::string& path, const std::vector<int64_t>& shape, const float* data, size_t count) {
    int64_t product = 1;
    for (const int64_t dim : shape) {
        if (dim < 0)
            fail(path, "cannot write shape " + shape_text(shape) + ": negative dimension",
                 ErrorKind::runtime);
        if (__builtin_mul_overflow(product, dim, &product)) {
            fail(path, "cannot write shape " + shape_text(shape) + ": element count overflows int64",
                 ErrorKind::runtime);
        }
    }
    if (static_cast<uint64_t>(product) != count) {
        fail(path,
             "cannot write shape " + shape_text(shape) + ": it has " + std::to_string(product) +
                 " elements but " + std::to_string(count) + " values were given",
             ErrorKind::runtime);
    }
    if (count > 0 && data == nullptr) fail(path, "cannot write: no data", ErrorKind::runtime);
    int major = 1;
    const std::string header = build_header(shape, major);

    write_file_atomically(path, [&](const ChunkWriter& write) {
        write(header.data(), header.size());
        if constexpr (std::endian::native == std::endian::little) {
            write(data, count * sizeof(float));
        } else {
            std::vector<unsigned char> chunk;
            for (size_t first = 0; first < count; first += kChunkBytes / 4) {
                const size_t n = std::min(kChunkBytes / 4, count - first);
                chunk.resize(n * 4);
                for (size_t i = 0; i < n; ++i) {
                    const auto bits = std::bit_cast<uint32_t>(data[first + i]);
                    for (int b = 0; b < 4; ++b) chunk[i * 4 + b] = static_cast<unsigned char>(bits >> (8 * b));
                }
                write(chunk.data(), chunk.size());
            }
        }
    });
}

}  // namespace c1r
