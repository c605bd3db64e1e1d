// Checks the Keras model.to_json() importer: Keras 2 and 3 texts map to configs whose planned shapes are the
// ones Keras reports, and what cannot be mapped fails naming the file, the JSON pointer, the layer and its
// class.
#include <sys/wait.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "import/keras.hpp"
#include "plan/plan.hpp"
#include "model/spec.hpp"
#include "test_helpers.hpp"

using c1r::Dims3;
using nlohmann::json;

namespace {

std::string fixture(const std::string& name) { return std::string(C1R_FIXTURE_DIR) + "/keras/" + name; }

json convert(const std::string& name, const c1r::KerasImportOptions& options = {}) {
    const std::string path = fixture(name);
    return c1r::keras_to_config(c1r::read_json_file(path), path, options);
}

// The input shape and every layer's output shape, in the config's data format, as make_plan computes them.
std::vector<Dims3> planned_shapes(const json& config) {
    c1r::Plan plan = c1r_test::plan_of(config, "model.json");
    std::vector<Dims3> shapes{c1r::dims_from_shape(plan.input_shape, plan.data_format)};
    for (const auto& layer : plan.layers)
        shapes.push_back(c1r::dims_from_shape(layer.output_shape, plan.data_format));
    return shapes;
}

c1r::Error import_failure(const json& model, const c1r::KerasImportOptions& options = {}) {
    return c1r_test::error_from([&] { c1r::keras_to_config(model, "model.json", options); });
}

c1r::Error fixture_failure(const std::string& name, const c1r::KerasImportOptions& options = {}) {
    return c1r_test::error_from([&] { convert(name, options); });
}

// A Keras 2 Sequential text around the given layer objects (written as JSON text, joined by commas).
json sequential(const std::string& layers) {
    return json::parse(R"({"class_name": "Sequential", "config": {"name": "m", "layers": [)" + layers +
                       R"(]}, "keras_version": "2.10.0", "backend": "tensorflow"})");
}

std::string input_layer(const std::string& shape) {
    return R"({"class_name": "InputLayer", "config": {"batch_input_shape": )" + shape +
           R"(, "dtype": "float32", "sparse": false, "ragged": false, "name": "input_1"}})";
}

std::string conv(const std::string& extra) {
    return R"({"class_name": "Conv1D", "config": {"name": "conv1d", "trainable": true, "dtype": "float32", )"
           R"("filters": 4, "kernel_size": [3], "strides": [1], "dilation_rate": [1], "use_bias": true)" +
           (extra.empty() ? std::string() : ", " + extra) + "}}";
}

std::string csv_rows(int rows, int cols) {
    std::string text;
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) text += std::to_string(r + c) + (c + 1 < cols ? "," : "\n");
    return text;
}

struct Command {
    int exit_code;
    std::string out;
};

