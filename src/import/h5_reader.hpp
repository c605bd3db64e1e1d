// Checked, read-only access to an HDF5 file through the C API: objects by path, string attributes and float
// datasets, each size checked against the file before anything is allocated; every failure an Error(input).
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "import/keras_file.hpp"

namespace c1r::h5 {

// Owns one HDF5 identifier and closes it with the matching H5*close.
class Id {
public:
    Id() = default;
    Id(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
    Id(Id&& other) noexcept : id_(other.id_), close_(other.close_) { other.id_ = H5I_INVALID_HID; }
    Id& operator=(Id&& other) noexcept;
    Id(const Id&) = delete;
    Id& operator=(const Id&) = delete;
    ~Id() { reset(); }

    hid_t get() const { return id_; }
    explicit operator bool() const { return id_ >= 0; }
    void reset();

private:
    hid_t id_ = H5I_INVALID_HID;
    herr_t (*close_)(hid_t) = nullptr;
};

// The bytes of an in-memory HDF5 image, as its file-image callbacks see them.
struct ImageView {
    const void* data;
    size_t size;
};

// Turns off HDF5's automatic error printing (and filter plugin loading) while it lives: a malformed file
// gives our one-line error, never HDF5's error stack on stderr.
class QuietErrors {
public:
    QuietErrors();
    QuietErrors(const QuietErrors&) = delete;
    QuietErrors& operator=(const QuietErrors&) = delete;
    ~QuietErrors();

private:
    H5E_auto2_t saved_func_ = nullptr;
    void* saved_data_ = nullptr;
};

// An open file. Messages read "<where>: <inner><place>: <why>", e.g. "m.keras: model.weights.h5/layers/dense:
// ...".
class Reader {
public:
    // A file on disk: read only, no file locking, every object closed with the file.
    static Reader open_file(const std::string& path, const std::string& where);
    // An HDF5 image in memory (a zip entry) through the core driver; `image` is not copied (no temporary
    // file) and must outlive the reader.
    static Reader open_image(const std::string& image, const std::string& where, const std::string& inner);

    hid_t root() const { return file_.get(); }

    // Follows `path` ('/'-separated, relative to `loc`) through hard and soft links only; empty when a
    // component is missing. Throws when a component is an external link or the file is damaged.
    std::optional<Id> find(hid_t loc, const std::string& loc_path, const std::string& path) const;
    Id open_group(hid_t loc, const std::string& loc_path, const std::string& path) const;
    bool is_group(hid_t object) const;

    // Number of links in a group (refused over `limit`).
    uint64_t link_count(hid_t group, const std::string& place, uint64_t limit) const;

    bool has_attribute(hid_t object, const std::string& name) const;
    // A string attribute's values (scalar: one); an empty numeric array gives none (Keras writes weightless
    // layers' weight_names so). Missing: nullopt.
    std::optional<std::vector<std::string>> strings_attribute(hid_t object, const std::string& place,
                                                              const std::string& name) const;
    // A list attribute that Keras splits into name0, name1, ... when it would not fit one object header.
    std::optional<std::vector<std::string>> chunked_strings_attribute(hid_t object, const std::string& place,
                                                                      const std::string& name) const;
    // One string from a scalar (or one-element) string attribute.
    std::optional<std::string> string_attribute(hid_t object, const std::string& place,
                                                const std::string& name) const;

    // A float16/32/64 dataset as float32, after checking its type, rank, element count and that its declared
    // storage lies inside the file.
    WeightArray read_floats(hid_t loc, const std::string& loc_path, const std::string& path) const;

    [[noreturn]] void fail(const std::string& place, const std::string& why) const;
    std::string place_text(const std::string& place) const;

private:
    Reader(Id file, std::string where, std::string inner, uint64_t file_size);

    std::unique_ptr<ImageView> image_;  // declared before file_: the file closes first
    Id file_;
    std::string where_;
    std::string inner_;
    uint64_t file_size_ = 0;
    mutable uint64_t budget_ = 0;  // bytes of values still allowed (bounded by the file size)
};

std::string join_path(const std::string& parent, const std::string& child);
// Untrusted names in messages: printable ASCII and valid UTF-8 kept, anything else escaped, long names cut.
std::string printable(const std::string& text, size_t max_chars = 120);

}  // namespace c1r::h5
