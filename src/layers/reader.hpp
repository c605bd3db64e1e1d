// The one strict JSON object reader: configs and importers read every layer's keys through it, unknown keys are
// refused with the known ones named, and every error carries the file and the JSON pointer.
#pragma once

#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace c1r {

using json = nlohmann::json;

inline constexpr int64_t kMaxSetting = int64_t{1} << 31;  // no layer setting is sanely larger; keeps products in range

inline std::string describe(const json& value) {
    std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
    if (text.size() > 40) text = text.substr(0, 37) + "...";
    return text;
}

inline std::string escape_pointer_token(const std::string& key) {
    std::string out;
    for (char c : key) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else out += c;
    }
    return out;
}

// Reads one JSON object, remembering which keys were used so that unknown ones can be refused.
class ObjectReader {
public:
    ObjectReader(const json& object, std::string pointer, const std::string& source)
        : object_(object), pointer_(std::move(pointer)), source_(source) {
        if (!object_.is_object())
            fail(pointer_, std::string(pointer_.empty() ? "the top level" : "") + " expected an object, got " +
                               describe(object_));
    }

    [[noreturn]] void fail(const std::string& pointer, const std::string& why) const {
        throw Error::at(ErrorKind::config, source_, pointer, why);
    }

    // A missing key is often a misspelt one: name what the object does have.
    [[noreturn]] void fail_missing(const std::string& key) const {
        std::string given;
        for (const auto& [k, _] : object_.items()) given += (given.empty() ? "\"" : ", \"") + k + "\"";
        fail(at(key), "missing required key \"" + key + "\"" + (given.empty() ? "" : " (given: " + given + ")"));
    }
    std::string at(const std::string& key) const { return pointer_ + "/" + escape_pointer_token(key); }

    const json* find(const std::string& key) {
        used_.insert(key);
        auto it = object_.find(key);
        return it == object_.end() ? nullptr : &*it;
    }
    bool has(const std::string& key) const { return object_.contains(key); }

    // Integers may also be written as a one-element list (Keras serialises kernel_size as [3]).
    int64_t integer(const std::string& key, std::optional<int64_t> fallback, int64_t min_value,
                    int64_t max_value = kMaxSetting) {
        const json* value = find(key);
        if (!value) {
            if (!fallback) fail_missing(key);
            return record(key, *fallback);
        }
        return record(key, integer_value(*value, at(key), min_value, max_value));
    }

    int64_t integer_value(const json& raw, const std::string& pointer, int64_t min_value,
                          int64_t max_value = kMaxSetting) const {
        const json& value = (raw.is_array() && raw.size() == 1) ? raw[0] : raw;
        if (!value.is_number_integer()) {
            // Whole-valued floats get a hint; the range check comes first, a cast out of range is undefined.
            if (value.is_number_float() && std::fabs(value.get<double>()) < 9.2e18 &&
                value.get<double>() == std::trunc(value.get<double>()))
                fail(pointer, "expected an integer, got " + describe(raw) + " (write it without a decimal point)");
            fail(pointer, "expected an integer, got " + describe(raw));
        }
        if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(max_value))
            fail(pointer, "value " + describe(raw) + " is too large (at most " + std::to_string(max_value) + ")");
        int64_t v = value.get<int64_t>();
        if (v < min_value)
            fail(pointer, "must be at least " + std::to_string(min_value) + ", got " + std::to_string(v));
        if (v > max_value)
            fail(pointer, "value " + std::to_string(v) + " is too large (at most " + std::to_string(max_value) + ")");
        return v;
    }

    double number(const std::string& key, double fallback) {
        const json* value = find(key);
        if (!value) return record(key, fallback);
        if (!value->is_number()) fail(at(key), "expected a number, got " + describe(*value));
        double v = value->get<double>();
        if (!std::isfinite(v)) fail(at(key), "expected a finite number");
        return record(key, v);
    }

    bool boolean(const std::string& key, bool fallback) {
        const json* value = find(key);
        if (!value) return record(key, fallback);
        if (!value->is_boolean()) fail(at(key), "expected true or false, got " + describe(*value));
        return record(key, value->get<bool>());
    }

    std::optional<std::string> string(const std::string& key) {
        const json* value = find(key);
        if (!value) return std::nullopt;
        if (!value->is_string()) fail(at(key), "expected a string, got " + describe(*value));
        return value->get<std::string>();
    }

    template <typename Enum>
    Enum choice(const std::string& key, Enum fallback, const std::map<std::string, Enum>& choices) {
        auto text = string(key);
        if (!text) return fallback;
        auto it = choices.find(*text);
        if (it == choices.end()) {
            std::string names;
            for (const auto& [name, _] : choices) names += (names.empty() ? "" : ", ") + name;
            fail(at(key), "unknown value \"" + *text + "\" (expected one of: " + names + ")");
        }
        return it->second;
    }

    // Refuses keys nobody read: the typo "kernal_size" must not pass silently.
    void finish(const std::set<std::string>& ignored = {}) const {
        for (const auto& [key, _] : object_.items()) {
            if (!used_.count(key) && !ignored.count(key)) {
                std::string known;
                for (const auto& k : used_) known += (known.empty() ? "" : ", ") + k;
                fail(at(key), "unknown key \"" + key + "\" (known here: " + known + ")");
            }
        }
    }

    const std::string& pointer() const { return pointer_; }
    const std::string& source() const { return source_; }
    const json& object() const { return object_; }

    // Every key read, with its default where the object leaves it out: what the writer emits.
    template <typename T>
    T record(const std::string& key, T value) {
        keys_[key] = value;
        return value;
    }
    void record_json(const std::string& key, const json& value) { keys_[key] = value; }
    nlohmann::ordered_json& keys() { return keys_; }

private:
    nlohmann::ordered_json keys_;
    const json& object_;
    std::string pointer_;
    const std::string& source_;
    std::set<std::string> used_;
};


}  // namespace c1r