// Runs the binary through the shell with popen, as a user's pipeline would; standard error is dropped.
Command run_command_line(const std::string& arguments) {
    const std::string command = std::string("'") + C1R_BINARY + "' " + arguments + " 2>/dev/null";
    FILE* pipe = popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::string out;
    char buffer[4096];
    size_t n = 0;
    while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
    int status = pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace

// The importer names every layer's inputs; the settings checks below compare the rest.
json without_inputs(json layer) {
    layer.erase("inputs");
    return layer;
}

TEST_CASE("tf.keras 2.10 Sequential with an InputLayer", "[keras]") {
    json config = convert("k2_sequential_inputlayer.json");
    CHECK(config["name"] == "sequential_1");
    CHECK(config["data_format"] == "channels_last");
    CHECK(config["input"] == json{{"shape", {1, 10, 3}}});  // batch None -> 1
    REQUIRE(config["layers"].size() == 5);                  // the InputLayer is consumed
    CHECK(without_inputs(config["layers"][0]) == json{{"type", "conv1d"},
                                      {"name", "conv1d_3"},
                                      {"filters", 32},
                                      {"kernel_size", 2},
                                      {"strides", 1},
                                      {"padding", "valid"},
                                      {"padding_mode", "zeros"},
                                      {"dilation_rate", 1},
                                      {"groups", 1},
                                      {"use_bias", true},
                                      {"activation", "relu"}});
    CHECK(config["layers"][1]["use_bias"] == false);
    CHECK(without_inputs(config["layers"][2]) == json{{"type", "max_pool1d"},
                                      {"name", "max_pooling1d_1"},
                                      {"pool_size", 2},
                                      {"strides", 2},
                                      {"padding", "valid"},
                                      {"dilation_rate", 1},
                                      {"ceil_mode", false}});
    CHECK(config["layers"][3]["output_padding"].is_null());  // null: Keras' default length rule
    CHECK(without_inputs(config["layers"][4]) ==
          json{{"type", "activation"}, {"name", "activation"}, {"activation", "tanh"}});
    CHECK(planned_shapes(config) == std::vector<Dims3>{
                                        {1, 10, 3},
                                        {1, 9, 32},  // valid k2: 10 - 2 + 1 = 9
                                        {1, 5, 16},  // same s2: ceil(9 / 2) = 5
                                        {1, 2, 16},  // pool 2 s2 valid: floor((5 - 2) / 2) + 1 = 2
                                        {1, 4, 8},   // transpose same s2, no output_padding: 2 * 2 = 4
                                        {1, 4, 8},   // tanh keeps the shape
                                    });
}

TEST_CASE("Keras 2.2 Sequential without an InputLayer takes the first layer's batch_input_shape", "[keras]") {
    json config = convert("k22_sequential_no_inputlayer.json");
    CHECK(config["input"]["shape"] == json{1, 200, 8});
    CHECK(config["layers"][0]["groups"] == 1);  // no "groups" key before Keras 2.3
    CHECK(config["layers"][0]["padding"] == "causal");
    CHECK(planned_shapes(config) == std::vector<Dims3>{
                                        {1, 200, 8},
                                        {1, 200, 16},  // causal s1: ceil(200 / 1) = 200
                                        {1, 50, 16},   // avg pool 4 s4 same: ceil(200 / 4) = 50
                                        {1, 24, 32},   // valid k3 s2: floor((50 - 3) / 2) + 1 = 24
                                        {1, 32, 24},   // Permute((2, 1)) swaps steps and channels
                                        {1, 48, 16},   // Reshape((-1, 16)): 32 * 24 / 16 = 48
                                    });
}

TEST_CASE("Keras 2.1 Sequential whose config is a bare list of layers", "[keras]") {
    json config = convert("k21_sequential_list.json");
    CHECK_FALSE(config.contains("name"));  // none in the file: the config parser names it after the file
    CHECK(planned_shapes(config) == std::vector<Dims3>{
                                        {1, 100, 4},
                                        {1, 94, 8},  // valid k7: 100 - 7 + 1 = 94
                                        {1, 31, 8},  // pool 3 s3 valid: floor((94 - 3) / 3) + 1 = 31
                                    });
}

TEST_CASE("Keras 3 Sequential with DTypePolicy objects, module and registered_name", "[keras]") {
    json config = convert("k3_sequential.json");
    CHECK(config["name"] == "audio_encoder");
    CHECK(config["layers"][0]["activation"] == "gelu");
    CHECK(config["layers"][1]["activation"] == "swish");  // Keras 3 "silu"
    CHECK(config["layers"][3]["groups"] == 2);
    CHECK(config["layers"][4]["strides"] == 2);  // strides null -> pool_size
    CHECK(planned_shapes(config) == std::vector<Dims3>{
                                        {1, 16000, 1},
                                        {1, 4000, 16},  // same s4: ceil(16000 / 4) = 4000
                                        {1, 1000, 32},  // same s4: ceil(4000 / 4) = 1000
                                        {1, 500, 32},   // pool 2 s2 valid: floor((1000 - 2) / 2) + 1 = 500
                                        {1, 498, 64},   // valid k3, groups 2: 500 - 3 + 1 = 498
                                        {1, 249, 64},   // avg pool 2 s2 valid: floor((498 - 2) / 2) + 1 = 249
                                    });

    c1r::KerasImportOptions options;
    options.batch = 4;  // fills the None batch
    CHECK(convert("k3_sequential.json", options)["input"]["shape"] == json{4, 16000, 1});
}

TEST_CASE("Keras 3 Functional linear chain", "[keras]") {
    json config = convert("k3_functional.json");
    CHECK(config["name"] == "decoder");
    REQUIRE(config["layers"].size() == 5);
    CHECK(config["layers"][1]["name"] == "conv1d_transpose");
    CHECK_FALSE(config["layers"][1].contains("groups"));
    CHECK(planned_shapes(config) == std::vector<Dims3>{
                                        {1, 64, 16},
                                        {1, 64, 32},   // same s1: 64
                                        {1, 130, 16},  // transpose valid k4 s2: 64 * 2 + max(4 - 2, 0) = 130
                                        {1, 260, 16},  // UpSampling1D(2): 130 * 2
                                        {1, 130, 32},  // Reshape((130, 32)): 260 * 16 = 130 * 32
                                        {1, 130, 32},  // sigmoid keeps the shape
                                    });
}

TEST_CASE("Keras 2 Functional linear chain with a fixed batch", "[keras]") {
    json config = convert("k2_functional.json");
    CHECK(config["layers"][1]["output_padding"] == 1);  // [1] unwrapped
    CHECK(planned_shapes(config) ==
          std::vector<Dims3>{
              {4, 20, 32},
              {4, 10, 16},  // valid k2 s2: floor((20 - 2) / 2) + 1 = 10
              {4, 20, 32},  // transpose same k3 s2 op1: (10 - 1) * 2 + 3 % 2 + 1 = 20
              {4, 32, 20},  // Permute((2, 1))
          });

    c1r::KerasImportOptions same_batch;
    same_batch.batch = 4;
    CHECK(convert("k2_functional.json", same_batch)["input"]["shape"] == json{4, 20, 32});

    c1r::KerasImportOptions other_batch;
    other_batch.batch = 2;
    c1r::Error f = fixture_failure("k2_functional.json", other_batch);
    CHECK(f.kind() == c1r::ErrorKind::config);
    CHECK(f.pointer() == "/config/layers/0/config/batch_input_shape/0");
    CHECK_THAT(f.what(), Catch::Contains("--batch 2 differs from the model's fixed batch 4"));
}

TEST_CASE("A None length comes from --length or the input file, or is an error", "[keras]") {
    c1r::KerasImportOptions with_length;
    with_length.length = 100;
    json config = convert("k3_none_length.json", with_length);
    CHECK(planned_shapes(config) ==
          std::vector<Dims3>{
              {1, 100, 2}, {1, 49, 8},  // valid k3 s2: floor((100 - 3) / 2) + 1 = 49
          });

    c1r::Error missing = fixture_failure("k3_none_length.json");
    CHECK(missing.kind() == c1r::ErrorKind::config);
    CHECK(c1r::exit_code(missing.kind()) == 2);
    CHECK(missing.pointer() == "/config/layers/0/config/batch_shape/1");
    CHECK(std::string(missing.what()).rfind(fixture("k3_none_length.json") + ": ", 0) == 0);
    CHECK_THAT(missing.what(), Catch::Contains("length is None: give --length N or --input FILE"));

    c1r_test::TempDir files("c1r_keras_test");
    c1r::KerasImportOptions with_file;
    with_file.input_file = files.write("x.csv", csv_rows(50, 2));
    json from_file = convert("k3_none_length.json", with_file);
    CHECK(from_file["input"] == json{{"file", with_file.input_file}});  // its shape fills the None dims

    // A file that does not fit (3 channels for 2) is the runner's to refuse: --input replaces the shape (SPEC §3).
    c1r::KerasImportOptions all_known;  // nothing left to fill: the runner checks the file against this shape
    all_known.batch = 1;
    all_known.length = 50;
    all_known.input_file = with_file.input_file;
    CHECK(convert("k3_none_length.json", all_known)["input"] ==
          json{{"file", with_file.input_file}, {"shape", {1, 50, 2}}});
}

TEST_CASE("channels_first model keeps (batch, channels, steps)", "[keras]") {
    json config = convert("k2_channels_first.json");
    CHECK(config["data_format"] == "channels_first");
    CHECK(config["input"]["shape"] == json{1, 6, 40});
    CHECK(planned_shapes(config) == std::vector<Dims3>{
                                        {1, 6, 40},
                                        {1, 12, 36},  // valid k5 over 40 steps: 40 - 5 + 1 = 36
                                        {1, 12, 18},  // pool 2 s2 valid: floor((36 - 2) / 2) + 1 = 18
                                        {1, 4, 36},   // transpose valid k2 s2: 18 * 2 + max(2 - 2, 0) = 36
                                        {1, 8, 18},   // Reshape((8, -1)): 4 * 36 / 8 = 18
                                    });

    c1r::KerasImportOptions length;
    length.length = 40;  // the same as the model's: allowed
    CHECK(convert("k2_channels_first.json", length)["input"]["shape"] == json{1, 6, 40});
    length.length = 41;
    c1r::Error f = fixture_failure("k2_channels_first.json", length);
    CHECK(f.pointer() == "/config/layers/0/config/batch_input_shape/2");  // steps are last in channels_first
    CHECK_THAT(f.what(), Catch::Contains("--length 41 differs from the model's fixed length 40"));
}

TEST_CASE("Layers that cannot be mapped are all listed, each with index, name, class and pointer", "[keras]") {
    c1r::Error f = import_failure(sequential(
        input_layer("[null, 10, 3]") + R"(, {"class_name": "Lambda", "config": {"name": "lam"}},
           {"class_name": "Dense", "config": {"name": "d", "units": 2}},
           {"class_name": "MyCustomLayer", "config": {"name": "mine"}})"));
    CHECK(f.kind() == c1r::ErrorKind::config);
    CHECK(f.pointer() == "/config/layers/1");
    CHECK_THAT(f.what(), Catch::Contains("2 layers cannot be mapped"));
    CHECK_THAT(f.what(), Catch::Contains("layer 1 'lam' (Lambda) cannot be mapped to a conv1d-reshape layer at /config/layers/1"));
    CHECK_THAT(f.what(), Catch::Contains("layer 3 'mine' (MyCustomLayer) cannot be mapped to a conv1d-reshape layer at /config/layers/3"));
    for (const char* cls : {"Flatten", "Dropout", "BatchNormalization", "GlobalMaxPooling1D"}) {
        json config = c1r::keras_to_config(
            sequential(input_layer("[null, 10, 3]") + R"(, {"class_name": ")" + cls + R"(", "config": {"name": "x"}})"),
            "model.json", {});
        CHECK(config["layers"].size() == 1);
    }
}

TEST_CASE("An unknown activation is an error naming the layer and the activation", "[keras]") {
    c1r::Error g = import_failure(sequential(
        input_layer("[null, 10, 3]") + R"(, {"class_name": "Activation", "config": {"name": "a", "activation": "zigzag"}})"));
    CHECK(g.pointer() == "/config/layers/1/config/activation");
    CHECK_THAT(g.what(), Catch::Contains("layer 1 'a' (Activation): /config/layers/1/config/activation: unknown value \"zigzag\""));
    json none = c1r::keras_to_config(
        sequential(input_layer("[null, 10, 3]") + ", " + conv(R"("activation": null)")), "model.json", {});
    CHECK(none["layers"][0]["activation"] == "linear");
    json softmax = c1r::keras_to_config(
        sequential(input_layer("[null, 10, 3]") + ", " + conv(R"("activation": "softmax")")), "model.json", {});
    CHECK(softmax["layers"][0]["activation"] == "softmax");
}

TEST_CASE("Branches, several outputs and shared layers import as a graph", "[keras]") {
    json config = convert("k3_functional_branching.json");
    const json& add = config["layers"][2];
    CHECK(add["type"] == "add");
    CHECK(add["inputs"].size() == 2);

    json two_outputs = json::parse(R"({"class_name": "Functional", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 8, 2], "name": "in"}, "name": "in",
         "inbound_nodes": []},
        {"class_name": "Activation", "config": {"name": "a", "activation": "relu"}, "name": "a",
         "inbound_nodes": [[["in", 0, 0, {}]]]},
        {"class_name": "Activation", "config": {"name": "b", "activation": "tanh"}, "name": "b",
         "inbound_nodes": [[["in", 0, 0, {}]]]}],
        "input_layers": [["in", 0, 0]], "output_layers": [["a", 0, 0], ["b", 0, 0]]}})");
    json two = c1r::keras_to_config(two_outputs, "model.json", {});
    CHECK(two["outputs"] == json{"a", "b"});
    CHECK(two["layers"][1]["inputs"] == json{"input"});

    json shared = two_outputs;
    shared["config"]["output_layers"] = json::parse(R"([["a", 1, 0]])");
    shared["config"]["layers"].erase(2);
    shared["config"]["layers"][1]["inbound_nodes"] = json::parse(R"([[["in", 0, 0, {}]], [["a", 0, 0, {}]]])");
    json s = c1r::keras_to_config(shared, "model.json", {});
    REQUIRE(s["layers"].size() == 2);
    CHECK(s["layers"][1]["type"] == "shared");
    CHECK(s["layers"][1]["layer"] == "a");
    CHECK(s["layers"][1]["inputs"] == json{"a"});
    CHECK(planned_shapes(s).size() == 3);
}

