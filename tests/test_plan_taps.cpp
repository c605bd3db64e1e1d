// The closed-form tap counting behind FLOPs against direct enumeration of every (output, tap) pair.
#include <catch2/catch.hpp>

#include <random>

#include "test_helpers.hpp"

using c1r_test::json;

TEST_CASE("FLOPs count exactly the taps that land on real data, for random windows", "[plan][flops]") {
    std::mt19937 random(4242);
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(random); };
    int checked = 0;
    while (checked < 400) {
        const int64_t length = pick(1, 40), kernel = pick(1, 9), stride = pick(1, 5), dilation = pick(1, 4);
        const bool transpose = pick(0, 3) == 0;
        json layer = {{"type", transpose ? "conv1d_transpose" : "conv1d"}, {"filters", 1}, {"kernel_size", kernel},
                      {"strides", stride},                                   {"dilation_rate", dilation}};
        const int padding_kind = pick(0, 3);
        if (transpose) layer["padding"] = padding_kind % 2 ? "same" : "valid";
        else if (padding_kind == 0) layer["padding"] = "same";
        else if (padding_kind == 1) layer["padding"] = "causal";
        else if (padding_kind == 2) layer["padding"] = json::array({pick(0, 12), pick(0, 12)});
        c1r::Plan plan;
        try {
            plan = c1r_test::plan_of(c1r_test::config_json({1, length, 1}, json::array({layer})));
        } catch (const c1r::Error&) {
            continue;  // output shorter than 1: nothing to count
        }
        const c1r::LayerPlan& p = plan.layers[0];
        const int64_t out = p.output_shape.length, start = p.padding->first;
        int64_t taps = 0;  // every (step, tap) pair, counted one by one
        if (!transpose) {
            for (int64_t o = 0; o < out; ++o)
                for (int64_t j = 0; j < kernel; ++j) {
                    const int64_t i = o * stride - start + j * dilation;
                    taps += i >= 0 && i < length;
                }
        } else {
            for (int64_t i = 0; i < length; ++i)
                for (int64_t j = 0; j < kernel; ++j) {
                    const int64_t o = i * stride + j * dilation - start;
                    taps += o >= 0 && o < out;
                }
        }
        INFO(layer.dump() << " on length " << length);
        CHECK(p.flops == 2 * taps);  // batch 1, one channel in, one filter: a multiply-add per tap counts 2
        ++checked;
    }
}
