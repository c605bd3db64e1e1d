// Turns command-line paths into the ordered list of runs (SPEC §2, §3 sweep).
#include "c1r/batch.hpp"

#include <algorithm>
#include <filesystem>

#include "c1r/error.hpp"
#include "c1r/spec.hpp"

namespace c1r {
namespace {

std::optional<std::string> name_of(const nlohmann::json& config) {
    if (config.is_object() && config.contains("name") && config["name"].is_string())
        return config["name"].get<std::string>();
    return std::nullopt;
}

std::vector<RunItem> items_of_file(const std::string& path, const KerasImportOptions& keras) {
    try {
        nlohmann::json document = read_json_file(path);
        if (is_keras_model(document)) {
            nlohmann::json config = keras_to_config(document, path, keras);
            return {RunItem{path, config, nullptr, name_of(config), std::nullopt}};
        }
        if (document.is_object() && document.contains("sweep")) return expand_sweep(path, document);
        return {RunItem{path, document, nullptr, name_of(document), std::nullopt}};
    } catch (const Error& e) {
        return {RunItem{path, nullptr, nullptr, std::nullopt, e}};
    }
}

}  // namespace

std::vector<RunItem> expand_sweep(const std::string& source, const nlohmann::json& config) {
    const nlohmann::json& sweep = config["sweep"];
    auto fail = [&](const std::string& pointer, const std::string& why) {
        throw Error(ErrorKind::config, source + ": " + pointer + ": " + why, pointer);
    };
    if (!sweep.is_object() || sweep.empty())
        fail("/sweep", "expected an object of JSON pointer -> list of values, e.g. {\"/layers/0/kernel_size\": [2, 3]}");
    std::vector<std::pair<nlohmann::json::json_pointer, const nlohmann::json*>> axes;
    int64_t points = 1;
    for (const auto& [key, values] : sweep.items()) {
        std::string at = "/sweep/" + key;
        nlohmann::json::json_pointer pointer;
        try {
            pointer = nlohmann::json::json_pointer(key);
        } catch (const nlohmann::json::exception&) {
            fail(at, "\"" + key + "\" is not a JSON pointer (RFC 6901), e.g. /layers/0/kernel_size");
        }
        if (key.rfind("/sweep", 0) == 0) fail(at, "a sweep cannot change itself");
        if (!values.is_array() || values.empty()) fail(at, "expected a non-empty list of values");
        if (__builtin_mul_overflow(points, static_cast<int64_t>(values.size()), &points) || points > kMaxSweepPoints)
            fail("/sweep", "the grid has more than " + std::to_string(kMaxSweepPoints) + " points; refused");
        axes.emplace_back(pointer, &values);
    }
    nlohmann::json base = config;
    base.erase("sweep");
    std::vector<RunItem> items;
    items.reserve(static_cast<size_t>(points));
    std::vector<size_t> index(axes.size(), 0);
    for (int64_t p = 0; p < points; ++p) {
        nlohmann::json point = nlohmann::json::object();
        nlohmann::json instance = base;
        std::optional<Error> error;
        for (size_t a = 0; a < axes.size(); ++a) {
            const auto& [pointer, values] = axes[a];
            const nlohmann::json& value = (*values)[index[a]];
            point[pointer.to_string()] = value;
            if (!error && !instance.contains(pointer)) {
                error = Error(ErrorKind::config,
                              source + ": /sweep/" + pointer.to_string() + ": the config has no value at " +
                                  pointer.to_string() + " to sweep (set it in the config first)",
                              "/sweep");
            }
            if (!error) instance[pointer] = value;
        }
        items.push_back(RunItem{source, error ? nlohmann::json(nullptr) : instance, point, name_of(base), error});
        for (size_t a = axes.size(); a-- > 0;) {  // last key fastest
            if (++index[a] < axes[a].second->size()) break;
            index[a] = 0;
        }
    }
    return items;
}

std::vector<RunItem> collect_items(const std::vector<std::string>& paths, const KerasImportOptions& keras) {
    std::vector<RunItem> items;
    for (const auto& path : paths) {
        std::error_code ec;
        if (std::filesystem::is_directory(path, ec)) {
            std::vector<std::string> files;
            for (const auto& entry : std::filesystem::directory_iterator(path, ec))
                if (entry.path().extension() == ".json" && !entry.is_directory()) files.push_back(entry.path().string());
            if (ec) {
                items.push_back({path, nullptr, nullptr, std::nullopt,
                                 Error(ErrorKind::input, path + ": cannot list folder: " + ec.message())});
                continue;
            }
            std::sort(files.begin(), files.end());
            if (files.empty())
                items.push_back({path, nullptr, nullptr, std::nullopt,
                                 Error(ErrorKind::input, path + ": folder holds no *.json configs")});
            for (const auto& file : files) {
                auto more = items_of_file(file, keras);
                items.insert(items.end(), more.begin(), more.end());
            }
            continue;
        }
        auto more = items_of_file(path, keras);
        items.insert(items.end(), more.begin(), more.end());
    }
    return items;
}

std::vector<RunItem> select_shard(std::vector<RunItem> items, int64_t index, int64_t count) {
    const int64_t n = static_cast<int64_t>(items.size());
    const int64_t begin = (index - 1) * n / count, end = index * n / count;
    return std::vector<RunItem>(items.begin() + begin, items.begin() + end);
}

}  // namespace c1r