TEST_CASE("Functional layers are ordered by their connections, not by their place in the file", "[keras]") {
    const std::string path = fixture("k3_functional.json");
    json model = c1r::read_json_file(path);
    json& layers = model["config"]["layers"];
    std::reverse(layers.begin(), layers.end());
    CHECK(c1r::keras_to_config(model, path, {}) == convert("k3_functional.json"));
}

TEST_CASE("Keras settings that change the forward pass are mapped or refused, never dropped", "[keras]") {
    const std::string input = input_layer("[null, 10, 3]") + ", ";
    SECTION("padding full") {
        c1r::Error f = import_failure(sequential(input + conv(R"("padding": "full")")));
        CHECK(f.pointer() == "/config/layers/1/config/padding");
        CHECK_THAT(f.what(), Catch::Contains("layer 1 'conv1d' (Conv1D): /config/layers/1/config/padding: unknown padding \"full\""));
    }
    SECTION("causal padding on a transposed conv") {
        std::string layer = conv(R"("padding": "causal")");
        layer.replace(layer.find("Conv1D"), 6, "Conv1DTranspose");
        CHECK_THAT(
            import_failure(sequential(input + layer)).what(),
            Catch::Contains("unknown padding \"causal\" (expected valid, same, an integer or [left, right])"));
    }
    SECTION("data formats that disagree") {
        c1r::Error f = import_failure(sequential(
            input + conv(R"("data_format": "channels_last")") +
            R"(, {"class_name": "MaxPooling1D", "config": {"name": "p", "pool_size": [2], "data_format": "channels_first"}})"));
        CHECK(f.pointer() == "/config/layers/2/config/data_format");
        CHECK_THAT(f.what(),
                   Catch::Contains("layers disagree on data_format (channels_last and channels_first)"));
    }
    SECTION("a setting nobody knows") {
        c1r::Error f = import_failure(sequential(input + conv(R"("padding": "valid", "mystery": 2)")));
        CHECK(f.pointer() == "/config/layers/1/config/mystery");
        CHECK_THAT(f.what(), Catch::Contains("unknown key \"mystery\""));
    }
    SECTION("groups that do not divide the filters") {
        c1r::Error f = import_failure(sequential(input + conv(R"("groups": 3)")));
        CHECK(f.pointer() == "/config/layers/1/config/groups");
    }
    SECTION("a grouped transposed conv") {
        std::string layer = conv(R"("groups": 2)");
        layer.replace(layer.find("Conv1D"), 6, "Conv1DTranspose");
        CHECK_THAT(import_failure(sequential(input + layer)).what(),
                   Catch::Contains("unknown key \"groups\""));
    }
    SECTION("output_padding not below strides") {
        std::string layer = conv(R"("output_padding": [1])");
        layer.replace(layer.find("Conv1D"), 6, "Conv1DTranspose");
        c1r::Error f = import_failure(sequential(input + layer));
        CHECK(f.pointer() == "/config/layers/1/config/output_padding");
        CHECK_THAT(f.what(), Catch::Contains("must be less than strides"));
    }
    SECTION("a Reshape to rank 3") {
        c1r::Error f = import_failure(sequential(
            input + R"({"class_name": "Reshape", "config": {"name": "r", "target_shape": [5, 2, 3]}})"));
        CHECK(f.pointer() == "/config/layers/1/config/target_shape");
        CHECK_THAT(f.what(), Catch::Contains("expected one or two entries"));
    }
    SECTION("UpSampling1D in a channels_first model repeats channels in Keras") {
        c1r::Error f = import_failure(
            sequential(input + conv(R"("data_format": "channels_first")") +
                       R"(, {"class_name": "UpSampling1D", "config": {"name": "u", "size": 2}})"));
        CHECK(f.pointer() == "/config/layers/2/config/size");
        CHECK_THAT(f.what(), Catch::Contains("channel axis of this channels_first model"));
    }
}

