// Config parsing and strict validation: every error names the file and the JSON pointer. Layers are read by
// their kind's reader (layers/kind.hpp); this file reads the rest and resolves the graph's names.
#include "model/spec.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "layers/kind.hpp"
#include "layers/layout.hpp"

namespace c1r {
namespace {

InitSpec read_init(ObjectReader& parent) {
    InitSpec init;
    const json* value = parent.find("init");
    if (!value) return init;
    ObjectReader r(*value, parent.at("init"), parent.source());
    init.distribution = r.choice("distribution", Distribution::normal,
                                 std::map<std::string, Distribution>{{"normal", Distribution::normal},
                                                                     {"uniform", Distribution::uniform}});
    init.mean = r.number("mean", 0.0);
    init.stddev = r.number("stddev", 1.0);
    init.low = r.number("low", -1.0);
    init.high = r.number("high", 1.0);
    init.seed = static_cast<uint64_t>(r.integer("seed", 0, 0, std::numeric_limits<int64_t>::max()));
    if (init.stddev < 0) r.fail(r.at("stddev"), "must not be negative");
    if (init.low > init.high) r.fail(r.at("low"), "low is greater than high");
    r.finish();
    return init;
}

// A `layout` key's value: an axis order (layers/layout.hpp), else the error naming its pointer.
std::string read_layout(const json& value, const std::string& pointer, const ObjectReader& r) {
    if (!value.is_string()) r.fail(pointer, "expected an axis order such as \"LBC\", got " + describe(value));
    const std::string layout = value.get<std::string>();
    if (std::string why = layout_problem(layout); !why.empty())
        r.fail(pointer, "axis order \"" + layout + "\": " + why + " (letters B batch, L length, C channels, 1 a size-1 axis)");
    return layout;
}

InputSpec read_input_object(const json& value, const std::string& pointer, const std::string& source,
                            const std::string& name, DataFormat format) {
    InputSpec input;
    input.name = name;
    input.pointer = pointer;
    ObjectReader r(value, pointer, source);
    if (const json* layout = r.find("layout")) input.layout = read_layout(*layout, pointer + "/layout", r);
    if (const json* shape = r.find("shape")) {
        if (!input.layout.empty()) {  // the shape in the layout's order
            if (!shape->is_array() || shape->size() != input.layout.size())
                r.fail(pointer + "/shape", "expected " + std::to_string(input.layout.size()) +
                                               " positive integers (layout \"" + input.layout + "\"), got " +
                                               describe(*shape));
            std::vector<int64_t> dims;
            for (size_t i = 0; i < shape->size(); ++i)
                dims.push_back(r.integer_value((*shape)[i], pointer + "/shape/" + std::to_string(i), 1));
            Shape s;
            if (std::string why = shape_from_layout_dims(dims, input.layout, s); !why.empty())
                r.fail(pointer + "/shape", why);
            input.rank2 = s.rank == 2;
            input.shape = input.rank2 ? Dims3{s.batch, 1, s.channels} : dims_from_shape(s, format);
        } else {
            if (!shape->is_array() || (shape->size() != 3 && shape->size() != 2))
                r.fail(pointer + "/shape", "expected two or three positive integers, got " + describe(*shape));
            Dims3 dims{};
            if (shape->size() == 3) {
                for (size_t i = 0; i < 3; ++i)
                    dims[i] = r.integer_value((*shape)[i], pointer + "/shape/" + std::to_string(i), 1);
            } else {  // (batch, features): features are channels of a one-step sequence
                input.rank2 = true;
                dims = {r.integer_value((*shape)[0], pointer + "/shape/0", 1), 1,
                        r.integer_value((*shape)[1], pointer + "/shape/1", 1)};
            }
            input.shape = dims;
        }
    } else if (!input.layout.empty()) {
        input.rank2 = layout_rank(input.layout) == 2;
    }
    if (auto file = r.string("file")) {
        if (file->empty()) r.fail(pointer + "/file", "empty file name");
        input.file = resolve_path(*file, source);
    }
    if (!input.shape && input.file.empty()) r.fail(pointer, "give \"shape\" or \"file\"");
    input.init = read_init(r);
    r.finish();
    return input;
}

RunSpec read_run(ObjectReader& top) {
    RunSpec run;
    const json* value = top.find("run");
    if (!value) return run;
    ObjectReader r(*value, "/run", top.source());
    run.warmup = r.integer("warmup", 5, 0, 1000000);
    run.repeats = r.integer("repeats", 50, 1, 1000000);
    if (const json* threads = r.find("threads")) {
        if (!(threads->is_string() && threads->get<std::string>() == "auto"))
            run.threads = r.integer_value(*threads, "/run/threads", 1, 4096);
    }
    run.dtype = r.choice("dtype", DType::f32, std::map<std::string, DType>{{"f32", DType::f32}, {"bf16", DType::bf16}});
    if (r.has("seed")) run.seed = static_cast<uint64_t>(r.integer("seed", 0, 0, std::numeric_limits<int64_t>::max()));
    r.finish();
    return run;
}

// A layer without a name gets Keras' automatic one: its type, then type_1, type_2, ...
std::string automatic_name(const LayerSpec& layer, std::map<std::string, int>& counters,
                           const std::set<std::string>& taken) {
    std::string base = to_string(layer.type);
    while (true) {
        int k = counters[base]++;
        std::string name = k == 0 ? base : base + "_" + std::to_string(k);
        if (!taken.count(name)) return name;
    }
}

}  // namespace

std::string source_name(const std::string& path) { return path == "-" ? "<stdin>" : path; }

std::string read_text_file(const std::string& path) {
    std::ostringstream text;
    if (path == "-") {  // `jq ... | conv1d-reshape -`
        text << std::cin.rdbuf();
        if (std::cin.bad()) throw Error(ErrorKind::input, "<stdin>: read error");
        return text.str();
    }
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw Error(ErrorKind::input, path + ": is a directory, expected a JSON file");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorKind::input, path + ": cannot open: " + std::strerror(errno));
    text << in.rdbuf();
    if (in.bad()) throw Error(ErrorKind::input, path + ": read error");
    return text.str();
}

