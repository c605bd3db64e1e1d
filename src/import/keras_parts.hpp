// Parts of the Keras importer shared by its files (internal to src/import): Keras layer settings to ours
// (keras_settings.cpp) and the tensor references of Functional models (keras_refs.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "layers/kind.hpp"

namespace c1r::keras_import {

// keras.src.utils.naming.to_snake_case: Keras' own layer names and Keras 3 weight paths ("Conv1D" -> "conv1d").
std::string snake_case(const std::string& name);

// What translating a layer's settings depends on beyond the layer itself.
struct SettingsContext {
    const std::string& source;  // the file, for errors
    bool keras2 = false;        // Keras 1/2 or TF.js: hard_sigmoid and RNN defaults differ from Keras 3
    DataFormat data_format = DataFormat::channels_last;
};

// A Keras layer config's keys as ours: Keras 1 names, training-only settings dropped, version defaults made
// explicit (Keras 2 hard_sigmoid, GRU reset_after), wrapped layers translated in turn. Throws Error(config).
nlohmann::json translate_settings(const std::string& cls, const LayerKind& kind, const nlohmann::json& cfg,
                                  const std::string& pointer, const SettingsContext& context);

// Our type name for a Keras class of this kind (the dropout family keeps its own names).
std::string type_name(const std::string& cls, const LayerKind& kind);

// A reference to a layer's output as Functional models store it: [layer name, node index, tensor index].
struct TensorRef {
    std::string layer;
    int64_t node = 0, tensor = 0;
};

std::optional<TensorRef> as_tensor_ref(const nlohmann::json& value);

// Keras 3 writes a call's tensors as {"class_name": "__keras_tensor__", "config": {"keras_history": [...]}}
// anywhere inside its args and kwargs; an unreadable history is still an input, as {"", -1, -1}.
void collect_keras3_refs(const nlohmann::json& value, std::vector<TensorRef>& out);

// input_layers / output_layers: one [name, node, tensor] or any nesting of them (list, dict).
void collect_endpoint_refs(const nlohmann::json& value, std::vector<TensorRef>& out);

}  // namespace c1r::keras_import
