// Runs the built binary on every case of tests/fixtures/layers/*.json (written by scripts/make_layer_goldens.py:
// Keras inference semantics computed in float64 with PyTorch/numpy, independently of the C++ code) and compares
// each saved output with the fixture. One Catch2 test case per fixture file (family), one section per case id.
#include <algorithm>
#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_helpers.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using c1r_test::TempDir;

static_assert(std::endian::native == std::endian::little, "the NPY files here are written and read little-endian");

// Expected values are float32 from a float64 computation; the scale keeps large outputs fair.
constexpr double kTolerance = 1e-4;

const fs::path& fixture_dir() {
    static const fs::path dir = fs::path(C1R_FIXTURE_DIR) / "layers";
    return dir;
}

// ---- NPY v1.0, little-endian float32 and int32, C order ----

void write_npy(const std::string& path, const std::vector<int64_t>& shape, const char* descr, const void* data,
               size_t bytes) {
    std::string dims;  // "3," for one axis (a Python tuple), "2, 5, 3" otherwise
    for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
    if (shape.size() == 1) dims += ",";
    std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
    const size_t unpadded = 10 + header.size() + 1;  // magic, version, length, header, '\n'
    header.append((64 - unpadded % 64) % 64, ' ');
    header += '\n';
    std::ofstream out(path, std::ios::binary);
    out.write("\x93NUMPY\x01\x00", 8);
    const uint16_t length = static_cast<uint16_t>(header.size());
    out.write(reinterpret_cast<const char*>(&length), 2);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
    if (!out) throw std::runtime_error("cannot write " + path);
}

size_t element_count(const std::vector<int64_t>& shape) {
    size_t n = 1;
    for (int64_t d : shape) n *= static_cast<size_t>(d);
    return n;
}

void write_npy_f32(const std::string& path, const std::vector<int64_t>& shape, const json& values) {
    std::vector<float> data;
    for (const json& v : values) data.push_back(v.get<float>());
    if (data.size() != element_count(shape)) throw std::runtime_error("fixture values do not fill the shape: " + path);
    write_npy(path, shape, "<f4", data.data(), data.size() * sizeof(float));
}

void write_npy_i32(const std::string& path, const std::vector<int64_t>& shape, const json& values) {
    std::vector<int32_t> data;
    for (const json& v : values) data.push_back(v.get<int32_t>());
    if (data.size() != element_count(shape)) throw std::runtime_error("fixture values do not fill the shape: " + path);
    write_npy(path, shape, "<i4", data.data(), data.size() * sizeof(int32_t));
}

struct NpyArray {
    std::vector<int64_t> shape;
    std::vector<float> values;
};

// Reads a little-endian float32 C-order NPY (versions 1–3); anything else is an error saying what was found.
NpyArray read_npy_f32(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("no output file " + path);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) throw std::runtime_error("not an NPY file: " + path);
    const int major = static_cast<unsigned char>(bytes[6]);
    size_t header_len = 0, offset = 0;
    if (major == 1) {
        header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8);
        offset = 10;
    } else if (major == 2 || major == 3) {
        if (bytes.size() < 12) throw std::runtime_error("truncated NPY header: " + path);
        for (int i = 0; i < 4; ++i) header_len |= static_cast<size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
        offset = 12;
    } else {
        throw std::runtime_error("NPY version " + std::to_string(major) + " in " + path);
    }
    if (bytes.size() < offset + header_len) throw std::runtime_error("truncated NPY header: " + path);
    const std::string header = bytes.substr(offset, header_len);
    if (header.find("'<f4'") == std::string::npos)
        throw std::runtime_error("output is not little-endian float32 ('<f4'): " + path + " header " + header);
    if (header.find("'fortran_order': False") == std::string::npos)
        throw std::runtime_error("output is not in C order: " + path + " header " + header);
    const size_t open = header.find('(', header.find("'shape'")), close = header.find(')', open);
    if (open == std::string::npos || close == std::string::npos) throw std::runtime_error("no shape in " + header);
    NpyArray array;
    std::stringstream dims(header.substr(open + 1, close - open - 1));
    for (std::string item; std::getline(dims, item, ',');) {
        if (item.find_first_not_of(" ") == std::string::npos) continue;
        array.shape.push_back(std::stoll(item));
    }
    const size_t count = element_count(array.shape), data_at = offset + header_len;
    if (bytes.size() != data_at + count * sizeof(float))
        throw std::runtime_error("NPY data size does not match its shape: " + path);
    array.values.resize(count);
    std::memcpy(array.values.data(), bytes.data() + data_at, count * sizeof(float));
    return array;
}

// ---- comparing ----