nlohmann::json read_json_file(const std::string& path) {
    return parse_json_text(read_text_file(path), source_name(path));
}

nlohmann::json parse_json_text(const std::string& content, const std::string& path) {
    // Deep nesting would make later copies and messages recurse once per level: refuse it while parsing.
    constexpr int kMaxDepth = 256;
    struct TooDeep {
        size_t depth;
    };
    auto limit_depth = [](int depth, json::parse_event_t, json&) {
        if (depth > kMaxDepth) throw TooDeep{static_cast<size_t>(depth)};
        return true;
    };
    try {
        return json::parse(content, limit_depth);
    } catch (const TooDeep&) {
        throw Error(ErrorKind::config,
                    path + ": JSON nested deeper than " + std::to_string(kMaxDepth) + " levels; not a config");
    } catch (const json::parse_error& e) {
        // nlohmann gives a byte offset; turn it into line and column for people.
        size_t offset = e.byte == 0 ? 0 : std::min<size_t>(e.byte - 1, content.size());
        size_t line = 1, column = 1;
        for (size_t i = 0; i < offset; ++i) {
            if (content[i] == '\n') ++line, column = 1;
            else ++column;
        }
        std::string why = e.what();
        if (auto pos = why.find("syntax error"); pos != std::string::npos) why = why.substr(pos);
        throw Error(ErrorKind::config,
                    path + ":" + std::to_string(line) + ":" + std::to_string(column) + ": invalid JSON at line " +
                        std::to_string(line) + ", column " + std::to_string(column) + ": " + why);
    } catch (const json::exception& e) {  // e.g. out_of_range.406: a number too large for a double
        std::string why = e.what();
        if (auto pos = why.find("] "); pos != std::string::npos) why = why.substr(pos + 2);
        throw Error(ErrorKind::config, path + ": invalid JSON: " + why);
    }
}

