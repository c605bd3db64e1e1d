// Keras 1/2/3 .h5 model files: the model_config attribute and the model_weights groups (docs/keras-files.md),
// with Keras 1 weights converted as Keras 2 loads them.

#include "import/keras_file_parts.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

namespace c1r::kfile {
namespace {

using nlohmann::json;
using h5::printable;

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

}  // namespace

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

}  // namespace c1r::kfile