std::string shape_text(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

// Empty when within tolerance; otherwise what differs.
std::string compare(const NpyArray& got, const json& expected) {
    const auto shape = expected.at("shape").get<std::vector<int64_t>>();
    if (got.shape != shape) return "shape " + shape_text(got.shape) + ", expected " + shape_text(shape);
    const auto want = expected.at("values").get<std::vector<double>>();
    if (want.size() != got.values.size()) return "fixture holds " + std::to_string(want.size()) + " values";
    double scale = 1.0, worst = 0.0;
    size_t worst_at = 0;
    for (size_t i = 0; i < want.size(); ++i) {
        scale = std::max(scale, std::fabs(want[i]));
        double diff = std::fabs(static_cast<double>(got.values[i]) - want[i]);
        if (std::isnan(diff)) diff = INFINITY;  // NaN or inf where a number was expected
        if (diff > worst) worst = diff, worst_at = i;
    }
    if (worst <= kTolerance * scale) return {};
    std::ostringstream why;
    why.precision(9);
    why << "max |got - expected| = " << worst << " (scale " << scale << ", tolerance " << kTolerance * scale
        << ") at flat index " << worst_at << ": expected " << want[worst_at] << ", got " << got.values[worst_at];
    return why.str();
}

// ---- one case ----

std::string quoted(const std::vector<std::string>& args) {
    std::string line = C1R_BINARY;
    for (const auto& a : args) line += " '" + a + "'";
    return line;
}

void run_case(const std::string& family, const json& c) {
    const std::string id = c.at("id").get<std::string>();
    TempDir dir("c1r_layer_golden");
    const std::string config = dir.write_json("config.json", c.at("config"));

    std::vector<std::string> args{config};
    const json& inputs = c.at("inputs");
    int n = 0;
    for (const auto& [name, input] : inputs.items()) {
        const std::string path = dir.file("in" + std::to_string(n++) + ".npy");
        const auto shape = input.at("shape").get<std::vector<int64_t>>();
        if (input.at("dtype") == "int32")
            write_npy_i32(path, shape, input.at("values"));
        else
            write_npy_f32(path, shape, input.at("values"));
        args.push_back("--input");
        args.push_back(inputs.size() > 1 ? name + "=" + path : path);
    }

    const fs::path weights_dir = dir.path() / "weights";
    fs::create_directories(weights_dir);
    for (const auto& [key, variables] : c.at("weights").items()) {
        const fs::path layer_dir = weights_dir / key;  // "<bidirectional>/forward_<inner>" nests one more folder
        fs::create_directories(layer_dir);
        for (const auto& [variable, array] : variables.items())
            write_npy_f32((layer_dir / (variable + ".npy")).string(), array.at("shape").get<std::vector<int64_t>>(),
                          array.at("values"));
    }
    args.push_back("--weights");
    args.push_back(weights_dir.string());

    const json& outputs = c.at("outputs");
    std::vector<std::pair<std::string, std::string>> saved;  // output name, file
    for (auto it = outputs.begin(); it != outputs.end(); ++it) {
        const std::string& name = it.key();
        const std::string path = dir.file("out" + std::to_string(saved.size()) + ".npy");
        args.push_back("--save-output");
        args.push_back(outputs.size() > 1 ? name + "=" + path : path);
        saved.emplace_back(name, path);
    }
    for (const char* a : {"--verify", "--repeats", "1", "--warmup", "0", "--quiet", "--format", "json"})
        args.emplace_back(a);

    const c1r_test::ProcessResult result = c1r_test::run_binary(args);
    const std::string context = "case " + family + "/" + id + "\ncommand: " + quoted(args) + "\nstderr:\n" + result.err;
    if (result.exit_code != 0) {
        FAIL_CHECK("exit code " << result.exit_code << "\n" << context);
        return;
    }
    for (const auto& [name, path] : saved) {
        std::string problem;
        try {
            problem = compare(read_npy_f32(path), outputs.at(name));
        } catch (const std::exception& e) {
            problem = e.what();
        }
        if (!problem.empty())
            FAIL_CHECK("output '" << name << "': " << problem << "\n" << context);
        else
            SUCCEED();
    }
}

// ---- one Catch2 test case per fixture file, registered when the program starts ----

json load_family(const fs::path& file) {
    std::ifstream in(file);
    if (!in) throw std::runtime_error("cannot read " + file.string());
    return json::parse(in);
}

void run_family(const fs::path& file) {
    const json fixture = load_family(file);
    const std::string family = fixture.at("family").get<std::string>();
    REQUIRE(fixture.at("cases").size() > 0);
    for (const json& c : fixture.at("cases")) {
        DYNAMIC_SECTION(c.at("id").get<std::string>()) { run_case(family, c); }
    }
}

class FamilyInvoker : public Catch::ITestInvoker {
public:
    explicit FamilyInvoker(fs::path file) : file_(std::move(file)) {}
    void invoke() const override { run_family(file_); }

private:
    fs::path file_;
};

std::vector<fs::path> family_files() {
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(fixture_dir(), ec))
        if (entry.path().extension() == ".json") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    return files;
}

// Test names must outlive the registry, which keeps references to them.
bool register_families() {
    static std::deque<std::string> names;
    static std::vector<std::unique_ptr<Catch::AutoReg>> registrations;
    for (const fs::path& file : family_files()) {
        names.push_back("layer golden: " + file.stem().string());
        registrations.push_back(std::make_unique<Catch::AutoReg>(
            new FamilyInvoker(file), CATCH_INTERNAL_LINEINFO, Catch::StringRef(),
            Catch::NameAndTags{Catch::StringRef(names.back()), "[layers][golden]"}));
    }
    return true;
}

const bool registered = register_families();

}  // namespace

TEST_CASE("layer golden fixtures are present and well formed", "[layers][golden]") {
    REQUIRE(registered);
    const auto files = family_files();
    INFO("fixture folder " << fixture_dir().string() << " (regenerate with scripts/make_layer_goldens.py)");
    REQUIRE(!files.empty());
    for (const fs::path& file : files) {
        INFO(file.string());
        const json fixture = load_family(file);
        CHECK(fixture.at("family").get<std::string>() == file.stem().string());
        std::vector<std::string> ids;
        for (const json& c : fixture.at("cases")) {
            ids.push_back(c.at("id").get<std::string>());
            CHECK(c.at("config").is_object());
            CHECK(!c.at("inputs").empty());
            CHECK(!c.at("outputs").empty());
        }
        std::sort(ids.begin(), ids.end());
        CHECK(std::adjacent_find(ids.begin(), ids.end()) == ids.end());
    }
}
