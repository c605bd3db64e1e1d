// Read-only zip archive access through libzip: every entry name checked, entries read whole into memory
// with their declared sizes capped before anything is allocated; every failure an Error(input).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct zip;

namespace c1r {

class ZipReader {
public:
    // Opens the archive and refuses it if any entry name is absolute, holds a '..' component or appears
    // twice.
    ZipReader(const std::string& path, const std::string& where);
    ZipReader(const ZipReader&) = delete;
    ZipReader& operator=(const ZipReader&) = delete;

    bool has(const std::string& name) const;
    const std::vector<std::string>& names() const { return names_; }
    // The entry's bytes, its CRC checked. Refused when it declares more than `max_bytes`, or more than
    // kMaxRatio times its compressed size (above a small floor).
    std::string read(const std::string& name, uint64_t max_bytes) const;

    static constexpr uint64_t kMaxRatio = 1000;

private:
    [[noreturn]] void fail(const std::string& entry, const std::string& why) const;

    std::string where_;
    // A member, not a destructor's job: the constructor may throw after opening (a bad entry name).
    std::unique_ptr<zip, void (*)(zip*)> archive_;
    std::vector<std::string> names_;
};

}  // namespace c1r
