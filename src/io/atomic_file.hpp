// Files written whole or not at all: a temporary file in the same folder, renamed into place.
#pragma once

#include <unistd.h>

#include <functional>
#include <string>

namespace c1r {

// Writes a file through a temporary file in the same folder, renamed into place: a failed or interrupted write
// never leaves a partial file. `body` writes the bytes through the ChunkWriter it is given. A missing folder is
// an input error (exit 2); other failures are runtime errors.
using ChunkWriter = std::function<void(const void* bytes, size_t size)>;
void write_file_atomically(const std::string& path, const std::function<void(const ChunkWriter&)>& body);

// Closes a file descriptor when it goes out of scope.
class FdGuard {
public:
    explicit FdGuard(int fd) : fd_(fd) {}
    FdGuard(const FdGuard&) = delete;
    FdGuard& operator=(const FdGuard&) = delete;
    ~FdGuard() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }
    // Closes now so the caller can check the result (close can report deferred write errors).
    int release_and_close() {
        const int rc = ::close(fd_);
        fd_ = -1;
        return rc;
    }

private:
    int fd_;
};

}  // namespace c1r
