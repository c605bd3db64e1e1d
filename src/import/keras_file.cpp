// Trained Keras model files: Keras 1/2/3 .h5, Keras 3 .keras zips and TensorFlow.js model.json + .bin shards,
// each read into the architecture JSON and weights named by layer and Keras variable (docs/keras-files.md).
//
// Libraries. HDF5 through its C API: it is the interface Debian ships with a stable ABI (libhdf5-dev, soname
// libhdf5_serial.so.103), it reports every failure as a return code that we turn into one Error line (the C++
// API throws its own exception types and prints through the same error stack), it reads in-memory images (the
// core driver with file-image callbacks), and HighFive, the header-only C++ wrapper, is not packaged for
// Debian 12
// (`apt-cache policy libhighfive-dev`: no candidate). Zip through libzip (libzip-dev): it reads the central
// directory, gives each entry's declared and compressed sizes before extraction, checks CRCs and has a
// consistency mode (ZIP_CHECKCONS); minizip (libminizip-dev) is zlib's contrib example with a lower-level,
// file-handle API and no such checks, and libarchive is a streaming multi-format extractor with far more
// surface than a zip reader needs.
#include "import/keras_file.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <set>

#include "core/error.hpp"
#include "import/h5_reader.hpp"
#include "import/zip_reader.hpp"
#include "import/keras_file_parts.hpp"

namespace c1r {
namespace {

using namespace kfile;
using nlohmann::json;

// ---- Which format
// ------------------------------------------------------------------------------------------

enum class Signature { hdf5, zip, json, other };

Signature sniff(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    char head[8] = {};
    in.read(head, sizeof head);
    const auto got = static_cast<size_t>(in.gcount());
    if (got == 8 && std::memcmp(head, kHdf5Signature, 8) == 0) return Signature::hdf5;
    if (got >= 4 && (std::memcmp(head, "PK\x03\x04", 4) == 0 || std::memcmp(head, "PK\x05\x06", 4) == 0))
        return Signature::zip;
    for (size_t i = 0; i < got; ++i) {
        if (head[i] == '{') return Signature::json;
        if (head[i] != ' ' && head[i] != '\t' && head[i] != '\n' && head[i] != '\r') break;
    }
    // HDF5 also allows a user block of 512, 1024, 2048... bytes before its signature.
    for (std::streamoff offset = 512; got == 8 && offset <= (std::streamoff{1} << 20); offset *= 2) {
        char block[8] = {};
        in.clear();
        in.seekg(offset);
        in.read(block, sizeof block);
        if (in.gcount() != 8) break;
        if (std::memcmp(block, kHdf5Signature, 8) == 0) return Signature::hdf5;
    }
    return Signature::other;
}

std::string extension(const std::string& path) {
    std::string ext = fs::path(path).extension().string();
    for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ext;
}

}  // namespace

bool is_keras_model_file(const std::string& path) {
    try {
        struct stat info {};
        if (::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) return false;
        const std::string ext = extension(path);
        if (ext == ".h5" || ext == ".hdf5" || ext == ".keras") return true;
        switch (sniff(path)) {
            case Signature::hdf5:
            case Signature::zip:
                return true;
            case Signature::json: {
                if (static_cast<uint64_t>(info.st_size) > kMaxJsonBytes) return false;
                const json document = json::parse(read_whole_file(path, path, kMaxJsonBytes), nullptr, false);
                return member(document, "weightsManifest") != nullptr &&
                       member(document, "modelTopology") != nullptr;
            }
            case Signature::other:
                return false;
        }
    } catch (...) {
    }
    return false;
}

KerasModelFile read_keras_model_file(const std::string& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) fail(path, "", std::string("cannot open: ") + std::strerror(errno));
    if (!S_ISREG(info.st_mode)) fail(path, "", "not a regular file");
    switch (sniff(path)) {
        case Signature::hdf5:
            return read_h5(path);
        case Signature::zip:
            return read_keras_zip(path);
        case Signature::json:
            return read_tfjs(path);
        case Signature::other:
            break;
    }
    const std::string ext = extension(path);
    if (ext == ".h5" || ext == ".hdf5") fail(path, "", "not an HDF5 file (no HDF5 signature)");
    if (ext == ".keras") fail(path, "", "not a zip archive (a .keras file is a zip)");
    fail(path, "", "not a Keras model file (expected HDF5, a .keras zip or a TensorFlow.js model.json)");
}

}  // namespace c1r
