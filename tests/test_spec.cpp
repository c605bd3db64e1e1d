// Checks config parsing: Keras defaults, accepted spellings, and errors naming the file and exact JSON
// pointer.
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "model/spec.hpp"
#include "test_helpers.hpp"

using c1r_test::config_json;
using c1r_test::conv_layer;
using c1r_test::error_from;
using c1r_test::json;
using c1r_test::parse;
using Catch::Matchers::Contains;

namespace {

const std::string kSource = "configs/sub/bad_config.json";

// The config error parsing `config` gives; checks its kind, pointer and that the message names file and
// pointer.
void check_config_error(const json& config, const std::string& pointer) {
    CAPTURE(config.dump(), pointer);
    auto e = error_from([&] { c1r::parse_config(config, kSource); });
    CHECK(e.kind() == c1r::ErrorKind::config);
    CHECK(e.pointer() == pointer);
    CHECK_THAT(e.what(), Contains(kSource));
    CHECK_THAT(e.what(), Contains(pointer));
}

// A one-layer config whose layer gets `key` set to `value`.
json with_layer_key(json layer, const std::string& key, const json& value) {
    layer[key] = value;
    return config_json({1, 16, 4}, json::array({layer}));
}

json conv() { return conv_layer(8, 3); }
json transpose() { return json{{"type", "conv1d_transpose"}, {"filters", 8}, {"kernel_size", 3}}; }

}  // namespace

TEST_CASE("conv1d defaults follow Keras", "[spec][defaults]") {
    json layer = {{"type", "conv1d"}, {"filters", 8}, {"kernel_size", 3}};
    auto spec = parse(config_json({1, 16, 4}, json::array({layer})));
    REQUIRE(spec.layers.size() == 1);
    const auto& l = spec.layers[0];
    CHECK(l.type == c1r::LayerType::conv1d);
    CHECK(l.pointer == "/layers/0");
    CHECK(l.filters == 8);
    CHECK(l.kernel_size == 3);
    CHECK(l.strides == 1);
    CHECK(l.padding.kind == c1r::PaddingKind::valid);
    CHECK(l.dilation_rate == 1);
    CHECK(l.groups == 1);
    CHECK(l.use_bias);
    CHECK(l.activation.fn == c1r::Activation::linear);
    CHECK_FALSE(l.output_padding.has_value());
    CHECK(l.weight_files.empty());
}

TEST_CASE("conv1d_transpose, pooling and upsample defaults follow Keras", "[spec][defaults]") {
    json layers = json::array({transpose(), json{{"type", "max_pool1d"}},
                               json{{"type", "avg_pool1d"}, {"pool_size", 3}}, json{{"type", "upsample1d"}},
                               json{{"type", "activation"}, {"activation", "relu"}}});
    auto spec = parse(config_json({1, 16, 4}, layers));
    REQUIRE(spec.layers.size() == 5);
    CHECK(spec.layers[0].strides == 1);
    CHECK(spec.layers[0].padding.kind == c1r::PaddingKind::valid);
    CHECK(spec.layers[0].dilation_rate == 1);
    CHECK_FALSE(spec.layers[0].output_padding.has_value());
    CHECK(spec.layers[0].use_bias);
    CHECK(spec.layers[0].activation.fn == c1r::Activation::linear);
    CHECK(spec.layers[1].pool_size == 2);
    CHECK(spec.layers[1].strides == 2);  // strides default to pool_size
    CHECK(spec.layers[1].padding.kind == c1r::PaddingKind::valid);
    CHECK(spec.layers[2].pool_size == 3);
    CHECK(spec.layers[2].strides == 3);
    CHECK(spec.layers[3].size == 2);
    CHECK(spec.layers[4].activation.fn == c1r::Activation::relu);
    CHECK(spec.layers[4].pointer == "/layers/4");
}

