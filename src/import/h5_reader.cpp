// Checked HDF5 reads for the Keras file readers (see h5_reader.hpp; why the C API: keras_file.cpp).
#include "import/h5_reader.hpp"

#include <H5PLpublic.h>
#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>

#include "core/error.hpp"

namespace c1r::h5 {
namespace {

constexpr int kMaxRank = 8;
constexpr uint64_t kMaxElements = uint64_t{1} << 31;
constexpr uint64_t kMaxStrings = uint64_t{1} << 20;
// Deflate cannot expand data more than about 1032:1; anything claiming more is not a real dataset.
constexpr uint64_t kMaxChunkedRatio = 1100;
constexpr uint64_t kChunkedSlack = uint64_t{1} << 20;

// The innermost HDF5 error of the failed call: HDF5 names the real cause there ("truncated file: eof = ...").
herr_t keep_innermost(unsigned n, const H5E_error2_t* error, void* data) {
    if (n == 0 && error != nullptr && error->desc != nullptr) *static_cast<std::string*>(data) = error->desc;
    return 0;
}

std::string hdf5_detail() {
    std::string desc;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, &desc);
    H5Eclear2(H5E_DEFAULT);
    if (desc.empty()) return {};
    return " (HDF5: " + printable(desc, 160) + ")";
}

// File-image callbacks that let HDF5's core driver read the caller's bytes where they are: every "allocation"
// is the image itself, every "copy" a no-op, nothing is freed. (H5LTopen_file_image does the same, but with
// DONT_RELEASE it never frees its own bookkeeping: 72 bytes lost per open in HDF5 1.10.8.)
void* image_malloc(size_t size, H5FD_file_image_op_t, void* udata) {
    const auto* view = static_cast<const ImageView*>(udata);
    return size == view->size ? const_cast<void*>(view->data) : nullptr;
}

void* image_memcpy(void* dest, const void* src, size_t size, H5FD_file_image_op_t, void* udata) {
    const auto* view = static_cast<const ImageView*>(udata);
    return dest == view->data && src == view->data && size == view->size ? dest : nullptr;
}

void* image_realloc(void*, size_t, H5FD_file_image_op_t, void*) { return nullptr; }  // read only
herr_t image_free(void*, H5FD_file_image_op_t, void*) { return 0; }                  // the caller owns it
void* image_udata_copy(void* udata) { return udata; }
herr_t image_udata_free(void*) { return 0; }

// External links would open other files on this machine: never followed.
herr_t refuse_external_link(const char*, const char*, const char*, const char*, unsigned*, hid_t, void*) {
    return -1;
}

std::vector<std::string> split_path(const std::string& path) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= path.size()) {
        const size_t end = path.find('/', start);
        const std::string part =
            path.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (!part.empty() && part != ".") parts.push_back(part);
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return parts;
}

std::string type_name(hid_t type) {
    const size_t bits = H5Tget_size(type) * 8;
    switch (H5Tget_class(type)) {
        case H5T_INTEGER:
            return std::string(H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(bits);
        case H5T_FLOAT:
            return "float" + std::to_string(bits) + " (not IEEE binary16/32/64)";
        case H5T_STRING:
            return "string";
        case H5T_BITFIELD:
            return "bitfield";
        case H5T_OPAQUE:
            return "opaque";
        case H5T_COMPOUND:
            return "compound";
        case H5T_REFERENCE:
            return "reference";
        case H5T_ENUM:
            return "enum";
        case H5T_VLEN:
            return "variable-length";
        case H5T_ARRAY:
            return "array";
        default:
            return "unknown";
    }
}

// IEEE binary16/32/64 in either byte order: the only float types a Keras writer produces.
bool is_ieee_float(hid_t type) {
    if (H5Tget_class(type) != H5T_FLOAT) return false;
    const size_t size = H5Tget_size(type);
    size_t spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0;
    if (H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) < 0) return false;
    if (H5Tget_offset(type) != 0 || H5Tget_precision(type) != size * 8) return false;
    if (H5Tget_norm(type) != H5T_NORM_IMPLIED) return false;
    const H5T_order_t order = H5Tget_order(type);
    if (order != H5T_ORDER_LE && order != H5T_ORDER_BE) return false;
    const size_t ebias = H5Tget_ebias(type);
    if (size == 2) return spos == 15 && epos == 10 && esize == 5 && mpos == 0 && msize == 10 && ebias == 15;
    if (size == 4) return spos == 31 && epos == 23 && esize == 8 && mpos == 0 && msize == 23 && ebias == 127;
    if (size == 8)
        return spos == 63 && epos == 52 && esize == 11 && mpos == 0 && msize == 52 && ebias == 1023;
    return false;
}