ConfigSpec parse_config(const nlohmann::json& config, const std::string& source) {
    ObjectReader top(config, "", source);
    ConfigSpec spec;
    spec.source = source;
    spec.name = top.string("name").value_or(std::filesystem::path(source).stem().string());
    top.string("description");
    spec.data_format = top.choice("data_format", DataFormat::channels_last,
                                  std::map<std::string, DataFormat>{{"channels_last", DataFormat::channels_last},
                                                                    {"channels_first", DataFormat::channels_first}});
    const json* input = top.find("input");
    const json* inputs = top.find("inputs");
    if (input && inputs) top.fail("/inputs", "give either \"input\" or \"inputs\", not both");
    if (input) {
        spec.input = read_input_object(*input, "/input", source, "input", spec.data_format);
    } else if (inputs) {
        if (!inputs->is_object() || inputs->empty())
            top.fail("/inputs", "expected an object of named inputs, e.g. {\"a\": {\"shape\": [1, 16, 4]}}");
        bool first = true;
        for (const auto& [name, value] : inputs->items()) {
            InputSpec in = read_input_object(value, "/inputs/" + escape_pointer_token(name), source, name, spec.data_format);
            if (first) spec.input = std::move(in);
            else spec.more_inputs.push_back(std::move(in));
            first = false;
        }
    } else {
        top.fail("/input", "missing required key (give \"shape\" or \"file\")");
    }
    const json* layers = top.find("layers");
    if (!layers) top.fail_missing("layers");
    if (!layers->is_array()) top.fail("/layers", "expected a list of layers, got " + describe(*layers));
    if (layers->empty()) top.fail("/layers", "the list of layers is empty");

    std::set<std::string> taken;
    for (const auto* in : spec.inputs()) taken.insert(in->name);
    for (const auto& l : *layers)
        if (l.is_object() && l.contains("name") && l["name"].is_string()) taken.insert(l["name"].get<std::string>());
    std::map<std::string, int> counters;
    std::map<std::string, size_t> by_name;
    for (size_t i = 0; i < layers->size(); ++i) {
        const std::string pointer = "/layers/" + std::to_string(i);
        const json& object = (*layers)[i];
        LayerSpec layer;
        if (object.is_object() && object.contains("type") && object["type"] == "shared") {
            // A further call of a layer defined earlier: same settings and weights, other inputs.
            ObjectReader r(object, pointer, source);
            r.string("type");
            auto of = r.string("layer");
            if (!of) r.fail_missing("layer");
            auto it = by_name.find(*of);
            if (it == by_name.end()) r.fail(r.at("layer"), "names no earlier layer \"" + *of + "\"");
            layer = spec.layers[it->second];
            layer.shared_with = layer.shared_with.empty() ? layer.name : layer.shared_with;
            layer.pointer = pointer;
            layer.inputs.clear();
            layer.name.clear();
            if (auto name = r.string("name")) layer.name = *name;
            if (const json* in = r.find("inputs")) {
                if (in->is_string()) layer.inputs.push_back(in->get<std::string>());
                else if (in->is_array())
                    for (const auto& v : *in)
                        if (v.is_string()) layer.inputs.push_back(v.get<std::string>());
            }
            r.finish();
            layer.keys = object;
        } else {
            layer = read_layer(object, pointer, source);
        }
        if (layer.name.empty()) {
            layer.name = automatic_name(layer, counters, taken);
            layer.auto_named = true;
            taken.insert(layer.name);
        }
        if (!by_name.emplace(layer.name, i).second)
            top.fail(pointer + "/name", "two layers are named \"" + layer.name + "\"");
        spec.layers.push_back(std::move(layer));
    }
    if (const json* outputs = top.find("outputs")) {
        // Each entry a layer name, or {"name": ..., "layout": ...} for an output written in another axis order.
        auto entry = [&](const json& value, const std::string& pointer) {
            if (value.is_string()) {
                spec.outputs.push_back(value.get<std::string>());
                spec.output_layouts.emplace_back();
                return;
            }
            if (!value.is_object())
                top.fail(pointer, "expected a layer name or {\"name\": ..., \"layout\": ...}, got " + describe(value));
            ObjectReader r(value, pointer, source);
            auto name = r.string("name");
            if (!name) r.fail_missing("name");
            std::string layout;
            if (const json* l = r.find("layout")) layout = read_layout(*l, pointer + "/layout", r);
            r.finish();
            spec.outputs.push_back(*name);
            spec.output_layouts.push_back(layout);
        };
        if (outputs->is_string()) entry(*outputs, "/outputs");
        else if (outputs->is_array() && !outputs->empty()) {
            for (size_t i = 0; i < outputs->size(); ++i) entry((*outputs)[i], "/outputs/" + std::to_string(i));
        } else {
            top.fail("/outputs", "expected a list of layer names, got " + describe(*outputs));
        }
    }
    spec.run = read_run(top);
    top.find("sweep");  // expanded before parsing (run/batch.cpp); left in place for the report
    top.finish();
    return spec;
}

}  // namespace c1r