TEST_CASE("Keras aliases, plain integers and optional keys", "[keras]") {
    json model = sequential(
        input_layer("[2, 12, 3]") +
        R"(, {"class_name": "MaxPool1D", "config": {"name": "p", "pool_size": 3, "strides": null, "padding": "same"}},
             {"class_name": "AvgPool1D", "config": {"name": "q"}},
             {"class_name": "Conv1DTranspose", "config": {"name": "t", "filters": 5, "kernel_size": 3, "strides": 3,
              "output_padding": 2, "padding": "SAME"}},
             {"class_name": "Convolution1D", "config": {"name": "c", "filters": 6, "kernel_size": [2],
              "activation": "silu", "lora_rank": null}})");
    json config = c1r::keras_to_config(model, "model.json", {});
    CHECK(without_inputs(config["layers"][0]) ==
          json{{"type", "max_pool1d"}, {"name", "p"}, {"pool_size", 3}, {"strides", 3}, {"padding", "same"},
               {"dilation_rate", 1}, {"ceil_mode", false}});
    CHECK(
        without_inputs(config["layers"][1]) ==
        json{{"type", "avg_pool1d"}, {"name", "q"}, {"pool_size", 2}, {"strides", 2}, {"padding", "valid"},
             {"ceil_mode", false}, {"count_include_pad", false}});
    CHECK(config["layers"][2]["output_padding"] == 2);
    CHECK(config["layers"][3]["activation"] == "swish");  // silu and swish are one function
    CHECK(planned_shapes(config) == std::vector<Dims3>{
                                        {2, 12, 3},
                                        {2, 4, 3},  // pool 3 s3 same: ceil(12 / 3) = 4
                                        {2, 2, 3},  // pool 2 s2 valid: floor((4 - 2) / 2) + 1 = 2
                                        {2, 6, 5},  // transpose same k3 s3 op2: (2 - 1) * 3 + 3 % 2 + 2 = 6
                                        {2, 5, 6},  // valid k2: 6 - 2 + 1 = 5
                                    });
}