std::string shape_text(const std::vector<int64_t>& shape) {
    std::string out = "(";
    for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
    return out + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace

Id& Id::operator=(Id&& other) noexcept {
    if (this != &other) {
        reset();
        id_ = other.id_;
        close_ = other.close_;
        other.id_ = H5I_INVALID_HID;
    }
    return *this;
}

void Id::reset() {
    if (id_ >= 0 && close_ != nullptr) close_(id_);
    id_ = H5I_INVALID_HID;
}

QuietErrors::QuietErrors() {
    // Before HDF5's first call: no atexit handler. After some failed opens of damaged files HDF5 1.10 cannot
    // shut down cleanly and would print "HDF5: infinite loop closing library" at exit; we hold nothing to
    // flush.
    H5dont_atexit();
    H5Eget_auto2(H5E_DEFAULT, &saved_func_, &saved_data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    // A dataset may name any filter id; HDF5 would then dlopen plugins from HDF5_PLUGIN_PATH. Built-in
    // filters only.
    H5PLset_loading_state(0);
}

QuietErrors::~QuietErrors() {
    H5Eclear2(H5E_DEFAULT);
    H5Eset_auto2(H5E_DEFAULT, saved_func_, saved_data_);
}

std::string printable(const std::string& text, size_t max_chars) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    size_t shown = 0;
    for (size_t i = 0; i < text.size(); ++shown) {
        if (shown == max_chars) return out + "...";
        const auto c = static_cast<unsigned char>(text[i]);
        size_t length = 0;
        if (c >= 0x20 && c < 0x7f)
            length = 1;
        else if (c >= 0xc2 && c <= 0xdf)
            length = 2;
        else if (c >= 0xe0 && c <= 0xef)
            length = 3;
        else if (c >= 0xf0 && c <= 0xf4)
            length = 4;
        bool valid = length > 0 && i + length <= text.size();
        for (size_t k = 1; valid && k < length; ++k)
            valid = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
        if (valid && length == 3) {  // no overlong forms, no surrogates
            const auto c1 = static_cast<unsigned char>(text[i + 1]);
            valid = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);
        }
        if (valid && length == 4) {
            const auto c1 = static_cast<unsigned char>(text[i + 1]);
            valid = !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
        }
        if (valid) {
            out.append(text, i, length);
            i += length;
        } else {
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
            ++i;
        }
    }
    return out;
}

std::string join_path(const std::string& parent, const std::string& child) {
    if (parent.empty()) return child;
    if (child.empty()) return parent;
    return parent + "/" + child;
}

Reader::Reader(Id file, std::string where, std::string inner, uint64_t file_size)
    : file_(std::move(file)),
      where_(std::move(where)),
      inner_(std::move(inner)),
      file_size_(file_size),
      budget_(file_size) {}

std::string Reader::place_text(const std::string& place) const {
    if (place.empty()) return inner_.empty() ? std::string() : inner_.substr(0, inner_.size() - 1);
    return inner_ + printable(place);
}

void Reader::fail(const std::string& place, const std::string& why) const {
    const std::string at = place_text(place);
    throw Error::at(ErrorKind::input, where_, at, why, false);
}

Reader Reader::open_file(const std::string& path, const std::string& where) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0)
        throw Error(ErrorKind::input, where + ": cannot open: " + std::strerror(errno));
    if (!S_ISREG(info.st_mode)) throw Error(ErrorKind::input, where + ": not a regular file");
    Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    if (!fapl || H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG) < 0 ||
        H5Pset_file_locking(fapl.get(), false, true) < 0)
        throw Error(ErrorKind::input, where + ": cannot set up the HDF5 reader" + hdf5_detail());
    Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose);
    if (!file) throw Error(ErrorKind::input, where + ": not a readable HDF5 file" + hdf5_detail());
    return Reader(std::move(file), where, "", static_cast<uint64_t>(info.st_size));
}

