// Turns command-line paths into the ordered list of runs (SPEC §2, §3 sweep).
#include "run/batch.hpp"

#include "import/keras_file.hpp"
#include "import/onnx.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <iterator>

#include "core/error.hpp"
#include "model/spec.hpp"
#include "model/sweep.hpp"

namespace c1r {
namespace {

// RFC 6901: "~" and "/" inside a key are written "~0" and "~1" when the key becomes part of a pointer.
std::string escape_token(const std::string& key) {
    std::string out = "/";
    for (char c : key) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
    return out;
}

std::optional<std::string> name_of(const nlohmann::json& config) {
    if (config.is_object() && config.contains("name") && config["name"].is_string())
        return config["name"].get<std::string>();
    return std::nullopt;
}

// nlohmann::json sorts keys; the sweep's "last key varies fastest" means the last key as written.
std::vector<std::string> sweep_keys_in_written_order(const std::string& text) {
    auto ordered = nlohmann::ordered_json::parse(text, nullptr, false);
    std::vector<std::string> keys;
    if (ordered.is_object() && ordered.contains("sweep") && ordered["sweep"].is_object())
        for (const auto& [key, _] : ordered["sweep"].items()) keys.push_back(key);
    return keys;
}

// "-" is standard input, named <stdin>; it is read once (the command line refuses a second "-").
std::vector<RunItem> items_of_file(const std::string& path, const KerasImportOptions& keras) {
    const std::string source = source_name(path);
    try {
        if (path != "-" && is_onnx_model_file(path)) {  // ONNX (torch.onnx.export): graph + initializer weights
            OnnxModelFile file = read_onnx_model_file(path, source, keras.batch);
            RunItem item{source, file.config, nullptr, name_of(file.config), std::nullopt};
            item.weights = std::make_shared<const NamedWeights>(std::move(file.weights));
            return {item};
        }
        if (path != "-" && is_keras_model_file(path)) {  // .h5, .keras, or a TF.js model.json with shards
            KerasModelFile file = read_keras_model_file(path);
            if (file.model.is_null())
                throw Error(ErrorKind::input, source + ": holds weights only, no model_config: give the architecture "
                                                       "as a config and these weights with --weights");
            if (!file.model.contains("keras_version") && !file.keras_version.empty())
                file.model["keras_version"] = file.format == "tfjs" ? "2" : file.keras_version;
            nlohmann::json config = keras_to_config(file.model, source, keras);
            RunItem item{source, config, nullptr, name_of(config), std::nullopt};
            item.weights = std::make_shared<const NamedWeights>(std::move(file.weights));
            return {item};
        }
        const std::string text = read_text_file(path);
        nlohmann::json document = parse_json_text(text, source);
        if (is_keras_model(document)) {
            nlohmann::json config = keras_to_config(document, source, keras);
            return {RunItem{source, config, nullptr, name_of(config), std::nullopt}};
        }
        if (document.is_object() && document.contains("sweep"))
            return expand_sweep(source, document, sweep_keys_in_written_order(text));
        return {RunItem{source, document, nullptr, name_of(document), std::nullopt}};
    } catch (const Error& e) {
        return {RunItem{source, nullptr, nullptr, std::nullopt, e}};
    }
}

}  // namespace

std::vector<RunItem> expand_sweep(const std::string& source, const nlohmann::json& config,
                                  const std::vector<std::string>& key_order) {
    const nlohmann::json& sweep = config["sweep"];
    auto fail = [&](const std::string& pointer, const std::string& why) {
        throw Error::at(ErrorKind::config, source, pointer, why);
    };
    if (!sweep.is_object() || sweep.empty())
        fail("/sweep", "expected an object of JSON pointer -> list of values, e.g. {\"/layers/0/kernel_size\": [2, 3]}");
    std::vector<std::pair<nlohmann::json::json_pointer, const nlohmann::json*>> axes;
    int64_t points = 1;
    std::vector<std::string> keys = key_order;
    if (keys.size() != sweep.size()) {
        keys.clear();
        for (const auto& [key, _] : sweep.items()) keys.push_back(key);
    }
    for (const auto& key : keys) {
        if (!sweep.contains(key)) fail("/sweep", "internal: key order does not match the sweep");
        const nlohmann::json& values = sweep[key];
        std::string at = "/sweep" + escape_token(key);
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
    auto base = std::make_shared<nlohmann::json>(config);
    base->erase("sweep");
    std::optional<std::string> name = name_of(*base);
    std::vector<RunItem> items;
    items.reserve(static_cast<size_t>(points));
    std::vector<size_t> index(axes.size(), 0);
    for (int64_t p = 0; p < points; ++p) {
        nlohmann::json point = nlohmann::json::object();
        for (size_t a = 0; a < axes.size(); ++a) point[axes[a].first.to_string()] = (*axes[a].second)[index[a]];
        RunItem item{source, nullptr, std::move(point), name, std::nullopt};
        item.base = base;
        items.push_back(std::move(item));
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
                items.insert(items.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
            }
            continue;
        }
        auto more = items_of_file(path, keras);
        items.insert(items.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    }
    return items;
}

nlohmann::json RunItem::resolved() const {
    if (!base) return config;
    return apply_sweep_point(*base, point, source);  // defaulted layer keys are filled in (SPEC §3)
}

std::vector<RunItem> select_shard(std::vector<RunItem> items, int64_t index, int64_t count) {
    // Part i is [floor((i-1)*n/N), floor(i*n/N)): sizes differ by at most one and N/N always ends with the
    // last run. The products are taken in 128 bits: I and N may each be near 2^63.
    __extension__ using Wide = __int128;
    const Wide n = static_cast<Wide>(items.size());
    const auto begin = static_cast<int64_t>((index - 1) * n / count), end = static_cast<int64_t>(index * n / count);
    return std::vector<RunItem>(items.begin() + begin, items.begin() + end);
}

std::pair<int64_t, int64_t> parse_shard(const std::string& text) {
    auto fail = [&] { throw Error(ErrorKind::usage, "--shard " + text + ": expected I/N with 1 <= I <= N, e.g. 2/4"); };
    size_t slash = text.find('/');
    if (slash == std::string::npos || text.find('/', slash + 1) != std::string::npos) fail();
    auto number = [&](const char* first, const char* last) {
        int64_t value = 0;
        auto [end, ec] = std::from_chars(first, last, value);
        if (ec != std::errc() || end != last || first == last) fail();
        return value;
    };
    int64_t index = number(text.data(), text.data() + slash);
    int64_t count = number(text.data() + slash + 1, text.data() + text.size());
    if (count < 1 || index < 1 || index > count) fail();
    return {index, count};
}

}  // namespace c1r