TEST_CASE("LayerNormalization's axis list: the channels, or length and channels together", "[keras]") {
    // Keras 3 stores sorted(axes) once built; axis=[1, 2] normalises each sample over its steps and channels,
    // with gamma and beta of shape (L, C).
    json model = sequential(
        input_layer("[2, 6, 3]") +
        R"(, {"class_name": "LayerNormalization", "config": {"name": "ln1", "axis": [2], "epsilon": 0.001}},
             {"class_name": "LayerNormalization", "config": {"name": "ln2", "axis": [1, 2], "epsilon": 0.01,
              "center": true, "scale": true, "rms_scaling": false}})");
    json config = c1r::keras_to_config(model, "model.json", {});
    CHECK(config["layers"][0]["axis"] == 2);  // a one-entry list reads as its integer
    CHECK(config["layers"][1]["axis"] == json::array({1, 2}));
    c1r::Plan plan = c1r_test::plan_of(config, "model.json");
    REQUIRE(plan.layers.size() == 2);
    CHECK(plan.layers[0].params == 2 * 3);      // gamma, beta (C)
    CHECK(plan.layers[1].params == 2 * 6 * 3);  // gamma, beta (L, C), as Keras' model.summary() counts
    CHECK_FALSE(plan.layers[1].receptive_field.has_value());  // every step of the sample

    SECTION("an axis list that leaves out the channels is refused, not computed differently") {
        json length_only = sequential(
            input_layer("[2, 6, 3]") + R"(, {"class_name": "LayerNormalization", "config": {"name": "ln", "axis": [1]}})");
        c1r::Error e = c1r_test::error_from([&] { c1r_test::plan_of(c1r::keras_to_config(length_only, "model.json", {}), "model.json"); });
        CHECK(e.kind() == c1r::ErrorKind::config);
        CHECK_THAT(e.what(), Catch::Contains("axis 1 is not the channel axis (2)"));
    }
}