TEST_CASE("top-level, input and run defaults", "[spec][defaults]") {
    json config = {{"input", {{"shape", {1, 16, 4}}}}, {"layers", json::array({conv()})}};
    auto spec = c1r::parse_config(config, "some/dir/my_stack.json");
    CHECK(spec.source == "some/dir/my_stack.json");
    CHECK(spec.name == "my_stack");  // the file's stem when the config has no name
    CHECK(spec.data_format == c1r::DataFormat::channels_last);
    REQUIRE(spec.input.shape.has_value());
    CHECK(*spec.input.shape == c1r::Dims3{1, 16, 4});
    CHECK(spec.input.file.empty());
    CHECK(spec.input.init.distribution == c1r::Distribution::normal);
    CHECK(spec.input.init.mean == 0.0);
    CHECK(spec.input.init.stddev == 1.0);
    CHECK(spec.input.init.seed == 0);
    CHECK(spec.run.warmup == 5);
    CHECK(spec.run.repeats == 50);
    CHECK(spec.run.threads == 0);  // auto
    CHECK(spec.run.dtype == c1r::DType::f32);
    CHECK_FALSE(spec.run.seed.has_value());
}

TEST_CASE("accepted spellings", "[spec][forms]") {
    SECTION("one-element lists, as Keras serialises them") {
        json layer = {{"type", "conv1d"},
                      {"filters", 8},
                      {"kernel_size", {3}},
                      {"strides", {2}},
                      {"dilation_rate", {1}}};
        json pool = {{"type", "max_pool1d"}, {"pool_size", {3}}, {"strides", {1}}};
        auto spec = parse(config_json({1, 16, 4}, json::array({layer, pool})));
        CHECK(spec.layers[0].kernel_size == 3);
        CHECK(spec.layers[0].strides == 2);
        CHECK(spec.layers[0].dilation_rate == 1);
        CHECK(spec.layers[1].pool_size == 3);
        CHECK(spec.layers[1].strides == 1);
    }
    SECTION("padding forms") {
        auto one = [](const json& padding) {
            return parse(with_layer_key(conv(), "padding", padding)).layers[0].padding;
        };
        CHECK(one("same").kind == c1r::PaddingKind::same);
        CHECK(one("causal").kind == c1r::PaddingKind::causal);
        auto symmetric = one(2);
        CHECK(symmetric.kind == c1r::PaddingKind::explicit_pads);
        CHECK(symmetric.left == 2);
        CHECK(symmetric.right == 2);
        auto pair = one(json::array({0, 3}));
        CHECK(pair.kind == c1r::PaddingKind::explicit_pads);
        CHECK(pair.left == 0);
        CHECK(pair.right == 3);
    }
    SECTION("every activation") {
        const std::vector<std::pair<std::string, c1r::Activation>> names = {
            {"linear", c1r::Activation::linear}, {"relu", c1r::Activation::relu},
            {"tanh", c1r::Activation::tanh},     {"sigmoid", c1r::Activation::sigmoid},
            {"gelu", c1r::Activation::gelu},     {"elu", c1r::Activation::elu},
            {"swish", c1r::Activation::swish}};
        for (const auto& [name, activation] : names) {
            CAPTURE(name);
            CHECK(parse(with_layer_key(conv(), "activation", name)).layers[0].activation.fn == activation);
        }
    }
    SECTION("output_padding, run section and channels_first") {
        json layer = transpose();
        layer["strides"] = 3;
        layer["output_padding"] = 2;
        json config = config_json({1, 4, 16}, json::array({layer}));
        config["data_format"] = "channels_first";
        config["run"] = {{"warmup", 0}, {"repeats", 7}, {"threads", 3}, {"dtype", "bf16"}, {"seed", 9}};
        auto spec = parse(config);
        CHECK(spec.layers[0].output_padding == 2);
        CHECK(spec.data_format == c1r::DataFormat::channels_first);
        CHECK(spec.run.warmup == 0);
        CHECK(spec.run.repeats == 7);
        CHECK(spec.run.threads == 3);
        CHECK(spec.run.dtype == c1r::DType::bf16);
        CHECK(spec.run.seed == 9u);
        config["run"]["threads"] = "auto";
        CHECK(parse(config).run.threads == 0);
    }
    SECTION("file paths resolve against the config's folder") {
        json layer = conv();
        layer["weights"] = {{"kernel", "k.npy"}, {"bias", "/abs/b.npy"}};
        json config = {{"input", {{"file", "data/x.npy"}}}, {"layers", json::array({layer})}};
        auto spec = c1r::parse_config(config, "proj/cfg/run.json");
        CHECK(spec.input.file == "proj/cfg/data/x.npy");
        CHECK(spec.layers[0].weight_files.at("kernel") == "proj/cfg/k.npy");
        CHECK(spec.layers[0].weight_files.at("bias") == "/abs/b.npy");
    }
}

