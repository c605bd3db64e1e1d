// libFuzzer target for the length module: the bytes choose an input shape and a stack of layers (types,
// sizes, strides, dilations, paddings — from edge values up to and past the parser's limits), which go
// through parse_config (so only settings a config may hold reach the plan) and make_plan. The answer must be
// a plan that agrees with SPEC §3 (plan_check.hpp) or a clean c1r::Error; never a crash, a UBSan report or a
// hang (run with -timeout).
//
// C1R_FUZZ_MAX_SETTING (environment, default 2^31 + 2) caps the sizes drawn, e.g. to fuzz past a known
// slow path while its fix is pending. C1R_FUZZ_PRINT=1 prints each decoded config (to turn a reproducer
// into a config file: C1R_FUZZ_PRINT=1 build-asan/fuzz/fuzz_plan fuzz/regressions/plan/<file>).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "plan/plan.hpp"
#include "model/spec.hpp"
#include "fuzz_common.hpp"
#include "plan_check.hpp"

namespace {

using nlohmann::json;

int64_t max_setting() {
    static const int64_t kMax = [] {
        const char* text = std::getenv("C1R_FUZZ_MAX_SETTING");
        return text ? std::max<int64_t>(2, std::atoll(text)) : (int64_t{1} << 31) + 2;
    }();
    return kMax;
}

// A size: mostly small, sometimes an edge value, sometimes anything up to just past the parser's limit.
int64_t size_value(FuzzedDataProvider& in, int64_t min_value = 1) {
    static const int64_t kEdges[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 63, 64, 100, 127, 128, 255, 256,
                                     1000, 1023, 1024, 4095, 4096, 65535, 65536, 1 << 20, (1 << 30) - 1, 1 << 30,
                                     2147483647, 2147483648LL, 2147483649LL};
    int64_t v = 1;
    switch (in.ConsumeIntegralInRange<int>(0, 7)) {
        case 0: case 1: case 2: case 3: v = in.ConsumeIntegralInRange<int64_t>(1, 9); break;
        case 4: v = in.ConsumeIntegralInRange<int64_t>(1, 300); break;
        case 5: v = in.PickValueInArray(kEdges); break;
        case 6: v = in.ConsumeIntegralInRange<int64_t>(min_value - 1, max_setting()); break;
        default: v = min_value - in.ConsumeIntegralInRange<int64_t>(0, 2); break;  // just below the minimum
    }
    return std::min(v, max_setting());
}

json padding_value(FuzzedDataProvider& in, bool conv) {
    switch (in.ConsumeIntegralInRange<int>(0, conv ? 5 : 2)) {
        case 0: return "valid";
        case 1: return "same";
        case 2: return conv ? json("causal") : json("full");
        case 3: return size_value(in, 0) - 1;
        case 4: return json::array({size_value(in, 0) - 1, size_value(in, 0) - 1});
        default: return "valid";
    }
}

json layer_value(FuzzedDataProvider& in) {
    static const char* const kActivations[] = {"linear", "relu", "tanh", "sigmoid", "gelu", "elu", "swish"};
    json layer;
    switch (in.ConsumeIntegralInRange<int>(0, 7)) {
        case 0:
        case 1: {  // conv1d, the most settings
            layer = {{"type", "conv1d"}, {"filters", size_value(in)}, {"kernel_size", size_value(in)}};
            if (in.ConsumeBool()) layer["strides"] = size_value(in);
            if (in.ConsumeBool()) layer["dilation_rate"] = size_value(in);
            if (in.ConsumeBool()) layer["padding"] = padding_value(in, true);
            if (in.ConsumeBool()) layer["groups"] = size_value(in);
            if (in.ConsumeBool()) layer["use_bias"] = in.ConsumeBool();
            if (in.ConsumeBool()) layer["activation"] = in.PickValueInArray(kActivations);
            break;
        }
        case 2: {
            layer = {{"type", "conv1d_transpose"}, {"filters", size_value(in)}, {"kernel_size", size_value(in)}};
            if (in.ConsumeBool()) layer["strides"] = size_value(in);
            if (in.ConsumeBool()) layer["dilation_rate"] = size_value(in);
            if (in.ConsumeBool()) layer["padding"] = in.ConsumeBool() ? "same" : "valid";
            if (in.ConsumeBool()) layer["output_padding"] = size_value(in, 0) - 1;
            if (in.ConsumeBool()) layer["use_bias"] = in.ConsumeBool();
            break;
        }
        case 3: {
            layer = {{"type", in.ConsumeBool() ? "max_pool1d" : "avg_pool1d"}};
            if (in.ConsumeBool()) layer["pool_size"] = size_value(in);
            if (in.ConsumeBool()) layer["strides"] = size_value(in);
            if (in.ConsumeBool()) layer["padding"] = padding_value(in, false);
            break;
        }
        case 4: layer = {{"type", "upsample1d"}, {"size", size_value(in)}}; break;
        case 5: {
            layer = {{"type", "permute"}};
            layer["dims"] = in.ConsumeIntegralInRange<int>(0, 5) == 0 ? json::array({1, 1}) : json::array({2, 1});
            break;
        }
        case 6: {
            json a = in.ConsumeBool() ? json(-1) : json(size_value(in, 0) - 1);
            json b = in.ConsumeBool() ? json(-1) : json(size_value(in, 0) - 1);
            layer = {{"type", "reshape"}, {"target_shape", json::array({a, b})}};
            break;
        }
        default: layer = {{"type", "activation"}, {"activation", in.PickValueInArray(kActivations)}}; break;
    }
    return layer;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace c1r;
    FuzzedDataProvider in(data, size);
    json config = json::object();
    if (in.ConsumeBool()) config["data_format"] = "channels_first";
    config["input"]["shape"] = json::array({size_value(in), size_value(in), size_value(in)});
    json layers = json::array();
    const int count = in.ConsumeIntegralInRange<int>(1, 8);
    for (int i = 0; i < count && in.remaining_bytes() > 0; ++i) layers.push_back(layer_value(in));
    if (layers.empty()) layers.push_back(layer_value(in));
    config["layers"] = std::move(layers);
    if (std::getenv("C1R_FUZZ_PRINT")) std::fprintf(stderr, "%s\n", config.dump().c_str());
    fuzz::expect_clean([&] {
        const ConfigSpec spec = parse_config(config, "fuzz/plan.json");
        const Shape shape = shape_from_dims(*spec.input.shape, spec.data_format);
        shape.elements();
        const Plan plan = make_plan(spec, shape);
        fuzz::check_plan(spec, shape, plan);
        for (const LayerPlan& layer : plan.layers) benchdnn_descriptor(layer);  // reads the padding it sets
        shape_text(plan.output_shape, plan.data_format);
    });
    return 0;
}
