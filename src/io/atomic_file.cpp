// write_file_atomically (io/atomic_file.hpp).
#include "io/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "core/error.hpp"

namespace c1r {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what, ErrorKind kind = ErrorKind::input) {
    throw Error::at(kind, path, "", what);
}

std::string errno_text(int err) { return std::strerror(err); }

mode_t current_umask() {
    // umask can only be read by setting it; this runs before any threads touch files.
    static const mode_t kMask = [] {
        const mode_t mask = ::umask(0);
        ::umask(mask);
        return mask;
    }();
    return kMask;
}

void write_all(const std::string& path, int fd, const void* buffer, size_t size) {
    const auto* in = static_cast<const unsigned char*>(buffer);
    while (size > 0) {
        const ssize_t put = ::write(fd, in, size);
        if (put < 0) {
            if (errno == EINTR) continue;
            fail(path, "cannot write: " + errno_text(errno), ErrorKind::runtime);
        }
        in += put;
        size -= static_cast<size_t>(put);
    }
}

// Removes the temporary file unless the rename into place succeeded.
class TempFile {
public:
    explicit TempFile(std::string name) : name_(std::move(name)) {}
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    ~TempFile() {
        if (!committed_) ::unlink(name_.c_str());
    }
    const std::string& name() const { return name_; }
    void commit() { committed_ = true; }

private:
    std::string name_;
    bool committed_ = false;
};

}  // namespace

void write_file_atomically(const std::string& path, const std::function<void(const ChunkWriter&)>& body) {
    std::string name = path + ".tmp.XXXXXX";
    const int raw_fd = ::mkstemp(name.data());
    if (raw_fd < 0) {
        const int err = errno;
        std::filesystem::path folder = std::filesystem::path(path).parent_path();
        if (folder.empty()) folder = ".";
        std::error_code ec;
        if ((err == ENOENT || err == ENOTDIR) && !std::filesystem::is_directory(folder, ec)) {
            fail(path, "cannot write: folder '" + folder.string() + "' does not exist");
        }
        fail(path, "cannot create a temporary file next to it: " + errno_text(err), ErrorKind::runtime);
    }
    TempFile temp(name);
    FdGuard fd(raw_fd);
    body([&](const void* bytes, size_t size) { write_all(path, fd.get(), bytes, size); });
    // mkstemp creates 0600; give the result the permissions a plain open() would.
    if (::fchmod(fd.get(), 0666 & ~current_umask()) != 0) {
        fail(path, "cannot set permissions: " + errno_text(errno), ErrorKind::runtime);
    }
    if (::fsync(fd.get()) != 0) fail(path, "cannot write: " + errno_text(errno), ErrorKind::runtime);
    if (fd.release_and_close() != 0) fail(path, "cannot write: " + errno_text(errno), ErrorKind::runtime);
    if (::rename(temp.name().c_str(), path.c_str()) != 0) {
        fail(path, "cannot move the temporary file into place: " + errno_text(errno), ErrorKind::runtime);
    }
    temp.commit();
}

}  // namespace c1r
