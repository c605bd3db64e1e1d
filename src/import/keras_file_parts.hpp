// What the Keras model-file readers share (import/keras_file.cpp dispatches to keras_h5.cpp, keras_zip.cpp
// and keras_tfjs.cpp): limits, one-line failures, JSON members, the architecture's layers by name and the
// checks on names that become folders. Internal to import/.
#pragma once

#include "core/strings.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "import/h5_reader.hpp"
#include "import/keras_file.hpp"

namespace c1r::kfile {

namespace fs = std::filesystem;
using nlohmann::json;

inline constexpr uint64_t kMaxJsonBytes = uint64_t{64} << 20;
inline constexpr uint64_t kMaxWeightsBytes = uint64_t{2} << 30;
inline constexpr uint64_t kMaxElements = uint64_t{1} << 31;
inline constexpr int kMaxNesting = 32;
inline constexpr char kHdf5Signature[] = "\x89HDF\r\n\x1a\n";

using h5::printable;

[[noreturn]] inline void fail(const std::string& where, const std::string& place, const std::string& why) {
    throw Error::at(ErrorKind::input, where, place, why, false);
}

inline std::string in_quotes(const std::string& name) { return "'" + printable(name) + "'"; }


inline std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
        const size_t end = text.find(separator, start);
        parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos) return parts;
        start = end + 1;
    }
}

// ---- JSON
// ---------------------------------------------------------------------------------------------------

inline const json* member(const json& object, const char* key) {
    if (!object.is_object()) return nullptr;
    const auto found = object.find(key);
    return found == object.end() ? nullptr : &*found;
}

inline std::string string_member(const json& object, const char* key) {
    const json* value = member(object, key);
    return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

inline bool bool_member(const json& object, const char* key, bool fallback) {
    const json* value = member(object, key);
    return value != nullptr && value->is_boolean() ? value->get<bool>() : fallback;
}

inline json parse_json(const std::string& text, const std::string& where, const std::string& place) {
    json document = json::parse(text, nullptr, false);
    if (document.is_discarded()) fail(where, place, "not valid JSON");
    return document;
}

inline std::string read_whole_file(const std::string& path, const std::string& where, uint64_t max_bytes) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0)
        fail(where, "", std::string("cannot open: ") + std::strerror(errno));
    if (!S_ISREG(info.st_mode)) fail(where, "", "not a regular file");
    const auto size = static_cast<uint64_t>(info.st_size);
    if (size > max_bytes)
        fail(where, "", std::to_string(size) + " bytes, over the limit of " + std::to_string(max_bytes));
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(where, "", std::string("cannot open: ") + std::strerror(errno));
    std::string bytes(size, '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(size));
    if (static_cast<uint64_t>(in.gcount()) != size) fail(where, "", "cannot read the whole file");
    return bytes;
}

// ---- The architecture: layers by name
// -------------------------------------------------------------------------

inline std::string layer_name(const json& layer) {
    if (const json* config = member(layer, "config")) {
        const std::string name = string_member(*config, "name");
        if (!name.empty()) return name;
    }
    return string_member(layer, "name");
}

// A model's (or Keras 1 Merge's) list of layers: "config" itself (Keras < 2.2.3 Sequential) or
// "config.layers".
inline const json* layer_list(const json& model) {
    const json* config = member(model, "config");
    if (config == nullptr) return nullptr;
    if (config->is_array()) return config;
    const json* layers = member(*config, "layers");
    return layers != nullptr && layers->is_array() ? layers : nullptr;
}

struct LayerRef {
    const json* layer = nullptr;
    std::string class_name;
};

// Every layer of the model by name, nested models included (Keras keeps names unique model-wide); the layers
// a wrapper holds are reached through the wrapper.
inline void index_layers(const json& model, std::map<std::string, LayerRef>& index, int depth) {
    const json* layers = layer_list(model);
    if (layers == nullptr || depth > kMaxNesting) return;
    for (const json& layer : *layers) {
        const std::string name = layer_name(layer);
        if (!name.empty()) index.emplace(name, LayerRef{&layer, string_member(layer, "class_name")});
        index_layers(layer, index, depth + 1);
    }
}

