// Sweep points (see sweep.hpp): pointers into a config, defaulted layer keys included.
#include "model/sweep.hpp"

#include <charconv>
#include <optional>
#include <vector>

#include "core/error.hpp"
#include "layers/kind.hpp"

namespace c1r {
namespace {

using json = nlohmann::json;

// RFC 6901: "~" and "/" inside a key are written "~0" and "~1" when the key becomes part of a pointer.
std::string escape_token(const std::string& key) {
    std::string out;
    for (char c : key) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
    return out;
}

// Sets `pointer` in `config` when it names a value there; false when it names nothing.
bool set_present(json& config, const std::string& pointer, const json& value) {
    try {
        json::json_pointer p(pointer);
        if (!config.contains(p)) return false;
        config[p] = value;
        return true;
    } catch (const json::exception&) {
        return false;  // e.g. an array index beyond 64 bits, or a token into a number
    }
}

// "/layers/N/key..." -> N and key (unescaped); none for other pointers.
std::optional<std::pair<size_t, std::string>> layer_key(const std::string& pointer) {
    try {
        json::json_pointer p(pointer);
        std::vector<std::string> tokens;
        for (json::json_pointer q = p; !q.empty(); q.pop_back()) tokens.insert(tokens.begin(), q.back());
        if (tokens.size() < 3 || tokens[0] != "layers") return std::nullopt;
        size_t index = 0;
        const std::string& n = tokens[1];
        auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), index);
        if (ec != std::errc() || end != n.data() + n.size() || (n.size() > 1 && n[0] == '0')) return std::nullopt;
        return std::pair{index, tokens[2]};
    } catch (const json::exception&) {
        return std::nullopt;
    }
}

}  // namespace

json apply_sweep_point(const json& base, const json& point, const std::string& source) {
    json config = base;
    std::vector<std::pair<std::string, const json*>> missing;
    for (const auto& [pointer, value] : point.items())
        if (!set_present(config, pointer, value)) missing.emplace_back(pointer, &value);

    for (const auto& [pointer, value] : missing) {
        const std::string at = "/sweep" + escape_token(pointer);
        const std::string& swept = pointer;  // a lambda may not capture a structured binding before C++20 (clang 14)
        auto fail = [&](const std::string& why) {
            throw Error::at(ErrorKind::config, source, at, "the config has no value at " + swept + why);
        };
        auto target = layer_key(pointer);
        if (!target || !config.contains("layers") || !config["layers"].is_array() ||
            target->first >= config["layers"].size())
            fail(" to sweep");
        json& layer = config["layers"][target->first];
        if (!layer.is_object() || layer.value("type", json()) == "shared") fail(" to sweep");
        const std::string layer_pointer = "/layers/" + std::to_string(target->first);
        // The layer as it stands at this point; its own errors (e.g. a swept value out of range) are the run's.
        const LayerSpec spec = read_layer(layer, layer_pointer, source);
        const nlohmann::ordered_json keys = write_layer(spec);
        if (!layer.contains(target->second)) {
            if (!keys.contains(target->second)) {
                std::string known;
                for (const auto& [key, _] : keys.items())
                    if (key != "type" && key != "name") known += (known.empty() ? "" : ", ") + key;
                fail(", and " + std::string(to_string(spec.type)) + " has no key \"" + target->second +
                     "\" (its keys: " + known + ")");
            }
            layer[target->second] = keys[target->second];
        }
        if (!set_present(config, pointer, *value)) fail(" to sweep (" + target->second + " is " + layer[target->second].dump() + ")");
    }
    return config;
}

}  // namespace c1r
