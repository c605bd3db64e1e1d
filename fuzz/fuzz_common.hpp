// Shared helpers of the fuzz targets: the exception policy, message checks and an in-memory file.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <sstream>
#include <typeinfo>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "report/report.hpp"

namespace c1r::fuzz {

// C1R_FUZZ_ALLOW (environment, comma-separated) lets an exploratory run fuzz past known, already reported
// bug classes: "json-exception" (a nlohmann::json exception escapes), "unprintable" (an error the report
// printers cannot print). CI and scripts/fuzz.sh leave it unset, so every class counts as a crash there.
inline bool allowed(const char* bug_class) {
    static const std::string kAllow = std::getenv("C1R_FUZZ_ALLOW") ? std::getenv("C1R_FUZZ_ALLOW") : "";
    return kAllow.find(bug_class) != std::string::npos;
}

// An error must reach the user: as the one stderr line (one_line) and as a failed run in every report format,
// each a whole line, whatever bytes the input put into the message (control characters, invalid UTF-8).
inline void check_message(const Error& error) {
    const std::string message = error.what();
    if (message.empty()) {
        std::fprintf(stderr, "BUG: c1r::Error with an empty message\n");
        std::abort();
    }
    const std::string line = one_line(message);
    for (unsigned char c : line) {
        if (c < 0x20) {
            std::fprintf(stderr, "BUG: one_line() left control character 0x%02x: %s\n", c, line.c_str());
            std::abort();
        }
    }
    RunRecord record;
    record.config = "fuzz/input.json";
    record.error = ErrorRecord{message, error.pointer(), exit_code(error.kind())};
    for (Format format : {Format::table, Format::json, Format::jsonl, Format::csv}) {
        std::ostringstream out;
        try {
            auto printer = make_printer(format, out);
            printer->begin();
            printer->print(record);
            printer->end();
        } catch (const std::exception& e) {
            if (allowed("unprintable")) return;
            std::fprintf(stderr, "BUG: a failed run cannot be reported in format %d: %s\nmessage: %s\n",
                         static_cast<int>(format), e.what(), line.c_str());
            std::abort();
        }
        const std::string text = out.str();
        if (format == Format::jsonl && (text.empty() || text.find('\n') != text.size() - 1)) {
            std::fprintf(stderr, "BUG: a failed run's jsonl report is not one line: %s\n", text.c_str());
            std::abort();
        }
    }
}

// Runs `body`: a c1r::Error is the clean answer to bad input; anything else thrown is a bug.
template <typename Body>
void expect_clean(Body&& body) {
    try {
        body();
    } catch (const Error& error) {
        check_message(error);
    } catch (const nlohmann::json::exception& e) {
        if (allowed("json-exception")) return;
        std::fprintf(stderr, "BUG: nlohmann::json exception escaped (not a c1r::Error): %s\n", e.what());
        std::abort();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "BUG: exception other than c1r::Error: %s: %s\n", typeid(e).name(), e.what());
        std::abort();
    } catch (...) {
        std::fprintf(stderr, "BUG: non-std exception escaped\n");
        std::abort();
    }
}

// The fuzz input as a file the readers can open by path, without touching the disk: a memfd seen through
// /proc/self/fd (a regular file to stat(), like a real one). One per process, rewritten for each input.
class MemFile {
public:
    MemFile() : fd_(::memfd_create("c1r-fuzz", MFD_CLOEXEC)) {
        if (fd_ < 0) {
            std::perror("memfd_create");
            std::abort();
        }
        path_ = "/proc/self/fd/" + std::to_string(fd_);
    }
    MemFile(const MemFile&) = delete;
    MemFile& operator=(const MemFile&) = delete;
    ~MemFile() { ::close(fd_); }

    const std::string& write(const uint8_t* data, size_t size) {
        if (::ftruncate(fd_, 0) != 0) std::abort();
        size_t done = 0;
        while (done < size) {
            const ssize_t put = ::pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
            if (put <= 0) std::abort();
            done += static_cast<size_t>(put);
        }
        return path_;
    }

private:
    int fd_;
    std::string path_;
};

inline MemFile& mem_file() {
    static MemFile file;  // process-wide: libFuzzer calls the target from one thread
    return file;
}

}  // namespace c1r::fuzz
