// Second front door: a Keras model.to_json() text (Sequential, or Functional with a linear chain) as a config.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace c1r {

// True when the object looks like Keras model.to_json() output ("class_name" Sequential/Functional/Model).
bool is_keras_model(const nlohmann::json& document);

struct KerasImportOptions {
    std::optional<int64_t> batch;   // fills a None batch (default 1)
    std::optional<int64_t> length;  // fills a None length
    std::string input_file;         // --input, absolute; when given, the input comes from it (its shape fills Nones)
};

// Maps the model to a config object in our own format (parse_config then validates it as usual).
// Throws Error(config) naming the file, the layer index and class for what it cannot map.
nlohmann::json keras_to_config(const nlohmann::json& model, const std::string& source,
                               const KerasImportOptions& options);

}  // namespace c1r