TEST_CASE("bad layer settings name the file and the exact pointer", "[spec][errors]") {
    SECTION("unknown key") {
        json layer = conv();
        layer["kernal_size"] = 3;
        check_config_error(config_json({1, 16, 4}, json::array({layer})), "/layers/0/kernal_size");
    }
    SECTION("unknown key in a later layer") {
        json layer = json{{"type", "upsample1d"}, {"size", 2}, {"sise", 3}};
        check_config_error(config_json({1, 16, 4}, json::array({conv(), layer})), "/layers/1/sise");
    }
    SECTION("a typo of a required key is still refused") {
        json layer = {{"type", "conv1d"}, {"filters", 8}, {"kernal_size", 3}};
        auto e = error_from([&] { parse(config_json({1, 16, 4}, json::array({layer})), kSource); });
        CHECK(e.kind() == c1r::ErrorKind::config);
        CHECK(e.pointer().rfind("/layers/0/", 0) == 0);
    }
    SECTION("wrong types") {
        check_config_error(with_layer_key(conv(), "kernel_size", "3"), "/layers/0/kernel_size");
        check_config_error(with_layer_key(conv(), "filters", json::array({8, 8})), "/layers/0/filters");
        check_config_error(with_layer_key(conv(), "use_bias", "yes"), "/layers/0/use_bias");
        check_config_error(with_layer_key(conv(), "activation", 1), "/layers/0/activation");
        check_config_error(with_layer_key(conv(), "padding", true), "/layers/0/padding");
        check_config_error(with_layer_key(conv(), "strides", json{{"value", 2}}), "/layers/0/strides");
    }
    SECTION("zero and negative sizes") {
        check_config_error(with_layer_key(conv(), "kernel_size", 0), "/layers/0/kernel_size");
        check_config_error(with_layer_key(conv(), "filters", 0), "/layers/0/filters");
        check_config_error(with_layer_key(conv(), "strides", -1), "/layers/0/strides");
        check_config_error(with_layer_key(conv(), "dilation_rate", 0), "/layers/0/dilation_rate");
        check_config_error(with_layer_key(conv(), "groups", 0), "/layers/0/groups");
        check_config_error(with_layer_key(transpose(), "output_padding", -1), "/layers/0/output_padding");
        check_config_error(with_layer_key(json{{"type", "max_pool1d"}}, "pool_size", 0),
                           "/layers/0/pool_size");
        check_config_error(with_layer_key(json{{"type", "avg_pool1d"}}, "strides", 0), "/layers/0/strides");
        check_config_error(with_layer_key(json{{"type", "upsample1d"}}, "size", 0), "/layers/0/size");
        check_config_error(with_layer_key(conv(), "padding", json::array({-1, 0})), "/layers/0/padding/0");
        check_config_error(with_layer_key(conv(), "padding", -2), "/layers/0/padding");
    }
    SECTION("absurdly large sizes") {
        check_config_error(with_layer_key(conv(), "kernel_size", int64_t{1} << 40), "/layers/0/kernel_size");
        check_config_error(with_layer_key(conv(), "filters", uint64_t{1} << 63), "/layers/0/filters");
    }
    SECTION("floats where integers are required") {
        check_config_error(with_layer_key(conv(), "kernel_size", 3.0), "/layers/0/kernel_size");
        check_config_error(with_layer_key(conv(), "strides", 1.5), "/layers/0/strides");
        check_config_error(with_layer_key(conv(), "filters", 16.0), "/layers/0/filters");
        check_config_error(with_layer_key(json{{"type", "upsample1d"}}, "size", 2.5), "/layers/0/size");
    }
    SECTION("filters not divisible by groups") {
        json layer = conv_layer(6, 3);
        layer["groups"] = 4;
        check_config_error(config_json({1, 16, 8}, json::array({layer})), "/layers/0/groups");
    }
    SECTION("output_padding must be less than strides") {
        json layer = transpose();
        layer["strides"] = 2;
        layer["output_padding"] = 2;
        check_config_error(config_json({1, 16, 4}, json::array({layer})), "/layers/0/output_padding");
        layer["strides"] = 1;
        layer["output_padding"] = 1;
        check_config_error(config_json({1, 16, 4}, json::array({layer})), "/layers/0/output_padding");
    }
    SECTION("bad padding strings and kinds a layer does not take") {
        check_config_error(with_layer_key(conv(), "padding", "full"), "/layers/0/padding");
        check_config_error(with_layer_key(conv(), "padding", "FULL"), "/layers/0/padding");  // 'SAME' is Keras' too
        check_config_error(with_layer_key(transpose(), "padding", "causal"), "/layers/0/padding");
        check_config_error(with_layer_key(transpose(), "padding", json::array({1, 2, 3})), "/layers/0/padding");
        check_config_error(with_layer_key(json{{"type", "max_pool1d"}}, "padding", "causal"),
                           "/layers/0/padding");
        check_config_error(with_layer_key(json{{"type", "avg_pool1d"}}, "padding", json::array({2, 2})),
                           "/layers/0/padding");  // explicit pads: at most pool_size / 2 (PyTorch)
    }
    SECTION("keys another layer type has") {
        check_config_error(with_layer_key(transpose(), "groups", 2),
                           "/layers/0/groups");  // Conv1DTranspose has none
        check_config_error(with_layer_key(conv(), "output_padding", 1), "/layers/0/output_padding");
        check_config_error(with_layer_key(json{{"type", "max_pool1d"}}, "filters", 4), "/layers/0/filters");
    }
    SECTION("unknown or missing type, unknown activation") {
        check_config_error(with_layer_key(conv(), "type", "conv2d"), "/layers/0/type");
        check_config_error(config_json({1, 16, 4}, json::array({json{{"filters", 8}, {"kernel_size", 3}}})),
                           "/layers/0/type");
        check_config_error(with_layer_key(conv(), "activation", "softmaxx"), "/layers/0/activation");
        check_config_error(config_json({1, 16, 4}, json::array({json{{"type", "activation"}}})),
                           "/layers/0/activation");
        check_config_error(
            config_json({1, 16, 4}, json::array({json{{"type", "conv1d"}, {"kernel_size", 3}}})),
            "/layers/0/filters");
    }
    SECTION("permute dims") {
        json permute = {{"type", "permute"}};
        check_config_error(with_layer_key(permute, "dims", json::array({1, 1})), "/layers/0/dims");
        check_config_error(with_layer_key(permute, "dims", json::array({2, 3})), "/layers/0/dims");
        check_config_error(with_layer_key(permute, "dims", json::array({2})), "/layers/0/dims");
        check_config_error(with_layer_key(permute, "dims", json::array({2, 1, 3})), "/layers/0/dims");
        check_config_error(with_layer_key(permute, "dims", "21"), "/layers/0/dims");
        check_config_error(with_layer_key(permute, "dims", json::array({0, 1})), "/layers/0/dims/0");
        check_config_error(config_json({1, 16, 4}, json::array({permute})), "/layers/0/dims");
    }
    SECTION("reshape target_shape") {
        json reshape = {{"type", "reshape"}};
        check_config_error(with_layer_key(reshape, "target_shape", json::array({-1, -1})),
                           "/layers/0/target_shape");
        check_config_error(with_layer_key(reshape, "target_shape", json::array({4, 4, 4})),
                           "/layers/0/target_shape");
        check_config_error(with_layer_key(reshape, "target_shape", json::array({0, 64})),
                           "/layers/0/target_shape/0");
        check_config_error(with_layer_key(reshape, "target_shape", json::array({8, -2})),
                           "/layers/0/target_shape/1");
    }
    SECTION("normalisation axes") {
        const json ln = {{"type", "layer_normalization"}};
        check_config_error(with_layer_key(ln, "axis", json::array()), "/layers/0/axis");
        check_config_error(with_layer_key(ln, "axis", json::array({1, 2, 0, 1})), "/layers/0/axis");
        check_config_error(with_layer_key(ln, "axis", json::array({1, 4})), "/layers/0/axis/1");
        check_config_error(with_layer_key(ln, "axis", json::array({1, "2"})), "/layers/0/axis/1");
        check_config_error(with_layer_key(ln, "return_statistics", 1), "/layers/0/return_statistics");
        const json bn = {{"type", "batch_normalization"}};
        check_config_error(with_layer_key(bn, "axis", json::array({1, 2})), "/layers/0/axis");
        check_config_error(with_layer_key(bn, "return_statistics", true), "/layers/0/return_statistics");
        // Known once the input's rank is (make_plan): the batch axis without every other axis, an axis twice,
        // the length alone.
        for (const json& axes : {json::array({0, 2}), json::array({0}), json(0), json::array({0, 1, 1}),
                                 json::array({2, -1}), json::array({1}), json(1)}) {
            CAPTURE(axes.dump());
            auto spec = c1r::parse_config(with_layer_key(ln, "axis", axes), kSource);
            auto e = error_from([&] { c1r::make_plan(spec, c1r::Shape{1, 16, 4}); });
            CHECK(e.kind() == c1r::ErrorKind::config);
            CHECK(e.pointer() == "/layers/0/axis");
        }
        auto spec = c1r::parse_config(with_layer_key(ln, "axis", json::array({-1, 1})), kSource);
        CHECK(c1r::make_plan(spec, c1r::Shape{1, 16, 4}).layers[0].params == 2 * 16 * 4);
        // Every axis, the batch too: gamma/beta shaped like the input, (batch, length, channels).
        auto whole = c1r::parse_config(with_layer_key(ln, "axis", json::array({0, 1, 2})), kSource);
        CHECK(c1r::make_plan(whole, c1r::Shape{3, 16, 4}).layers[0].params == 2 * 3 * 16 * 4);
        // ... of a rank-3 input only: over (batch, features) it is refused, naming the axis.
        auto flat = c1r::parse_config(with_layer_key(ln, "axis", json::array({0, 1})), kSource);
        auto e = error_from([&] { c1r::make_plan(flat, c1r::Shape::flat(2, 8)); });
        CHECK(e.kind() == c1r::ErrorKind::config);
        CHECK(e.pointer() == "/layers/0/axis");
    }
    SECTION("a layer that is not an object") {
        check_config_error(config_json({1, 16, 4}, json::array({conv(), 3})), "/layers/1");
    }
    SECTION("weights") {
        {  // a variable the kind does not have: known once the layer's shapes are (make_plan)
            auto spec = c1r::parse_config(with_layer_key(conv(), "weights", json{{"kernel", "k.npy"}, {"kernels", "x"}}), kSource);
            auto e = error_from([&] { c1r::make_plan(spec, c1r::Shape{1, 16, 4}); });
            CHECK(e.pointer() == "/layers/0/weights/kernels");
            CHECK_THAT(e.what(), Contains("has no weight variable \"kernels\" (its variables: bias, kernel)"));
        }
        check_config_error(with_layer_key(conv(), "weights", json{{"kernel", 3}}),
                           "/layers/0/weights/kernel");
        check_config_error(with_layer_key(conv(), "weights", "k.npy"), "/layers/0/weights");
    }
}

