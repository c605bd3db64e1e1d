// TensorFlow.js model.json with its weightsManifest and .bin shards (little-endian, optional uint8/uint16
// quantization; docs/keras-files.md).

#include "import/keras_file_parts.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

namespace c1r::kfile {
namespace {

using nlohmann::json;
using h5::printable;


float half_to_float(uint16_t half) {
    const int sign = (half >> 15) & 1;
    const int exponent = (half >> 10) & 0x1f;
    const int mantissa = half & 0x3ff;
    float value = 0.0f;
    if (exponent == 0)
        value = std::ldexp(static_cast<float>(mantissa), -24);
    else if (exponent == 31)
        value =
            mantissa != 0 ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
    else
        value = std::ldexp(static_cast<float>(mantissa + 1024), exponent - 25);
    return sign ? -value : value;
}

struct ManifestEntry {
    std::string name;
    std::string place;
    std::vector<int64_t> shape;
    uint64_t elements = 1;
    std::string stored;  // "float32", "float16", "uint8", "uint16"
    double scale = 1.0;
    double min = 0.0;
    uint64_t bytes = 0;
};

ManifestEntry manifest_entry(const json& weight, const std::string& where, const std::string& place) {
    ManifestEntry entry;
    entry.place = place;
    if (!weight.is_object()) fail(where, place, "not an object");
    entry.name = string_member(weight, "name");
    if (entry.name.empty()) fail(where, place, "no name");
    entry.place = place + " (" + printable(entry.name) + ")";
    const json* shape = member(weight, "shape");
    if (shape == nullptr || !shape->is_array() || shape->size() > 8)
        fail(where, entry.place, "shape is not a list of at most 8 sizes");
    for (const json& dim : *shape) {
        if (!dim.is_number_integer() || dim.get<int64_t>() < 0)
            fail(where, entry.place, "shape holds a non-size");
        const auto size = dim.get<uint64_t>();
        if (size > kMaxElements || (size > 0 && entry.elements > kMaxElements / size))
            fail(where, entry.place, "declares more than 2^31 values");
        entry.elements *= size;
        entry.shape.push_back(static_cast<int64_t>(size));
    }
    const std::string dtype = string_member(weight, "dtype");
    if (dtype != "float32" && dtype != "float16")
        fail(where, entry.place, "dtype " + in_quotes(dtype) + " is not a float type (float32 or float16)");
    entry.stored = dtype;
    if (const json* quantization = member(weight, "quantization")) {
        entry.stored = string_member(*quantization, "dtype");
        if (entry.stored == "uint8" || entry.stored == "uint16") {
            const json* scale = member(*quantization, "scale");
            const json* min = member(*quantization, "min");
            if (scale == nullptr || min == nullptr || !scale->is_number() || !min->is_number())
                fail(where, entry.place, "quantization without numeric scale and min");
            entry.scale = scale->get<double>();
            entry.min = min->get<double>();
            if (!std::isfinite(entry.scale) || !std::isfinite(entry.min))
                fail(where, entry.place, "quantization scale or min is not finite");
        } else if (entry.stored != "float16") {
            fail(where, entry.place,
                 "quantization dtype " + in_quotes(entry.stored) + " (expected uint8, uint16 or float16)");
        }
    }
    const uint64_t width = entry.stored == "float32" ? 4 : entry.stored == "uint8" ? 1 : 2;
    entry.bytes = entry.elements * width;
    return entry;
}

WeightArray decode_entry(const ManifestEntry& entry, const unsigned char* data) {
    WeightArray array;
    array.shape = entry.shape;
    array.values.resize(entry.elements);
    for (uint64_t i = 0; i < entry.elements; ++i) {
        float value = 0.0f;
        if (entry.stored == "float32") {
            const unsigned char* p = data + i * 4;
            const uint32_t bits =
                uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
            std::memcpy(&value, &bits, sizeof value);
        } else if (entry.stored == "float16") {
            const unsigned char* p = data + i * 2;
            value = half_to_float(static_cast<uint16_t>(p[0] | p[1] << 8));
        } else {
            const unsigned q =
                entry.stored == "uint8" ? data[i] : static_cast<unsigned>(data[i * 2] | data[i * 2 + 1] << 8);
            const double exact = q * entry.scale + entry.min;
            constexpr double kMax = std::numeric_limits<float>::max();  // past it a float cast is undefined
            value = exact > kMax    ? std::numeric_limits<float>::infinity()
                    : exact < -kMax ? -std::numeric_limits<float>::infinity()
                                    : static_cast<float>(exact);
        }
        array.values[i] = value;
    }
    return array;
}

bool unsafe_relative_path(const std::string& path) {
    if (path.empty() || path[0] == '/' || path.find('\\') != std::string::npos ||
        path.find('\0') != std::string::npos)
        return true;
    for (const std::string& part : split(path, '/'))
        if (part == "..") return true;
    return false;
}

}  // namespace

KerasModelFile read_tfjs(const std::string& path) {
    const json document = parse_json(read_whole_file(path, path, kMaxJsonBytes), path, "");
    KerasModelFile result;
    result.format = "tfjs";
    const json* topology = member(document, "modelTopology");
    const json* manifest = member(document, "weightsManifest");
    if (topology == nullptr || !topology->is_object())
        fail(path, "modelTopology", "missing or not an object");
    if (manifest == nullptr || !manifest->is_array()) fail(path, "weightsManifest", "missing or not a list");
    const json* model = member(*topology, "model_config");
    json parsed;
    if (model != nullptr && model->is_string()) {
        parsed = parse_json(model->get<std::string>(), path, "modelTopology.model_config");
        model = &parsed;
    }
    result.model = model != nullptr ? *model : *topology;
    if (!result.model.is_object() || !member(result.model, "class_name"))
        fail(path, "modelTopology", "not a Keras model (no class_name)");
    result.keras_version = string_member(*topology, "keras_version");
    if (result.keras_version.empty()) result.keras_version = string_member(result.model, "keras_version");
    const std::string generated_by = string_member(document, "generatedBy");
    if (result.keras_version.empty() && starts_with(generated_by, "keras v"))
        result.keras_version = generated_by.substr(7);

    std::map<std::string, LayerRef> index;
    index_layers(result.model, index, 0);
    std::set<std::string> candidates;
    for (const auto& [name, ref] : index) candidates.insert(name);
    const fs::path folder = fs::path(path).parent_path();

    for (size_t g = 0; g < manifest->size(); ++g) {
        const json& group = (*manifest)[g];
        const std::string group_place = "weightsManifest[" + std::to_string(g) + "]";
        const json* paths = member(group, "paths");
        const json* weights = member(group, "weights");
        if (paths == nullptr || !paths->is_array() || weights == nullptr || !weights->is_array())
            fail(path, group_place, "needs the lists 'paths' and 'weights'");
        std::vector<ManifestEntry> entries;
        uint64_t needed = 0;
        for (size_t w = 0; w < weights->size(); ++w) {
            entries.push_back(
                manifest_entry((*weights)[w], path, group_place + ".weights[" + std::to_string(w) + "]"));
            needed += entries.back().bytes;
            if (needed > kMaxWeightsBytes) fail(path, group_place, "declares more than 2 GiB of weights");
        }
        std::vector<std::string> shards;
        uint64_t available = 0;
        for (size_t s = 0; s < paths->size(); ++s) {
            const std::string shard_place = group_place + ".paths[" + std::to_string(s) + "]";
            const json& shard = (*paths)[s];
            if (!shard.is_string() || unsafe_relative_path(shard.get<std::string>()))
                fail(path, shard_place, "not a relative path inside the model's folder");
            const std::string shard_path = (folder / shard.get<std::string>()).string();
            struct stat info {};
            if (::stat(shard_path.c_str(), &info) != 0)
                fail(path, shard_place,
                     "cannot open " + in_quotes(shard.get<std::string>()) + ": " + std::strerror(errno));
            if (!S_ISREG(info.st_mode))
                fail(path, shard_place, in_quotes(shard.get<std::string>()) + " is not a regular file");
            available += static_cast<uint64_t>(info.st_size);
            if (available > kMaxWeightsBytes) fail(path, group_place, "shards hold more than 2 GiB");
            shards.push_back(shard_path);
        }
        if (available != needed)
            fail(path, group_place,
                 "shards hold " + std::to_string(available) + " bytes, the weights need " +
                     std::to_string(needed));
        std::string bytes;
        bytes.reserve(needed);
        for (const std::string& shard : shards) bytes += read_whole_file(shard, shard, kMaxWeightsBytes);
        if (bytes.size() != needed) fail(path, group_place, "shards changed while being read");
        uint64_t offset = 0;
        for (const ManifestEntry& entry : entries) {
            const std::vector<std::string> parts = split(entry.name, '/');
            const std::string fallback = parts.size() > 1 ? parts.front() : std::string();
            const std::string key = weight_key(parts, candidates, fallback, index, path, entry.place);
            put(result.weights, key, short_variable(parts.back()),
                decode_entry(entry, reinterpret_cast<const unsigned char*>(bytes.data()) + offset), path,
                entry.place);
            offset += entry.bytes;
        }
    }
    return result;
}

}  // namespace c1r::kfile
