// libzip-backed reads of the entries of a .keras archive (see zip_reader.hpp; why libzip: keras_file.cpp).
#include "import/zip_reader.hpp"

#include <zip.h>

#include <set>

#include "core/error.hpp"
#include "import/h5_reader.hpp"

namespace c1r {
namespace {

constexpr uint64_t kMaxEntries = 100000;
// Entries this small are read whatever their compression ratio: they cannot exhaust memory.
constexpr uint64_t kRatioFloor = uint64_t{1} << 16;

std::string libzip_error(int code) {
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    std::string text = zip_error_strerror(&error);
    zip_error_fini(&error);
    return text;
}

// What an extracting tool would write outside its folder: absolute paths, drive letters, '..' components.
bool unsafe_entry_name(const std::string& name) {
    if (name.empty() || name[0] == '/' || name[0] == '\\') return true;
    if (name.size() >= 2 && name[1] == ':') return true;
    size_t start = 0;
    while (start <= name.size()) {
        const size_t end = name.find_first_of("/\\", start);
        const std::string part =
            name.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (part == "..") return true;
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return false;
}

std::string in_quotes(const std::string& name) { return "'" + h5::printable(name) + "'"; }

}  // namespace

ZipReader::ZipReader(const std::string& path, const std::string& where)
    : where_(where), archive_(nullptr, zip_discard) {
    int code = 0;
    archive_.reset(zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code));
    if (!archive_)
        throw Error(ErrorKind::input, where_ + ": not a readable zip archive (" + libzip_error(code) + ")");
    const zip_int64_t count = zip_get_num_entries(archive_.get(), 0);
    if (count < 0) fail("", "cannot list the entries");
    if (static_cast<uint64_t>(count) > kMaxEntries) fail("", "holds " + std::to_string(count) + " entries");
    std::set<std::string> seen;
    for (zip_int64_t i = 0; i < count; ++i) {
        const char* raw = zip_get_name(archive_.get(), static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW);
        if (raw == nullptr) fail("#" + std::to_string(i), "entry without a readable name");
        const std::string name = raw;
        if (unsafe_entry_name(name)) fail(name, "unsafe path (absolute or with a '..' component)");
        if (!seen.insert(name).second) fail(name, "appears twice");
        names_.push_back(name);
    }
}

void ZipReader::fail(const std::string& entry, const std::string& why) const {
    throw Error::at(ErrorKind::input, where_, entry.empty() ? "" : "zip entry " + in_quotes(entry), why, false);
}

bool ZipReader::has(const std::string& name) const {
    for (const std::string& entry : names_)
        if (entry == name) return true;
    return false;
}

std::string ZipReader::read(const std::string& name, uint64_t max_bytes) const {
    zip_uint64_t index = 0;
    bool found = false;
    for (size_t i = 0; i < names_.size() && !found; ++i) {
        if (names_[i] == name) {
            index = i;
            found = true;
        }
    }
    if (!found) fail(name, "missing");
    zip_stat_t stat;
    zip_stat_init(&stat);
    if (zip_stat_index(archive_.get(), index, ZIP_FL_UNCHANGED, &stat) != 0)
        fail(name, std::string("cannot read: ") + zip_strerror(archive_.get()));
    if (!(stat.valid & ZIP_STAT_SIZE) || !(stat.valid & ZIP_STAT_COMP_SIZE)) fail(name, "sizes unknown");
    const uint64_t size = stat.size;
    const uint64_t packed = stat.comp_size;
    if (size > max_bytes)
        fail(name,
             "declares " + std::to_string(size) + " bytes, over the limit of " + std::to_string(max_bytes));
    if (size > kRatioFloor && size / kMaxRatio > packed)
        fail(name, "declares " + std::to_string(size) + " bytes from " + std::to_string(packed) +
                       " compressed (more than " + std::to_string(kMaxRatio) + " times)");
    std::string bytes(size, '\0');  // before opening: nothing to close if this throws
    zip_file_t* file = zip_fopen_index(archive_.get(), index, 0);
    if (file == nullptr) fail(name, std::string("cannot open: ") + zip_strerror(archive_.get()));
    uint64_t done = 0;
    std::string error;
    while (done < size) {
        const zip_int64_t got = zip_fread(file, bytes.data() + done, size - done);
        if (got < 0) {
            error = zip_file_strerror(file);
            break;
        }
        if (got == 0) break;
        done += static_cast<uint64_t>(got);
    }
    char extra = 0;
    zip_int64_t more = 0;
    if (error.empty() && done == size) {
        more = zip_fread(file, &extra, 1);  // reaching the end makes libzip check the CRC
        if (more < 0) error = zip_file_strerror(file);
    }
    zip_fclose(file);
    if (!error.empty()) fail(name, "cannot read: " + error);
    if (done < size)
        fail(name, "ends after " + std::to_string(done) + " of its " + std::to_string(size) + " bytes");
    if (more > 0) fail(name, "holds more than the " + std::to_string(size) + " bytes it declares");
    return bytes;
}

}  // namespace c1r