TEST_CASE("bad top-level, input and run sections name the file and the exact pointer", "[spec][errors]") {
    const json good = config_json({1, 16, 4}, json::array({conv()}));
    SECTION("layers missing, empty or not a list") {
        json config = good;
        config.erase("layers");
        check_config_error(config, "/layers");
        config["layers"] = json::array();
        check_config_error(config, "/layers");
        config["layers"] = conv();
        check_config_error(config, "/layers");
    }
    SECTION("input shape") {
        json config = good;
        config["input"]["shape"] = {1};
        check_config_error(config, "/input/shape");
        config["input"]["shape"] = {1, 16, 4, 1};
        check_config_error(config, "/input/shape");
        config["input"]["shape"] = {1, 0, 4};
        check_config_error(config, "/input/shape/1");
        config["input"]["shape"] = {1, 16, -4};
        check_config_error(config, "/input/shape/2");
        config["input"]["shape"] = {1, 16.0, 4};
        check_config_error(config, "/input/shape/1");
        config["input"]["shape"] = "1x16x4";
        check_config_error(config, "/input/shape");
    }
    SECTION("input missing or empty") {
        json config = good;
        config["input"] = json::object();
        check_config_error(config, "/input");
        config.erase("input");
        check_config_error(config, "/input");
    }
    SECTION("input init") {
        json config = good;
        config["input"]["init"] = {{"distribution", "gaussian"}};
        check_config_error(config, "/input/init/distribution");
        config["input"]["init"] = {{"seed", -1}};
        check_config_error(config, "/input/init/seed");
        config["input"]["init"] = {{"stddev", "1"}};
        check_config_error(config, "/input/init/stddev");
        config["input"]["init"] = {{"sigma", 1}};
        check_config_error(config, "/input/init/sigma");
    }
    SECTION("unknown top-level key") {
        json config = good;
        config["layer"] = json::array();
        check_config_error(config, "/layer");
    }
    SECTION("a key with '/' and '~' is escaped as RFC 6901 says") {
        json config = good;
        config["a/b~c"] = 1;
        check_config_error(config, "/a~1b~0c");
    }
    SECTION("run.threads") {
        json config = good;
        config["run"]["threads"] = 0;
        check_config_error(config, "/run/threads");
        config["run"]["threads"] = -2;
        check_config_error(config, "/run/threads");
        config["run"]["threads"] = "many";
        check_config_error(config, "/run/threads");
        config["run"]["threads"] = 2.5;
        check_config_error(config, "/run/threads");
    }
    SECTION("run section") {
        json config = good;
        config["run"] = {{"dtype", "f16"}};
        check_config_error(config, "/run/dtype");
        config["run"] = {{"repeats", 0}};
        check_config_error(config, "/run/repeats");
        config["run"] = {{"warmup", -1}};
        check_config_error(config, "/run/warmup");
        config["run"] = {{"repeat", 5}};
        check_config_error(config, "/run/repeat");
        config["run"] = "fast";
        check_config_error(config, "/run");
    }
    SECTION("data_format") {
        json config = good;
        config["data_format"] = "NCW";
        check_config_error(config, "/data_format");
        config["data_format"] = 1;
        check_config_error(config, "/data_format");
    }
    SECTION("name must be a string") {
        json config = good;
        config["name"] = 3;
        check_config_error(config, "/name");
    }
    SECTION("the whole config must be an object") {
        auto e = error_from([&] { c1r::parse_config(json::array({1, 2}), kSource); });
        CHECK(e.kind() == c1r::ErrorKind::config);
        CHECK_THAT(e.what(), Contains(kSource));
    }
}