Reader Reader::open_image(const std::string& image, const std::string& where, const std::string& inner) {
    const std::string at = where + ": " + inner;
    if (image.empty()) throw Error(ErrorKind::input, at + ": empty, not an HDF5 file");
    // The core driver over the zip entry's bytes, read only and never copied: no temporary file.
    auto view =
        std::make_unique<ImageView>(ImageView{image.data(), image.size()});  // lives as long as the file
    H5FD_file_image_callbacks_t callbacks{image_malloc,     image_memcpy,     image_realloc, image_free,
                                          image_udata_copy, image_udata_free, view.get()};
    Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    if (!fapl || H5Pset_fapl_core(fapl.get(), size_t{1} << 16, false) < 0 ||
        H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG) < 0 ||
        H5Pset_file_image_callbacks(fapl.get(), &callbacks) < 0 ||
        H5Pset_file_image(fapl.get(), const_cast<char*>(image.data()), image.size()) < 0)
        throw Error(ErrorKind::input, at + ": cannot set up the HDF5 reader" + hdf5_detail());
    // The core driver tells files apart by name: one per image (its address) while it is open.
    const std::string name = "c1r-image-" + std::to_string(reinterpret_cast<uintptr_t>(image.data()));
    Id file(H5Fopen(name.c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose);
    if (!file) throw Error(ErrorKind::input, at + ": not a readable HDF5 file" + hdf5_detail());
    Reader reader(std::move(file), where, inner + "/", image.size());
    reader.image_ = std::move(view);
    return reader;
}

std::optional<Id> Reader::find(hid_t loc, const std::string& loc_path, const std::string& path) const {
    Id lapl(H5Pcreate(H5P_LINK_ACCESS), H5Pclose);
    if (!lapl || H5Pset_elink_cb(lapl.get(), refuse_external_link, nullptr) < 0)
        fail(loc_path, "cannot set up the HDF5 reader" + hdf5_detail());
    Id current;
    hid_t at = loc;
    std::string at_path = loc_path;
    for (const std::string& part : split_path(path)) {
        const std::string part_path = join_path(at_path, part);
        const htri_t exists = H5Lexists(at, part.c_str(), lapl.get());
        if (exists < 0) fail(part_path, "cannot read the link" + hdf5_detail());
        if (exists == 0) return std::nullopt;
        H5L_info_t link{};
        if (H5Lget_info(at, part.c_str(), &link, lapl.get()) < 0)
            fail(part_path, "cannot read the link" + hdf5_detail());
        if (link.type != H5L_TYPE_HARD && link.type != H5L_TYPE_SOFT)
            fail(part_path, "an external or user-defined link (not followed)");
        Id next(H5Oopen(at, part.c_str(), lapl.get()), H5Oclose);
        if (!next) fail(part_path, "cannot open" + hdf5_detail());
        current = std::move(next);
        at = current.get();
        at_path = part_path;
    }
    if (!current) {  // an empty path: the location itself
        Id self(H5Oopen(loc, ".", lapl.get()), H5Oclose);
        if (!self) fail(loc_path, "cannot open" + hdf5_detail());
        return self;
    }
    return current;
}

bool Reader::is_group(hid_t object) const { return H5Iget_type(object) == H5I_GROUP; }

Id Reader::open_group(hid_t loc, const std::string& loc_path, const std::string& path) const {
    const std::string place = join_path(loc_path, path);
    std::optional<Id> found = find(loc, loc_path, path);
    if (!found) fail(place, "missing group");
    if (!is_group(found->get())) fail(place, "not a group");
    return std::move(*found);
}

uint64_t Reader::link_count(hid_t group, const std::string& place, uint64_t limit) const {
    H5G_info_t info{};
    if (H5Gget_info(group, &info) < 0) fail(place, "cannot read the group" + hdf5_detail());
    if (info.nlinks > limit)
        fail(place, "holds " + std::to_string(info.nlinks) + " links, more than " + std::to_string(limit));
    return info.nlinks;
}

bool Reader::has_attribute(hid_t object, const std::string& name) const {
    const htri_t exists = H5Aexists(object, name.c_str());
    return exists > 0;
}