inline void inner_names(const json& model, std::set<std::string>& names, int depth) {
    const json* layers = layer_list(model);
    if (layers == nullptr || depth > kMaxNesting) return;
    for (const json& layer : *layers) {
        names.insert(layer_name(layer));
        inner_names(layer, names, depth + 1);
    }
}

inline const LayerRef* find_layer(const std::map<std::string, LayerRef>& index, const std::string& name) {
    const auto found = index.find(name);
    return found == index.end() ? nullptr : &found->second;
}

inline bool is_conv1d_class(const std::string& name) {
    return name == "Conv1D" || name == "Convolution1D" || name == "AtrousConvolution1D";
}

inline bool is_rnn_class(const std::string& name) { return name == "LSTM" || name == "GRU" || name == "SimpleRNN"; }

// Layer and variable names become folder and file names downstream: no control characters, no '.'/'..' parts.
inline void check_name(const std::string& name, const std::string& where, const std::string& place,
                const char* what) {
    bool usable = !name.empty();
    for (unsigned char c : name) usable = usable && c >= 0x20 && c != 0x7f;
    for (const std::string& part : split(name, '/'))
        usable = usable && !part.empty() && part != "." && part != "..";
    if (!usable) fail(where, place, std::string("unusable ") + what + " name " + in_quotes(name));
}

inline void put(NamedWeights& weights, const std::string& key, const std::string& variable, WeightArray array,
         const std::string& where, const std::string& place) {
    check_name(key, where, place, "layer");
    check_name(variable, where, place, "variable");
    auto& layer = weights[key];
    if (layer.count(variable) != 0)
        fail(where, place, "layer " + in_quotes(key) + " has variable " + in_quotes(variable) + " twice");
    layer.emplace(variable, std::move(array));
}

// "kernel:0" -> "kernel"
inline std::string short_variable(const std::string& last) {
    const size_t colon = last.rfind(':');
    if (colon == std::string::npos || colon + 1 == last.size()) return last;
    for (size_t i = colon + 1; i < last.size(); ++i)
        if (last[i] < '0' || last[i] > '9') return last;
    return last.substr(0, colon);
}

// The layer a weight path belongs to: the deepest path component naming one of `candidates` (the layer whose
// group holds it, or a layer of the nested model it is), else `fallback`; a Bidirectional's weights go to the
// forward_/backward_ component below it.
inline std::string weight_key(const std::vector<std::string>& parts, const std::set<std::string>& candidates,
                       const std::string& fallback, const std::map<std::string, LayerRef>& index,
                       const std::string& where, const std::string& place) {
    int match = -1;
    for (size_t j = 0; j + 1 < parts.size(); ++j)
        if (candidates.count(parts[j]) != 0) match = static_cast<int>(j);
    const std::string base = match >= 0 ? parts[match] : fallback;
    if (base.empty()) fail(where, place, "cannot tell which layer the weight belongs to");
    const LayerRef* ref = find_layer(index, base);
    // Without an architecture (a weights-only file) the forward_/backward_ components alone say it.
    const bool bidirectional = ref != nullptr ? ref->class_name == "Bidirectional" : index.empty();
    if (bidirectional) {
        for (size_t k = static_cast<size_t>(match + 1); k + 1 < parts.size(); ++k)
            if (starts_with(parts[k], "forward_") || starts_with(parts[k], "backward_"))
                return base + "/" + parts[k];
        if (ref != nullptr)
            fail(where, place,
                 "a weight of Bidirectional " + in_quotes(base) + " under neither forward_ nor backward_");
    }
    return base;
}

// ---- Array helpers for the Keras 1 conversions ------------------------------------------------------------

inline std::string shape_text(const std::vector<int64_t>& shape) {
    std::string out = "(";
    for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
    return out + (shape.size() == 1 ? ",)" : ")");
}


KerasModelFile read_h5(const std::string& path);         // Keras 1/2/3 .h5 (import/keras_h5.cpp)
KerasModelFile read_keras_zip(const std::string& path);  // Keras 3 .keras (import/keras_zip.cpp)
KerasModelFile read_tfjs(const std::string& path);       // TensorFlow.js model.json (import/keras_tfjs.cpp)

}  // namespace c1r::kfile