TEST_CASE("read_json_file names file, line and column of a syntax error", "[spec][json-file]") {
    c1r_test::TempDir dir("c1r_spec_test");
    SECTION("error on line 2") {
        // line 2 is `  "name": ,` — the unexpected ',' is its 11th character
        const std::string path = dir.write("broken.json", "{\n  \"name\": ,\n  \"layers\": []\n}\n");
        auto e = error_from([&] { c1r::read_json_file(path); });
        CHECK((e.kind() == c1r::ErrorKind::config || e.kind() == c1r::ErrorKind::input));
        CHECK_THAT(e.what(), Contains(path + ":2:11"));
    }
    SECTION("unterminated object at the end of line 3") {
        const std::string path = dir.write("short.json", "{\n  \"a\": 1,\n  \"b\": 2");
        auto e = error_from([&] { c1r::read_json_file(path); });
        CHECK_THAT(e.what(), Contains(path + ":3:"));
    }
    SECTION("a good file reads") {
        const std::string path = dir.write_json("good.json", config_json({1, 16, 4}, json::array({conv()})));
        json value = c1r::read_json_file(path);
        CHECK(value["layers"][0]["kernel_size"] == 3);
    }
    SECTION("a missing file is an input error naming it") {
        const std::string path = dir.file("absent.json");
        auto e = error_from([&] { c1r::read_json_file(path); });
        CHECK(e.kind() == c1r::ErrorKind::input);
        CHECK_THAT(e.what(), Contains(path));
    }
}
