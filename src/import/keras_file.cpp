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

namespace c1r {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr uint64_t kMaxJsonBytes = uint64_t{64} << 20;
constexpr uint64_t kMaxWeightsBytes = uint64_t{2} << 30;
constexpr uint64_t kMaxElements = uint64_t{1} << 31;
constexpr int kMaxNesting = 32;
constexpr char kHdf5Signature[] = "\x89HDF\r\n\x1a\n";

using h5::printable;

[[noreturn]] void fail(const std::string& where, const std::string& place, const std::string& why) {
    throw Error(ErrorKind::input, where + ": " + (place.empty() ? "" : place + ": ") + why);
}

std::string in_quotes(const std::string& name) { return "'" + printable(name) + "'"; }

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

std::vector<std::string> split(const std::string& text, char separator) {
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

const json* member(const json& object, const char* key) {
    if (!object.is_object()) return nullptr;
    const auto found = object.find(key);
    return found == object.end() ? nullptr : &*found;
}

std::string string_member(const json& object, const char* key) {
    const json* value = member(object, key);
    return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

bool bool_member(const json& object, const char* key, bool fallback) {
    const json* value = member(object, key);
    return value != nullptr && value->is_boolean() ? value->get<bool>() : fallback;
}

json parse_json(const std::string& text, const std::string& where, const std::string& place) {
    json document = json::parse(text, nullptr, false);
    if (document.is_discarded()) fail(where, place, "not valid JSON");
    return document;
}

std::string read_whole_file(const std::string& path, const std::string& where, uint64_t max_bytes) {
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

std::string layer_name(const json& layer) {
    if (const json* config = member(layer, "config")) {
        const std::string name = string_member(*config, "name");
        if (!name.empty()) return name;
    }
    return string_member(layer, "name");
}

// A model's (or Keras 1 Merge's) list of layers: "config" itself (Keras < 2.2.3 Sequential) or
// "config.layers".
const json* layer_list(const json& model) {
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
void index_layers(const json& model, std::map<std::string, LayerRef>& index, int depth) {
    const json* layers = layer_list(model);
    if (layers == nullptr || depth > kMaxNesting) return;
    for (const json& layer : *layers) {
        const std::string name = layer_name(layer);
        if (!name.empty()) index.emplace(name, LayerRef{&layer, string_member(layer, "class_name")});
        index_layers(layer, index, depth + 1);
    }
}

void inner_names(const json& model, std::set<std::string>& names, int depth) {
    const json* layers = layer_list(model);
    if (layers == nullptr || depth > kMaxNesting) return;
    for (const json& layer : *layers) {
        names.insert(layer_name(layer));
        inner_names(layer, names, depth + 1);
    }
}

const LayerRef* find_layer(const std::map<std::string, LayerRef>& index, const std::string& name) {
    const auto found = index.find(name);
    return found == index.end() ? nullptr : &found->second;
}

bool is_conv1d_class(const std::string& name) {
    return name == "Conv1D" || name == "Convolution1D" || name == "AtrousConvolution1D";
}

bool is_rnn_class(const std::string& name) { return name == "LSTM" || name == "GRU" || name == "SimpleRNN"; }

// Layer and variable names become folder and file names downstream: no control characters, no '.'/'..' parts.
void check_name(const std::string& name, const std::string& where, const std::string& place,
                const char* what) {
    bool usable = !name.empty();
    for (unsigned char c : name) usable = usable && c >= 0x20 && c != 0x7f;
    for (const std::string& part : split(name, '/'))
        usable = usable && !part.empty() && part != "." && part != "..";
    if (!usable) fail(where, place, std::string("unusable ") + what + " name " + in_quotes(name));
}

void put(NamedWeights& weights, const std::string& key, const std::string& variable, WeightArray array,
         const std::string& where, const std::string& place) {
    check_name(key, where, place, "layer");
    check_name(variable, where, place, "variable");
    auto& layer = weights[key];
    if (layer.count(variable) != 0)
        fail(where, place, "layer " + in_quotes(key) + " has variable " + in_quotes(variable) + " twice");
    layer.emplace(variable, std::move(array));
}

// "kernel:0" -> "kernel"
std::string short_variable(const std::string& last) {
    const size_t colon = last.rfind(':');
    if (colon == std::string::npos || colon + 1 == last.size()) return last;
    for (size_t i = colon + 1; i < last.size(); ++i)
        if (last[i] < '0' || last[i] > '9') return last;
    return last.substr(0, colon);
}

// The layer a weight path belongs to: the deepest path component naming one of `candidates` (the layer whose
// group holds it, or a layer of the nested model it is), else `fallback`; a Bidirectional's weights go to the
// forward_/backward_ component below it.
std::string weight_key(const std::vector<std::string>& parts, const std::set<std::string>& candidates,
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

std::string shape_text(const std::vector<int64_t>& shape) {
    std::string out = "(";
    for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
    return out + (shape.size() == 1 ? ",)" : ")");
}

// Concatenates along the last axis (numpy.concatenate(..., axis=-1)); all leading dims must agree.
std::optional<WeightArray> concat_last(const std::vector<const WeightArray*>& parts) {
    WeightArray out;
    out.shape = parts.front()->shape;
    if (out.shape.empty()) return std::nullopt;
    int64_t total_last = 0;
    for (const WeightArray* part : parts) {
        if (part->shape.size() != out.shape.size() ||
            !std::equal(part->shape.begin(), part->shape.end() - 1, out.shape.begin()))
            return std::nullopt;
        total_last += part->shape.back();
    }
    out.shape.back() = total_last;
    size_t leading = 1;
    for (size_t i = 0; i + 1 < out.shape.size(); ++i) leading *= static_cast<size_t>(out.shape[i]);
    out.values.reserve(leading * static_cast<size_t>(total_last));
    for (size_t row = 0; row < leading; ++row)
        for (const WeightArray* part : parts) {
            const auto width = static_cast<size_t>(part->shape.back());
            out.values.insert(out.values.end(),
                              part->values.begin() + static_cast<std::ptrdiff_t>(row * width),
                              part->values.begin() + static_cast<std::ptrdiff_t>((row + 1) * width));
        }
    return out;
}

// Keras 1 Conv1D kernel (filter_length, 1, input_dim, nb_filter) -> (filter_length, input_dim, nb_filter);
// the Keras 1.1 layout (nb_filter, input_dim, filter_length, 1) is first transposed (2, 3, 1, 0).
std::optional<WeightArray> keras1_conv1d_kernel(const WeightArray& w, int64_t filter_length,
                                                int64_t filters) {
    if (w.shape.size() != 4) return std::nullopt;
    const auto& s = w.shape;
    const bool known = filter_length > 0 && filters > 0;
    WeightArray out;
    if (s[1] == 1 && (!known || (s[0] == filter_length && s[3] == filters))) {
        out.shape = {s[0], s[2], s[3]};
        out.values = w.values;  // dropping a length-1 axis keeps the C-order values
        return out;
    }
    if (s[3] == 1 && (!known || (s[0] == filters && s[2] == filter_length))) {
        const int64_t nb = s[0], in = s[1], k = s[2];
        out.shape = {k, in, nb};
        out.values.resize(w.values.size());
        for (int64_t f = 0; f < nb; ++f)
            for (int64_t c = 0; c < in; ++c)
                for (int64_t t = 0; t < k; ++t)
                    out.values[static_cast<size_t>((t * in + c) * nb + f)] =
                        w.values[static_cast<size_t>((f * in + c) * k + t)];
        return out;
    }
    return std::nullopt;
}

// Theano-trained kernels are true convolutions: Keras flips their spatial axis when loading them elsewhere.
void flip_first_axis(WeightArray& w) {
    if (w.shape.size() != 3 || w.shape[0] < 2) return;
    const auto k = static_cast<size_t>(w.shape[0]);
    const size_t step = w.values.size() / k;
    for (size_t t = 0; t < k / 2; ++t)
        std::swap_ranges(w.values.begin() + static_cast<std::ptrdiff_t>(t * step),
                         w.values.begin() + static_cast<std::ptrdiff_t>((t + 1) * step),
                         w.values.begin() + static_cast<std::ptrdiff_t>((k - 1 - t) * step));
}

int64_t int_setting(const json* config, const char* keras1_key, const char* keras2_key) {
    if (config == nullptr) return 0;
    for (const char* key : {keras1_key, keras2_key}) {
        const json* value = member(*config, key);
        if (value == nullptr) continue;
        if (value->is_array() && value->size() == 1) value = &(*value)[0];
        if (value->is_number_integer()) return value->get<int64_t>();
    }
    return 0;
}

// ---- Keras 1/2/3 .h5 ------------------------------------------------------------------------------------

struct StoredWeight {
    std::string name;   // as in weight_names
    std::string place;  // the dataset's path, for messages
    WeightArray array;
};

class H5ModelReader {
public:
    H5ModelReader(const std::string& path, const std::map<std::string, LayerRef>& index,
                  NamedWeights& weights)
        : path_(path), index_(index), weights_(weights) {}

    // Keras 1 weights: converted as keras/engine/saving.py::preprocess_weights_for_loading does (by
    // position).
    void add_keras1(const std::string& key, const std::string& class_name, const json* config,
                    std::vector<StoredWeight> stored, const std::string& group_place) {
        const size_t n = stored.size();
        auto expect = [&](bool ok, const std::string& counts) {
            if (!ok)
                fail(path_, group_place,
                     "Keras 1 " + class_name + " " + in_quotes(key) + " has " + std::to_string(n) +
                         " weights, expected " + counts);
        };
        auto name_all = [&](std::initializer_list<const char*> names) {
            size_t i = 0;
            for (const char* name : names) {
                if (i == n) break;
                put(weights_, key, name, std::move(stored[i].array), path_, stored[i].place);
                ++i;
            }
        };
        auto concat = [&](std::initializer_list<size_t> order, const char* variable) {
            std::vector<const WeightArray*> parts;
            for (size_t i : order) parts.push_back(&stored[i].array);
            std::optional<WeightArray> joined = concat_last(parts);
            if (!joined)
                fail(path_, stored[*order.begin()].place,
                     "Keras 1 gate arrays of " + in_quotes(key) + " do not line up");
            put(weights_, key, variable, std::move(*joined), path_, stored[*order.begin()].place);
        };
        const json* inner = config != nullptr ? member(*config, "layer") : nullptr;
        if (class_name == "Bidirectional" && inner != nullptr) {
            expect(n % 2 == 0, "an even count");
            const std::string inner_name = layer_name(*inner);
            std::vector<StoredWeight> backward(
                std::make_move_iterator(stored.begin() + static_cast<std::ptrdiff_t>(n / 2)),
                std::make_move_iterator(stored.end()));
            stored.resize(n / 2);
            const json* inner_config = member(*inner, "config");
            add_keras1(key + "/forward_" + inner_name, string_member(*inner, "class_name"), inner_config,
                       std::move(stored), group_place);
            add_keras1(key + "/backward_" + inner_name, string_member(*inner, "class_name"), inner_config,
                       std::move(backward), group_place);
        } else if (class_name == "TimeDistributed" && inner != nullptr) {
            add_keras1(key, string_member(*inner, "class_name"), member(*inner, "config"), std::move(stored),
                       group_place);
        } else if (is_conv1d_class(class_name)) {
            expect(n == 1 || n == 2, "1 or 2 (W, b)");
            if (stored[0].array.shape.size() == 4) {
                std::optional<WeightArray> kernel =
                    keras1_conv1d_kernel(stored[0].array, int_setting(config, "filter_length", "kernel_size"),
                                         int_setting(config, "nb_filter", "filters"));
                if (!kernel)
                    fail(path_, stored[0].place,
                         "Keras 1 Conv1D kernel shape " + shape_text(stored[0].array.shape) +
                             " fits neither (filter_length, 1, input_dim, nb_filter) nor "
                             "(nb_filter, input_dim, filter_length, 1)");
                stored[0].array = std::move(*kernel);
            }
            name_all({"kernel", "bias"});
        } else if (class_name == "Dense") {
            expect(n == 1 || n == 2, "1 or 2 (W, b)");
            name_all({"kernel", "bias"});
        } else if (class_name == "BatchNormalization") {
            expect(n == 4, "4 (gamma, beta, running_mean, running_std)");
            name_all({"gamma", "beta", "moving_mean", "moving_variance"});  // running_std holds the variance
        } else if (class_name == "Embedding") {
            expect(n == 1, "1 (W)");
            name_all({"embeddings"});
        } else if (class_name == "LSTM") {
            expect(n == 12 || n == 3, "12 (W_i U_i b_i W_c U_c b_c W_f U_f b_f W_o U_o b_o) or 3");
            if (n == 12) {  // old gate order i, c, f, o -> i, f, c, o
                concat({0, 6, 3, 9}, "kernel");
                concat({1, 7, 4, 10}, "recurrent_kernel");
                concat({2, 8, 5, 11}, "bias");
            } else {
                name_all({"kernel", "recurrent_kernel", "bias"});
            }
        } else if (class_name == "GRU") {
            expect(n == 9 || n == 3, "9 (W_z U_z b_z W_r U_r b_r W_h U_h b_h) or 3");
            if (n == 9) {
                concat({0, 3, 6}, "kernel");
                concat({1, 4, 7}, "recurrent_kernel");
                concat({2, 5, 8}, "bias");
            } else {
                name_all({"kernel", "recurrent_kernel", "bias"});
            }
        } else if (class_name == "SimpleRNN") {
            expect(n == 3, "3 (W, U, b)");
            name_all({"kernel", "recurrent_kernel", "bias"});
        } else if (class_name == "PReLU") {
            expect(n == 1, "1 (alphas)");
            name_all({"alpha"});
        } else {
            // Unknown class: Keras 1 names weights "<layer>_<suffix>"; translate the usual suffixes.
            static const std::map<std::string, std::string> kSuffixes = {{"W", "kernel"},
                                                                         {"b", "bias"},
                                                                         {"U", "recurrent_kernel"},
                                                                         {"gamma", "gamma"},
                                                                         {"beta", "beta"},
                                                                         {"running_mean", "moving_mean"},
                                                                         {"running_std", "moving_variance"},
                                                                         {"alphas", "alpha"}};
            for (StoredWeight& weight : stored) {
                std::string variable = short_variable(split(weight.name, '/').back());
                if (starts_with(variable, key + "_")) variable = variable.substr(key.size() + 1);
                const auto known = kSuffixes.find(variable);
                if (known != kSuffixes.end()) variable = known->second;
                put(weights_, key, variable, std::move(weight.array), path_, weight.place);
            }
        }
    }

    void add_named(const std::string& group_name, std::vector<StoredWeight> stored) {
        std::set<std::string> candidates{group_name};
        if (const LayerRef* ref = find_layer(index_, group_name)) inner_names(*ref->layer, candidates, 0);
        for (StoredWeight& weight : stored) {
            const std::vector<std::string> parts = split(weight.name, '/');
            const std::string key = weight_key(parts, candidates, group_name, index_, path_, weight.place);
            put(weights_, key, short_variable(parts.back()), std::move(weight.array), path_, weight.place);
        }
    }

private:
    const std::string& path_;
    const std::map<std::string, LayerRef>& index_;
    NamedWeights& weights_;
};

KerasModelFile read_h5(const std::string& path) {
    h5::QuietErrors quiet;
    h5::Reader reader = h5::Reader::open_file(path, path);
    KerasModelFile result;
    result.format = "h5";
    const hid_t root = reader.root();

    const std::optional<std::string> config_text = reader.string_attribute(root, "", "model_config");
    const std::optional<std::string> root_version = reader.string_attribute(root, "", "keras_version");
    if (config_text) {
        result.model = parse_json(*config_text, path, "attribute 'model_config'");
        if (!result.model.is_object() || !member(result.model, "class_name"))
            fail(path, "attribute 'model_config'", "not a Keras model (no class_name)");
    }

    std::string weights_path = "model_weights";
    std::optional<h5::Id> group = reader.find(root, "", weights_path);
    if (!group) {
        if (config_text) fail(path, "", "no model_weights group: the file holds no weights");
        if (reader.has_attribute(root, "layer_names") || reader.has_attribute(root, "layer_names0")) {
            weights_path.clear();  // model.save_weights(): the root is the weights group
            group = reader.find(root, "", "");
        } else if (reader.find(root, "", "layers") && reader.find(root, "", "vars")) {
            fail(path, "",
                 "a Keras 3 weights file (.weights.h5) holds no architecture: read the .keras file instead");
        } else {
            fail(path, "",
                 "neither a model_weights group nor a layer_names attribute: not a Keras model file");
        }
    }
    if (!reader.is_group(group->get())) fail(path, weights_path, "not a group");
    const hid_t weights_group = group->get();
    const std::optional<std::string> weights_version =
        reader.string_attribute(weights_group, weights_path, "keras_version");
    const std::optional<std::string> backend =
        reader.string_attribute(weights_group, weights_path, "backend");
    // Keras 2 decides so too (saving.py: no keras_version on the weights group -> '1').
    const bool keras1 = !weights_version.has_value();
    result.keras_version = weights_version ? *weights_version
                           : root_version  ? *root_version
                                           : std::string("1");

    std::map<std::string, LayerRef> index;
    index_layers(result.model, index, 0);
    const std::optional<std::vector<std::string>> layer_names =
        reader.chunked_strings_attribute(weights_group, weights_path, "layer_names");
    if (!layer_names) fail(path, weights_path, "no layer_names attribute");

    H5ModelReader model_reader(path, index, result.weights);
    for (const std::string& name : *layer_names) {
        const std::string group_place = h5::join_path(weights_path, name);
        check_name(name, path, reader.place_text(group_place), "layer");
        const h5::Id layer_group = reader.open_group(weights_group, weights_path, name);
        const std::optional<std::vector<std::string>> weight_names =
            reader.chunked_strings_attribute(layer_group.get(), group_place, "weight_names");
        if (!weight_names) fail(path, reader.place_text(group_place), "no weight_names attribute");
        std::vector<StoredWeight> stored;
        for (const std::string& weight_name : *weight_names) {
            const std::string place = reader.place_text(h5::join_path(group_place, weight_name));
            stored.push_back(
                {weight_name, place, reader.read_floats(layer_group.get(), group_place, weight_name)});
        }
        if (stored.empty()) continue;
        const LayerRef* ref = find_layer(index, name);
        const std::string class_name = ref != nullptr ? ref->class_name : std::string();
        if (keras1) {
            model_reader.add_keras1(name, class_name,
                                    ref != nullptr ? member(*ref->layer, "config") : nullptr,
                                    std::move(stored), reader.place_text(group_place));
        } else {
            model_reader.add_named(name, std::move(stored));
        }
    }

    if (backend && *backend == "theano") {
        for (const auto& [name, ref] : index) {
            std::string class_name = ref.class_name;
            if (class_name == "TimeDistributed")
                if (const json* config = member(*ref.layer, "config"))
                    if (const json* inner = member(*config, "layer"))
                        class_name = string_member(*inner, "class_name");
            if (!is_conv1d_class(class_name)) continue;
            const auto layer = result.weights.find(name);
            if (layer == result.weights.end()) continue;
            const auto kernel = layer->second.find("kernel");
            if (kernel != layer->second.end()) flip_first_axis(kernel->second);
        }
    }
    return result;
}

// ---- Keras 3 .keras ---------------------------------------------------------------------------------------

// keras.src.utils.naming.to_snake_case: drop non-word characters, then "(.)([A-Z][a-z]+)" -> "\1_\2", then
// "([a-z])([A-Z])" -> "\1_\2", then lower case (written out: std::regex recurses per character).
std::string snake_case(const std::string& name) {
    auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
    auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
    std::string word;
    for (char c : name)
        if (upper(c) || lower(c) || (c >= '0' && c <= '9') || c == '_' ||
            static_cast<unsigned char>(c) >= 0x80)
            word += c;
    std::string step;
    for (size_t i = 0; i < word.size();) {
        if (i + 2 < word.size() && upper(word[i + 1]) && lower(word[i + 2])) {
            size_t end = i + 3;
            while (end < word.size() && lower(word[end])) ++end;
            step += word[i];
            step += '_';
            step.append(word, i + 1, end - i - 1);
            i = end;
        } else {
            step += word[i++];
        }
    }
    std::string out;
    for (size_t i = 0; i < step.size();) {
        if (i + 1 < step.size() && lower(step[i]) && upper(step[i + 1])) {
            out += step[i];
            out += '_';
            out += step[i + 1];
            i += 2;
        } else {
            out += step[i++];
        }
    }
    for (char& c : out)
        if (upper(c)) c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// A layer's own variables in save order (trainable, then non-trainable); nullopt for classes we do not know.
std::optional<std::vector<std::string>> keras3_variables(const std::string& class_name, const json& config,
                                                         const std::string& keras_version) {
    const bool bias = bool_member(config, "use_bias", true);
    auto with_bias = [&](std::vector<std::string> names) {
        if (bias) names.push_back("bias");
        return names;
    };
    static const std::set<std::string> kKernelBias = {
        "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", "Dense"};
    static const std::set<std::string> kWeightless = {"InputLayer",
                                                      "Dropout",
                                                      "SpatialDropout1D",
                                                      "GaussianNoise",
                                                      "GaussianDropout",
                                                      "AlphaDropout",
                                                      "Flatten",
                                                      "Reshape",
                                                      "Permute",
                                                      "RepeatVector",
                                                      "Activation",
                                                      "ReLU",
                                                      "LeakyReLU",
                                                      "ELU",
                                                      "Softmax",
                                                      "MaxPooling1D",
                                                      "AveragePooling1D",
                                                      "GlobalMaxPooling1D",
                                                      "GlobalAveragePooling1D",
                                                      "ZeroPadding1D",
                                                      "Cropping1D",
                                                      "UpSampling1D",
                                                      "Add",
                                                      "Subtract",
                                                      "Multiply",
                                                      "Average",
                                                      "Maximum",
                                                      "Minimum",
                                                      "Concatenate"};
    if (kKernelBias.count(class_name) != 0) return with_bias({"kernel"});
    if (class_name == "DepthwiseConv1D" || class_name == "DepthwiseConv2D")
        return with_bias({starts_with(keras_version, "2.") ? "depthwise_kernel" : "kernel"});
    if (class_name == "SeparableConv1D" || class_name == "SeparableConv2D")
        return with_bias({"depthwise_kernel", "pointwise_kernel"});
    if (is_rnn_class(class_name)) return with_bias({"kernel", "recurrent_kernel"});
    if (class_name == "Embedding") return std::vector<std::string>{"embeddings"};
    if (class_name == "PReLU") return std::vector<std::string>{"alpha"};
    if (class_name == "BatchNormalization" || class_name == "LayerNormalization") {
        std::vector<std::string> names;
        if (bool_member(config, "scale", true)) names.push_back("gamma");
        if (bool_member(config, "center", true)) names.push_back("beta");
        if (class_name == "BatchNormalization") {
            if (bool_member(config, "renorm", false)) return std::nullopt;
            names.push_back("moving_mean");
            names.push_back("moving_variance");
        }
        return names;
    }
    if (kWeightless.count(class_name) != 0) return std::vector<std::string>{};
    return std::nullopt;
}

class KerasZipWalker {
public:
    KerasZipWalker(const std::string& path, const h5::Reader& reader, std::string keras_version,
                   NamedWeights& weights)
        : path_(path), reader_(reader), keras_version_(std::move(keras_version)), weights_(weights) {}

    // A model's layers are `layers/<snake_case class>[_N]`, numbered per class in the order of its layer
    // list.
    void walk_model(hid_t group, const std::string& group_path, const json& model,
                    const std::string& config_place, int depth) {
        if (depth > kMaxNesting)
            fail(path_, "config.json", "models nested more than " + std::to_string(kMaxNesting) + " deep");
        const json* layers = layer_list(model);
        if (layers == nullptr)
            fail(path_, "config.json" + (config_place.empty() ? "" : " " + config_place),
                 "not a model (no layer list)");
        std::optional<h5::Id> list;
        std::string list_path;
        if (group >= 0) {
            for (const char* name :
                 {"layers", "_layer_checkpoint_dependencies"}) {  // the second: tf.keras 2.13-2.15
                list = reader_.find(group, group_path, name);
                if (list) {
                    list_path = h5::join_path(group_path, name);
                    break;
                }
            }
        }
        std::map<std::string, int> counters;
        for (size_t i = 0; i < layers->size(); ++i) {
            const json& layer = (*layers)[i];
            const std::string class_name = string_member(layer, "class_name");
            const std::string place = config_place + "/layers/" + std::to_string(i);
            if (class_name.empty()) fail(path_, "config.json " + place, "layer without a class_name");
            const std::string snake = snake_case(class_name);
            const int count = counters[snake]++;
            const std::string entry = count == 0 ? snake : snake + "_" + std::to_string(count);
            read_layer(list ? list->get() : H5I_INVALID_HID,
                       list_path.empty() ? h5::join_path(group_path, "layers") : list_path, entry, layer,
                       layer_name(layer), place, true, depth + 1);
        }
    }

private:
    void read_layer(hid_t parent, const std::string& parent_path, const std::string& entry, const json& layer,
                    const std::string& key, const std::string& config_place, bool check_name_attribute,
                    int depth) {
        if (depth > kMaxNesting)
            fail(path_, "config.json", "layers nested more than " + std::to_string(kMaxNesting) + " deep");
        const std::string group_path = h5::join_path(parent_path, entry);
        std::optional<h5::Id> group = parent >= 0 ? reader_.find(parent, parent_path, entry) : std::nullopt;
        if (group && !reader_.is_group(group->get())) reader_.fail(group_path, "not a group");
        const hid_t group_id = group ? group->get() : H5I_INVALID_HID;
        const std::string class_name = string_member(layer, "class_name");
        const json* config = member(layer, "config");
        const json empty = json::object();
        const json& settings = config != nullptr ? *config : empty;

        if (layer_list(layer) != nullptr) {  // a nested model: its own layer list, counters restarting
            walk_model(group_id, group_path, layer, config_place, depth);
            return;
        }
        if (class_name == "Bidirectional" || class_name == "TimeDistributed") {
            const json* inner = member(settings, "layer");
            if (inner == nullptr || !inner->is_object())
                fail(path_, "config.json " + config_place,
                     class_name + " " + in_quotes(key) + " without its inner layer");
            if (class_name == "TimeDistributed") {
                read_layer(group_id, group_path, "layer", *inner, key, config_place + "/config/layer", false,
                           depth + 1);
                return;
            }
            const json* backward = member(settings, "backward_layer");
            if (backward != nullptr && !backward->is_object()) backward = nullptr;
            std::string forward_name = layer_name(*inner);
            if (!starts_with(forward_name, "forward_")) forward_name = "forward_" + forward_name;
            std::string backward_name = backward != nullptr ? layer_name(*backward) : forward_name.substr(8);
            if (!starts_with(backward_name, "backward_")) backward_name = "backward_" + backward_name;
            read_layer(group_id, group_path, "forward_layer", *inner, key + "/" + forward_name,
                       config_place + "/config/layer", false, depth + 1);
            read_layer(group_id, group_path, "backward_layer", backward != nullptr ? *backward : *inner,
                       key + "/" + backward_name,
                       config_place + (backward != nullptr ? "/config/backward_layer" : "/config/layer"),
                       false, depth + 1);
            return;
        }

        const std::optional<std::vector<std::string>> expected =
            keras3_variables(class_name, settings, keras_version_);
        const bool needs_weights = expected && !expected->empty();
        const std::string describe = class_name + " " + in_quotes(key);
        if (!group) {
            if (needs_weights) reader_.fail(group_path, "missing: no weights for " + describe);
            return;
        }
        const std::string vars_name = is_rnn_class(class_name) ? "cell/vars" : "vars";
        const std::string vars_path = h5::join_path(group_path, vars_name);
        if (check_name_attribute) {
            // Keras >= 3.6 records the layer name on its vars group: a cross-check of the per-class
            // numbering.
            if (std::optional<h5::Id> own = reader_.find(group_id, group_path, "vars")) {
                const std::optional<std::string> recorded =
                    reader_.string_attribute(own->get(), h5::join_path(group_path, "vars"), "name");
                if (recorded && *recorded != layer_name(layer))
                    reader_.fail(h5::join_path(group_path, "vars"), "holds layer " + in_quotes(*recorded) +
                                                                        ", but the config puts " + describe +
                                                                        " here");
            }
        }
        std::optional<h5::Id> vars = reader_.find(group_id, group_path, vars_name);
        if (!vars) {
            if (needs_weights) reader_.fail(vars_path, "missing: no weights for " + describe);
            return;
        }
        if (!reader_.is_group(vars->get())) reader_.fail(vars_path, "not a group");
        const uint64_t count = reader_.link_count(vars->get(), vars_path, 1000);
        if (expected && count != expected->size()) {
            std::string names;
            for (const std::string& name : *expected) names += (names.empty() ? "" : ", ") + name;
            reader_.fail(vars_path, "holds " + std::to_string(count) + " variables, " + describe + " has " +
                                        std::to_string(expected->size()) +
                                        (names.empty() ? "" : " (" + names + ")"));
        }
        for (uint64_t i = 0; i < count; ++i) {
            const std::string index = std::to_string(i);
            if (!reader_.find(vars->get(), vars_path, index))
                reader_.fail(vars_path,
                             "holds " + std::to_string(count) + " links but no dataset '" + index + "'");
            WeightArray array = reader_.read_floats(vars->get(), vars_path, index);
            put(weights_, key, expected ? (*expected)[i] : index, std::move(array), path_,
                reader_.place_text(h5::join_path(vars_path, index)));
        }
    }

    const std::string& path_;
    const h5::Reader& reader_;
    std::string keras_version_;
    NamedWeights& weights_;
};

KerasModelFile read_keras_zip(const std::string& path) {
    ZipReader zip(path, path);
    KerasModelFile result;
    result.format = "keras";
    if (!zip.has("config.json")) fail(path, "", "no config.json in the archive: not a Keras .keras file");
    result.model = parse_json(zip.read("config.json", kMaxJsonBytes), path, "config.json");
    if (!result.model.is_object() || !member(result.model, "class_name"))
        fail(path, "config.json", "not a Keras model (no class_name)");
    if (zip.has("metadata.json")) {
        const json metadata = parse_json(zip.read("metadata.json", kMaxJsonBytes), path, "metadata.json");
        result.keras_version = string_member(metadata, "keras_version");
    }
    if (!zip.has("model.weights.h5")) {
        if (zip.has("model.weights.npz"))
            fail(path, "model.weights.npz", "npz weights are not supported (only model.weights.h5)");
        fail(path, "", "no model.weights.h5 in the archive");
    }
    const std::string image = zip.read("model.weights.h5", kMaxWeightsBytes);
    h5::QuietErrors quiet;
    const h5::Reader reader = h5::Reader::open_image(image, path, "model.weights.h5");
    KerasZipWalker walker(path, reader, result.keras_version, result.weights);
    walker.walk_model(reader.root(), "", result.model, "", 0);
    return result;
}

// ---- TensorFlow.js model.json
// ------------------------------------------------------------------------------

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