TEST_CASE("The input shape comes from the first place the model states it", "[keras]") {
    SECTION("Keras 3 Sequential without an InputLayer: build_input_shape") {
        json model = json::parse(R"({"module": "keras", "class_name": "Sequential", "config": {"name": "m",
            "layers": [{"module": "keras.layers", "class_name": "Activation", "config": {"name": "a",
            "activation": "relu"}, "registered_name": null}], "build_input_shape": [null, 7, 2]}})");
        CHECK(c1r::keras_to_config(model, "model.json", {})["input"]["shape"] == json{1, 7, 2});
    }
    SECTION("Keras 3 layer build_config") {
        json model = json::parse(R"({"class_name": "Sequential", "config": {"name": "m",
            "layers": [{"class_name": "Activation", "config": {"name": "a", "activation": "relu"},
            "build_config": {"input_shape": [3, 9, 2]}}]}})");
        CHECK(c1r::keras_to_config(model, "model.json", {})["input"]["shape"] == json{3, 9, 2});
    }
    SECTION("nowhere") {
        json model = json::parse(R"({"class_name": "Sequential", "config": {"name": "m",
            "layers": [{"class_name": "Activation", "config": {"name": "a", "activation": "relu"}}]}})");
        c1r::Error f = import_failure(model);
        CHECK(f.pointer() == "/config/layers/0");
        CHECK_THAT(f.what(), Catch::Contains("does not state its input shape"));
    }
    SECTION("a None channel count") {
        c1r::Error f = import_failure(sequential(input_layer("[null, 10, null]") + ", " + conv("")));
        CHECK(f.pointer() == "/config/layers/0/config/batch_input_shape/2");
        CHECK_THAT(f.what(), Catch::Contains("the channel count is None"));
    }
    SECTION("rank 4") {
        c1r::Error f = import_failure(sequential(input_layer("[null, 10, 10, 3]") + ", " + conv("")));
        CHECK(f.pointer() == "/config/layers/0/config/batch_input_shape");
        CHECK_THAT(f.what(), Catch::Contains("has rank 4; conv1d-reshape takes (batch, steps, channels) or (batch, features)"));
    }
    SECTION("rank 2 followed by a Reshape, e.g. a raw waveform") {
        json model =
            sequential(input_layer("[null, null]") +
                       R"(, {"class_name": "Reshape", "config": {"name": "r", "target_shape": [-1, 1]}})");
        c1r::KerasImportOptions options;
        options.length = 800;
        json config = c1r::keras_to_config(model, "model.json", options);
        CHECK(config["input"]["shape"] == json{1, 800});  // (batch, samples), then reshaped to 800 steps
    }
    SECTION("rank 2 is (batch, features)") {
        json config = c1r::keras_to_config(
            sequential(input_layer("[null, 10]") + R"(, {"class_name": "Dense", "config": {"name": "d", "units": 4}})"),
            "model.json", {});
        CHECK(config["input"]["shape"] == json{1, 10});
        CHECK(config["layers"][0]["units"] == 4);
    }
}

TEST_CASE("The binary runs a Keras model end to end (--dry-run)", "[keras][e2e]") {
    Command run = run_command_line("--format json --dry-run '" + fixture("k3_sequential.json") + "'");
    REQUIRE(run.exit_code == 0);
    json report = json::parse(run.out);
    if (report.is_array()) report = report.at(0);
    CHECK(report["name"] == "audio_encoder");
    CHECK(report["input"]["shape"] == json{1, 16000, 1});
    CHECK(report["output"]["shape"] == json{1, 249, 64});
    CHECK(report["layers"].size() == 5);

    Command length = run_command_line("--format json --dry-run --batch 2 --length 100 '" +
                                      fixture("k3_none_length.json") + "'");
    REQUIRE(length.exit_code == 0);
    json second = json::parse(length.out);
    if (second.is_array()) second = second.at(0);
    CHECK(second["output"]["shape"] == json{2, 49, 8});  // valid k3 s2: floor((100 - 3) / 2) + 1 = 49

    Command missing = run_command_line("--format json --dry-run '" + fixture("k3_none_length.json") + "'");
    CHECK(missing.exit_code == 2);
}
