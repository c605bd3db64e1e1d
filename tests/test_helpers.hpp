// Shared test helpers: temporary folders and files, quick configs and plans, and running the built binary.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "plan/plan.hpp"
#include "model/spec.hpp"

namespace c1r_test {

namespace fs = std::filesystem;
using nlohmann::json;

// A folder of its own for one test, removed with everything in it when the test ends.
class TempDir {
public:
    explicit TempDir(const std::string& tag = "c1r_test") {
        static int counter = 0;  // distinct folders for several TempDirs in one process
        path_ = fs::temp_directory_path() /
                (tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }

    const fs::path& path() const { return path_; }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

    // Writes text (or a JSON value, dumped) to a file in the folder and returns its path.
    std::string write(const std::string& name, const std::string& text) const {
        const std::string target = file(name);
        std::ofstream out(target, std::ios::binary);
        out << text;
        if (!out) throw std::runtime_error("cannot write " + target);
        return target;
    }
    std::string write_json(const std::string& name, const json& value) const {
        return write(name, value.dump(2));
    }

private:
    fs::path path_;
};

inline std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// ---- skipping ----

// The exit code tests/CMakeLists.txt gives CTest as SKIP_RETURN_CODE: a test that cannot run is listed as
// skipped, never as passed.
constexpr int kSkipExitCode = 4;

// Ends the test process as skipped, saying why on stderr. Only for what truly cannot be provided here; what
// `scripts/setup.sh test` can install must be installed and tested instead.
[[noreturn]] inline void skip_test(const std::string& why) {
    std::fflush(nullptr);
    std::fprintf(stderr, "\n*** SKIPPED: %s ***\n", why.c_str());
    std::fflush(stderr);
    std::exit(kSkipExitCode);
}

// Built with AddressSanitizer (scripts/sanitize.sh builds the binary and the tests alike)?
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif
// Under ASan peak RSS counts the shadow memory and the quarantine of freed blocks, so memory bounds are
// measured in the plain build only.
constexpr bool kRssMeaningful = !kSanitized;

// A test whose whole point is a peak-RSS figure: listed as skipped under AddressSanitizer (the plain build's
// suite, `scripts/setup.sh test`, runs it).
inline void skip_if_rss_not_meaningful() {
    if (!kRssMeaningful)
        skip_test("peak RSS under AddressSanitizer counts its shadow memory and quarantine; the plain build "
                  "(scripts/setup.sh test) measures this one");
}

// ---- configs ----

// A runnable config object with small run settings: shape (batch, length, channels) and a list of layers.
inline json config_json(const std::vector<int64_t>& shape, const json& layers, uint64_t seed = 1) {
    return json{{"name", "test"},
                {"input", {{"shape", shape}, {"init", {{"distribution", "normal"}, {"seed", seed}}}}},
                {"layers", layers},
                {"run", {{"warmup", 0}, {"repeats", 1}, {"threads", 1}}}};
}

inline json conv_layer(int64_t filters, int64_t kernel, int64_t strides = 1, const json& padding = "valid") {
    return json{{"type", "conv1d"},
                {"filters", filters},
                {"kernel_size", kernel},
                {"strides", strides},
                {"padding", padding}};
}

inline c1r::ConfigSpec parse(const json& config, const std::string& source = "test.json") {
    return c1r::parse_config(config, source);
}

// Parses a config and plans it for the input shape the config gives.
inline c1r::Plan plan_of(const json& config, const std::string& source = "test.json") {
    c1r::ConfigSpec spec = parse(config, source);
    return c1r::make_plan(spec, c1r::shape_from_dims(*spec.input.shape, spec.data_format));
}

// The c1r::Error that `body` throws; fails the test when it throws nothing or something else.
template <typename Body>
c1r::Error error_from(Body&& body) {
    try {
        body();
    } catch (const c1r::Error& e) {
        return e;
    } catch (const std::exception& e) {
        FAIL("expected c1r::Error, got std::exception: " << e.what());
    }
    FAIL("expected c1r::Error, nothing was thrown");
    throw std::logic_error("unreachable");
}

// ---- the binary ----

struct ProcessResult {
    int exit_code = -1;  // the exit status; 128 + signal when killed by one
    std::string out, err;
};

// Runs the built conv1d-reshape with `args`, stdout and stderr captured through files (no pipe can fill up).
inline ProcessResult run_binary(const std::vector<std::string>& args, const std::string& working_dir = {}) {
    TempDir capture("c1r_capture");
    const std::string out_path = capture.file("stdout"), err_path = capture.file("stderr");
    std::vector<std::string> argv_text{C1R_BINARY};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);

    std::fflush(nullptr);  // nothing buffered in this process may be written twice by the child
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int null_in = ::open("/dev/null", O_RDONLY);
        if (out < 0 || err < 0 || null_in < 0) ::_exit(127);
        ::dup2(null_in, 0);
        ::dup2(out, 1);
        ::dup2(err, 2);
        if (!working_dir.empty() && ::chdir(working_dir.c_str()) != 0) ::_exit(127);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) throw std::runtime_error("waitpid failed");
    }
    ProcessResult result;
    if (WIFEXITED(status))
        result.exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        result.exit_code = 128 + WTERMSIG(status);
    result.out = read_text(out_path);
    result.err = read_text(err_path);
    return result;
}

// Runs a shell command line with stdout and stderr captured in files; for the scripts in scripts/.
inline ProcessResult run_shell(const std::string& command) {
    TempDir capture("c1r_shell");
    const std::string out = capture.file("stdout"), err = capture.file("stderr");
    std::fflush(nullptr);
    int status = std::system(("(" + command + ") </dev/null >'" + out + "' 2>'" + err + "'").c_str());
    ProcessResult result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result.out = read_text(out);
    result.err = read_text(err);
    return result;
}

}  // namespace c1r_test
