// Functional models' tensor references: Keras 1/2 [name, node, tensor] lists and Keras 3 __keras_tensor__
// objects (keras_parts.hpp).
#include "import/keras_parts.hpp"

namespace c1r::keras_import {

using nlohmann::json;

std::optional<TensorRef> as_tensor_ref(const json& value) {
    if (!value.is_array() || value.size() < 3 || value.size() > 4 || !value[0].is_string() ||
        !value[1].is_number_integer() || !value[2].is_number_integer())
        return std::nullopt;
    return TensorRef{value[0].get<std::string>(), value[1].get<int64_t>(), value[2].get<int64_t>()};
}

void collect_keras3_refs(const json& value, std::vector<TensorRef>& out) {
    if (value.is_object()) {
        auto cls = value.find("class_name");
        if (cls != value.end() && *cls == "__keras_tensor__") {
            const json* history = nullptr;
            if (auto config = value.find("config"); config != value.end() && config->is_object())
                if (auto h = config->find("keras_history"); h != config->end()) history = &*h;
            auto ref = history ? as_tensor_ref(*history) : std::nullopt;
            out.push_back(ref ? *ref : TensorRef{"", -1, -1});  // unreadable history: still an input
            return;
        }
        for (const auto& [_, item] : value.items()) collect_keras3_refs(item, out);
    } else if (value.is_array()) {
        for (const auto& item : value) collect_keras3_refs(item, out);
    }
}

void collect_endpoint_refs(const json& value, std::vector<TensorRef>& out) {
    if (auto ref = as_tensor_ref(value)) {
        out.push_back(*ref);
    } else if (value.is_array() || value.is_object()) {
        for (const auto& [_, item] : value.items()) collect_endpoint_refs(item, out);
    }
}

}  // namespace c1r::keras_import
