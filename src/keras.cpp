// Keras model.to_json() import (being written).
#include "c1r/keras.hpp"

#include "c1r/error.hpp"

namespace c1r {

bool is_keras_model(const nlohmann::json& document) {
    if (!document.is_object() || !document.contains("class_name") || !document["class_name"].is_string()) return false;
    const std::string cls = document["class_name"].get<std::string>();
    return cls == "Sequential" || cls == "Functional" || cls == "Model";
}

nlohmann::json keras_to_config(const nlohmann::json&, const std::string& source, const KerasImportOptions&) {
    throw Error(ErrorKind::config, source + ": Keras import is not available yet");
}

}  // namespace c1r