std::optional<std::vector<std::string>> Reader::strings_attribute(hid_t object, const std::string& place,
                                                                  const std::string& name) const {
    const htri_t exists = H5Aexists(object, name.c_str());
    if (exists < 0) fail(place, "cannot read attribute '" + name + "'" + hdf5_detail());
    if (exists == 0) return std::nullopt;
    const std::string what = "attribute '" + name + "'";
    Id attribute(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
    if (!attribute) fail(place, "cannot open " + what + hdf5_detail());
    Id type(H5Aget_type(attribute.get()), H5Tclose);
    Id space(H5Aget_space(attribute.get()), H5Sclose);
    if (!type || !space) fail(place, "cannot read " + what + hdf5_detail());
    uint64_t count = 0;
    switch (H5Sget_simple_extent_type(space.get())) {
        case H5S_SCALAR:
            count = 1;
            break;
        case H5S_NULL:
            count = 0;
            break;
        case H5S_SIMPLE: {
            const hssize_t points = H5Sget_simple_extent_npoints(space.get());
            if (points < 0) fail(place, "cannot read " + what + hdf5_detail());
            count = static_cast<uint64_t>(points);
            break;
        }
        default:
            fail(place, "cannot read the shape of " + what);
    }
    if (count == 0) return std::vector<std::string>{};
    if (H5Tget_class(type.get()) != H5T_STRING)
        fail(place, what + " is not a string (" + type_name(type.get()) + ")");
    if (count > kMaxStrings) fail(place, what + " declares " + std::to_string(count) + " strings");
    const htri_t variable = H5Tis_variable_str(type.get());
    const H5T_cset_t cset = H5Tget_cset(type.get());
    if (variable < 0 || cset < 0) fail(place, "cannot read the type of " + what + hdf5_detail());
    std::vector<std::string> values;
    values.reserve(count);
    if (variable > 0) {
        if (count * 16 > file_size_) fail(place, what + " declares more strings than the file can hold");
        Id memory(H5Tcopy(H5T_C_S1), H5Tclose);
        if (!memory || H5Tset_size(memory.get(), H5T_VARIABLE) < 0 || H5Tset_cset(memory.get(), cset) < 0)
            fail(place, "cannot read " + what + hdf5_detail());
        std::vector<char*> pointers(count, nullptr);
        const herr_t read = H5Aread(attribute.get(), memory.get(), pointers.data());
        const std::string detail = read < 0 ? hdf5_detail() : std::string();
        for (char* text : pointers) values.emplace_back(text == nullptr ? "" : text);
        H5Dvlen_reclaim(memory.get(), space.get(), H5P_DEFAULT,
                        pointers.data());  // safe on nulls after a failure
        if (read < 0) fail(place, "cannot read " + what + detail);
    } else {
        const size_t size = H5Tget_size(type.get());
        if (size == 0) fail(place, "cannot read the type of " + what + hdf5_detail());
        if (size > file_size_ || count > file_size_ / size)
            fail(place, what + " declares " + std::to_string(count) + " strings of " + std::to_string(size) +
                            " bytes, more than the file holds");
        const H5T_str_t pad = H5Tget_strpad(type.get());
        Id memory(H5Tcopy(H5T_C_S1), H5Tclose);
        if (!memory || H5Tset_size(memory.get(), size) < 0 || H5Tset_cset(memory.get(), cset) < 0 ||
            H5Tset_strpad(memory.get(), pad == H5T_STR_ERROR ? H5T_STR_NULLPAD : pad) < 0)
            fail(place, "cannot read " + what + hdf5_detail());
        std::string buffer(count * size, '\0');
        if (H5Aread(attribute.get(), memory.get(), buffer.data()) < 0)
            fail(place, "cannot read " + what + hdf5_detail());
        for (uint64_t i = 0; i < count; ++i) {
            std::string text = buffer.substr(i * size, size);
            text.resize(std::strlen(text.c_str()));  // NULLTERM and NULLPAD end at the first NUL
            if (pad == H5T_STR_SPACEPAD) {
                while (!text.empty() && text.back() == ' ') text.pop_back();
            }
            values.push_back(std::move(text));
        }
    }
    return values;
}

std::optional<std::vector<std::string>> Reader::chunked_strings_attribute(hid_t object,
                                                                          const std::string& place,
                                                                          const std::string& name) const {
    if (has_attribute(object, name)) return strings_attribute(object, place, name);
    if (!has_attribute(object, name + "0")) return strings_attribute(object, place, name);
    std::vector<std::string> all;
    for (int chunk = 0; has_attribute(object, name + std::to_string(chunk)); ++chunk) {
        if (chunk >= 100000) fail(place, "attribute '" + name + "' is split into too many parts");
        std::optional<std::vector<std::string>> part =
            strings_attribute(object, place, name + std::to_string(chunk));
        for (std::string& value : *part) all.push_back(std::move(value));
        if (all.size() > kMaxStrings) fail(place, "attribute '" + name + "' holds too many strings");
    }
    return all;
}

std::optional<std::string> Reader::string_attribute(hid_t object, const std::string& place,
                                                    const std::string& name) const {
    std::optional<std::vector<std::string>> values = strings_attribute(object, place, name);
    if (!values) return std::nullopt;
    if (values->size() != 1)
        fail(place,
             "attribute '" + name + "' holds " + std::to_string(values->size()) + " strings, expected one");
    return std::move(values->front());
}

WeightArray Reader::read_floats(hid_t loc, const std::string& loc_path, const std::string& path) const {
    const std::string place = join_path(loc_path, path);
    std::optional<Id> found = find(loc, loc_path, path);
    if (!found) fail(place, "missing dataset");
    if (H5Iget_type(found->get()) != H5I_DATASET) fail(place, "not a dataset");
    const hid_t dataset = found->get();
    Id type(H5Dget_type(dataset), H5Tclose);
    Id space(H5Dget_space(dataset), H5Sclose);
    Id dcpl(H5Dget_create_plist(dataset), H5Pclose);
    if (!type || !space || !dcpl) fail(place, "cannot read the dataset's header" + hdf5_detail());
    if (!is_ieee_float(type.get()))
        fail(place, "dtype " + type_name(type.get()) + " is not a float type (float16, float32 or float64)");
    const uint64_t element_size = H5Tget_size(type.get());

    WeightArray array;
    const H5S_class_t space_class = H5Sget_simple_extent_type(space.get());
    if (space_class == H5S_NULL) fail(place, "holds no data (null dataspace)");
    if (space_class != H5S_SCALAR && space_class != H5S_SIMPLE)
        fail(place, "cannot read the dataset's shape");
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0) fail(place, "cannot read the dataset's shape" + hdf5_detail());
    if (rank > kMaxRank) fail(place, "rank " + std::to_string(rank) + " is over " + std::to_string(kMaxRank));
    std::array<hsize_t, H5S_MAX_RANK> dims{};
    if (rank > 0 && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0)
        fail(place, "cannot read the dataset's shape" + hdf5_detail());
    uint64_t elements = 1;
    for (int i = 0; i < rank; ++i) {
        if (dims[i] > kMaxElements || (dims[i] > 0 && elements > kMaxElements / dims[i]))
            fail(place, "declares more than 2^31 values");
        elements *= dims[i];
        array.shape.push_back(static_cast<int64_t>(dims[i]));
    }
    if (elements > kMaxElements) fail(place, "declares more than 2^31 values");
    const uint64_t bytes = elements * element_size;
    const std::string declared =
        "shape " + shape_text(array.shape) + " needs " + std::to_string(bytes) + " bytes";

    if (H5Pget_external_count(dcpl.get()) > 0) fail(place, "raw data in external files (not read)");
    uint64_t stored = 0;  // bytes of the file this dataset's data occupies
    switch (H5Pget_layout(dcpl.get())) {
        case H5D_CONTIGUOUS: {
            const haddr_t offset = H5Dget_offset(dataset);
            if (offset == HADDR_UNDEF) {
                if (bytes > 0) fail(place, declared + " but no data is stored");
            } else if (offset > file_size_ || bytes > file_size_ - offset) {
                fail(place, declared + " at offset " + std::to_string(offset) +
                                ", past the end of the file (" + std::to_string(file_size_) + " bytes)");
            }
            stored = bytes;
            break;
        }
        case H5D_COMPACT: {
            stored = H5Dget_storage_size(dataset);
            if (stored < bytes) fail(place, declared + " but stores " + std::to_string(stored));
            break;
        }
        case H5D_CHUNKED: {
            stored = H5Dget_storage_size(dataset);
            if (stored > file_size_ || bytes > stored * kMaxChunkedRatio + kChunkedSlack)
                fail(place, declared + " but stores only " + std::to_string(stored) +
                                " (file: " + std::to_string(file_size_) + " bytes)");
            break;
        }
        case H5D_VIRTUAL:
            fail(place, "a virtual dataset (not read)");
        default:
            fail(place, "unknown storage layout" + hdf5_detail());
    }
    if (stored > budget_) fail(place, "datasets overlap: more data declared than the file holds");
    budget_ -= stored;

    array.values.resize(elements);
    if (elements > 0 &&
        H5Dread(dataset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, array.values.data()) < 0)
        fail(place, "cannot read the values" + hdf5_detail());
    return array;
}

}  // namespace c1r::h5
