// Keras 3 .keras zips: config.json and model.weights.h5, whose variables are found by layer class path and
// creation order (docs/keras-files.md).

#include "import/keras_file_parts.hpp"

#include "import/keras_parts.hpp"
#include "import/zip_reader.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

namespace c1r::kfile {
namespace {

using nlohmann::json;
using h5::printable;
using keras_import::snake_case;


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

}  // namespace

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

}  // namespace c1r::kfile
