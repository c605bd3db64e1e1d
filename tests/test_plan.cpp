// Checks the plan (lengths, pads, params, FLOPs, receptive field, memory) against hand-worked Keras values.
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "plan/plan.hpp"
#include "test_helpers.hpp"

using c1r::PaddingKind;
using c1r::PaddingSpec;
using c1r_test::config_json;
using c1r_test::conv_layer;
using c1r_test::error_from;
using c1r_test::json;
using c1r_test::plan_of;
using Catch::Matchers::Contains;

namespace {

PaddingSpec padding_of(PaddingKind kind, int64_t left = 0, int64_t right = 0) {
    return PaddingSpec{kind, left, right};
}

const PaddingSpec kValid{PaddingKind::valid}, kSame{PaddingKind::same}, kCausal{PaddingKind::causal};

void check_window(int64_t length, int64_t kernel, int64_t stride, int64_t dilation, PaddingSpec padding,
                  int64_t expected_out, int64_t expected_left, int64_t expected_right) {
    CAPTURE(length, kernel, stride, dilation, c1r::to_string(padding.kind));
    c1r::Window w = c1r::conv_window(length, kernel, stride, dilation, padding);
    CHECK(w.output_length == expected_out);
    CHECK(w.pad_left == expected_left);
    CHECK(w.pad_right == expected_right);
}

void check_transpose(int64_t length, int64_t kernel, int64_t stride, int64_t dilation, PaddingKind padding,
                     std::optional<int64_t> output_padding, int64_t expected_out, int64_t expected_full,
                     int64_t expected_crop_left, int64_t expected_crop_right) {
    CAPTURE(length, kernel, stride, dilation, c1r::to_string(padding), output_padding.value_or(-1));
    c1r::TransposeWindow w = c1r::transpose_window(length, kernel, stride, dilation, padding, output_padding);
    CHECK(w.output_length == expected_out);
    CHECK(w.full_length == expected_full);
    CHECK(w.crop_left == expected_crop_left);
    CHECK(w.crop_right == expected_crop_right);
}

json transpose_layer(int64_t filters, int64_t kernel, int64_t strides, const std::string& padding) {
    return json{{"type", "conv1d_transpose"},
                {"filters", filters},
                {"kernel_size", kernel},
                {"strides", strides},
                {"padding", padding}};
}

std::pair<int64_t, int64_t> pads(const c1r::LayerPlan& layer) {
    REQUIRE(layer.padding.has_value());
    return *layer.padding;
}

}  // namespace

TEST_CASE("conv valid length is floor((L - K') / s) + 1", "[plan][conv]") {
    check_window(20, 2, 2, 1, kValid, 10, 0, 0);  // (20-2)/2+1 = 10
    check_window(10, 3, 1, 2, kValid, 6, 0, 0);   // K'=2*2+1=5; (10-5)/1+1 = 6
    check_window(11, 3, 2, 1, kValid, 5, 0, 0);   // floor(8/2)+1 = 5
    check_window(12, 2, 5, 1, kValid, 3, 0, 0);   // floor(10/5)+1 = 3 (stride > kernel)
    check_window(5, 5, 1, 1, kValid, 1, 0, 0);    // (5-5)+1 = 1: kernel as long as input
    check_window(20, 3, 3, 2, kValid, 6, 0, 0);   // dilation with stride: K'=5; 15/3+1 = 6
}

TEST_CASE("conv same keeps ceil(L/s) and puts the odd padding step on the right", "[plan][conv]") {
    check_window(15, 3, 1, 1, kSame, 15, 1, 1);  // total (15-1)*1+3-15 = 2 -> [1,1]
    check_window(10, 4, 3, 1, kSame, 4, 1, 2);   // out ceil(10/3)=4; total 3*3+4-10 = 3 -> [1,2]
    check_window(10, 3, 2, 1, kSame, 5, 0, 1);   // out 5; total 4*2+3-10 = 1 -> [0,1]
    check_window(11, 3, 2, 1, kSame, 6, 1, 1);   // out 6; total 5*2+3-11 = 2 -> [1,1]
    check_window(10, 2, 1, 1, kSame, 10, 0, 1);  // total 9+2-10 = 1 -> [0,1]
    check_window(5, 2, 4, 1, kSame, 2, 0, 1);    // out ceil(5/4)=2; total 1*4+2-5 = 1 -> [0,1]
    check_window(7, 1, 4, 1, kSame, 2, 0, 0);    // out 2; total max(4+1-7, 0) = 0
    check_window(10, 3, 1, 2, kSame, 10, 2, 2);  // K'=5; total 9+5-10 = 4 -> [2,2]
    check_window(9, 2, 2, 3, kSame, 5, 1, 2);    // K'=4; out ceil(9/2)=5; total 4*2+4-9 = 3
    check_window(20, 3, 3, 2, kSame, 7, 1, 2);   // K'=5; out ceil(20/3)=7; total 6*3+5-20 = 3
    check_window(1, 7, 1, 1, kSame, 1, 3, 3);    // out 1; total 0+7-1 = 6 -> [3,3]
}

TEST_CASE("conv causal pads d*(k-1) on the left only", "[plan][conv]") {
    check_window(10, 3, 1, 2, kCausal, 10, 4, 0);  // 2*(3-1) = 4; out = L
    check_window(7, 5, 1, 4, kCausal, 7, 16, 0);   // 4*(5-1) = 16
    check_window(10, 3, 2, 1, kCausal, 5, 2, 0);   // (10+2-3)/2+1 = 5 = ceil(10/2)
    check_window(9, 2, 3, 3, kCausal, 3, 3, 0);    // K'=4, pad 3; (9+3-4)/3+1 = 3 = ceil(9/3)
}

TEST_CASE("conv explicit pads are used as given", "[plan][conv]") {
    check_window(10, 3, 1, 1, padding_of(PaddingKind::explicit_pads, 2, 1), 11, 2, 1);  // 10+3-3+1 = 11
    check_window(10, 4, 2, 1, padding_of(PaddingKind::explicit_pads, 1, 0), 4, 1, 0);   // (11-4)/2+1 = 4
    check_window(6, 3, 2, 2, padding_of(PaddingKind::explicit_pads, 0, 3), 3, 0, 3);    // K'=5; (9-5)/2+1 = 3

    auto plan = plan_of(config_json({1, 8, 2}, json::array({conv_layer(4, 3, 1, 2)})));
    CHECK(pads(plan.layers[0]) == std::pair<int64_t, int64_t>{2, 2});  // an integer pads both sides
    CHECK(plan.output_shape == c1r::Shape{1, 10, 4});                  // 8+4-3+1 = 10
}

TEST_CASE("the plan carries lengths and paddings through a stack", "[plan][conv]") {
    json layers = json::array(
        {conv_layer(16, 4, 3, "same"), conv_layer(8, 3, 2, "same"), conv_layer(4, 2, 1, "valid")});
    auto plan = plan_of(config_json({2, 10, 3}, layers));
    REQUIRE(plan.layers.size() == 3);
    CHECK(plan.layers[0].output_shape == c1r::Shape{2, 4, 16});        // ceil(10/3) = 4
    CHECK(pads(plan.layers[0]) == std::pair<int64_t, int64_t>{1, 2});  // total 3*3+4-10 = 3
    CHECK(plan.layers[1].output_shape == c1r::Shape{2, 2, 8});         // ceil(4/2) = 2
    CHECK(pads(plan.layers[1]) == std::pair<int64_t, int64_t>{0, 1});  // total 1*2+3-4 = 1
    CHECK(plan.layers[2].output_shape == c1r::Shape{2, 1, 4});         // (2-2)/1+1 = 1
    CHECK(plan.output_shape == c1r::Shape{2, 1, 4});
}

TEST_CASE("SPEC reference cases come out right", "[plan][spec-cases]") {
    // reduce: (1,20,32) -> Conv1D(16, k2, s2, valid) -> (1,10,16)
    CHECK(plan_of(config_json({1, 20, 32}, json::array({conv_layer(16, 2, 2)}))).output_shape ==
          c1r::Shape{1, 10, 16});
    // keep: (1,15,64) -> Conv1D(32, k3, same) -> (1,15,32)
    CHECK(plan_of(config_json({1, 15, 64}, json::array({conv_layer(32, 3, 1, "same")}))).output_shape ==
          c1r::Shape{1, 15, 32});
    // "expand" via permute: (1,5,16) -> permute -> (1,16,5) -> conv 32 same -> (1,16,32) -> permute ->
    // (1,32,16)
    json permute = {{"type", "permute"}, {"dims", {2, 1}}};
    CHECK(plan_of(config_json({1, 5, 16}, json::array({permute, conv_layer(32, 3, 1, "same"), permute})))
              .output_shape == c1r::Shape{1, 32, 16});
    // real expansion: (1,5,16) -> Conv1DTranspose(32, k3, s2, same) -> (1, 5*2, 32)
    CHECK(plan_of(config_json({1, 5, 16}, json::array({transpose_layer(32, 3, 2, "same")}))).output_shape ==
          c1r::Shape{1, 10, 32});
}

TEST_CASE("an output shorter than 1 is a config error naming the layer and showing the numbers",
          "[plan][errors]") {
    SECTION("valid conv, second layer") {
        // layer 0: 10-3+1 = 8; layer 1: 8-9+1 = 0 < 1
        json layers = json::array({conv_layer(4, 3), conv_layer(4, 9)});
        auto e = error_from([&] { plan_of(config_json({1, 10, 2}, layers), "deep/stack.json"); });
        CHECK(e.kind() == c1r::ErrorKind::config);
        CHECK(e.pointer().rfind("/layers/1", 0) == 0);
        CHECK_THAT(e.what(), Contains("deep/stack.json"));
        CHECK_THAT(e.what(), Contains("/layers/1"));
        CHECK_THAT(e.what(), Contains("layer 1"));  // SPEC: names the layer's index as well as its pointer
        CHECK_THAT(e.what(), Contains("8"));        // the input length
        CHECK_THAT(e.what(), Contains("9"));        // the kernel
    }
    SECTION("dilation makes the kernel too long") {
        json layer = conv_layer(4, 3);
        layer["dilation_rate"] = 4;  // K' = 4*2+1 = 9 > 7
        auto e = error_from([&] { plan_of(config_json({1, 7, 2}, json::array({layer}))); });
        CHECK(e.kind() == c1r::ErrorKind::config);
        CHECK(e.pointer().rfind("/layers/0", 0) == 0);
        CHECK_THAT(e.what(), Contains("/layers/0"));
        CHECK_THAT(e.what(), Contains("7"));
        CHECK_THAT(e.what(), Contains("9"));
    }
    SECTION("valid pooling longer than the input") {
        json pool = {{"type", "max_pool1d"}, {"pool_size", 5}};  // 3 < 5
        auto e = error_from([&] { plan_of(config_json({1, 3, 2}, json::array({pool}))); });
        CHECK(e.kind() == c1r::ErrorKind::config);
        CHECK(e.pointer().rfind("/layers/0", 0) == 0);
        CHECK_THAT(e.what(), Contains("3"));
        CHECK_THAT(e.what(), Contains("5"));
    }
    SECTION("same padding never fails where valid does") {
        CHECK_NOTHROW(plan_of(config_json({1, 3, 2}, json::array({conv_layer(4, 9, 1, "same")}))));
    }
}

TEST_CASE("conv1d_transpose lengths and crops follow Keras", "[plan][transpose]") {
    using PK = PaddingKind;
    const std::optional<int64_t> kNoOp;  // no output_padding
    // same without output_padding: L*s; crop_left = max(full - out, 0) // 2; crop_right = the rest
    check_transpose(5, 3, 2, 1, PK::same, kNoOp, 10, 11, 0, 1);  // full 4*2+3 = 11; crop 1//2 = 0, right 1
    check_transpose(5, 4, 2, 1, PK::same, kNoOp, 10, 12, 1, 1);  // full 8+4 = 12; crop 2//2 = 1, right 1
    check_transpose(5, 1, 2, 1, PK::same, kNoOp, 10, 9, 0, -1);  // full 8+1 = 9 < 10: one bias-only step
    check_transpose(4, 3, 1, 1, PK::same, kNoOp, 4, 6, 1, 1);    // full 3+3 = 6; crop 2//2 = 1
    check_transpose(3, 3, 2, 3, PK::same, kNoOp, 6, 11, 2, 3);   // K'=7; full 4+7 = 11; crop 5//2 = 2, 3
    // valid without output_padding: L*s + max(K' - s, 0)
    check_transpose(5, 3, 2, 1, PK::valid, kNoOp, 11, 11, 0, 0);   // 10 + 1 = 11 = full
    check_transpose(5, 2, 3, 1, PK::valid, kNoOp, 15, 14, 0, -1);  // s > k: 15 + 0; full 4*3+2 = 14
    check_transpose(5, 1, 4, 1, PK::valid, kNoOp, 20, 17, 0, -3);  // 20 + 0; full 16+1 = 17
    check_transpose(4, 3, 1, 2, PK::valid, kNoOp, 8, 8, 0, 0);     // K'=5; 4 + 4 = 8
    // valid with output_padding: (L-1)*s + K' + op
    check_transpose(5, 3, 2, 1, PK::valid, 1, 12, 11, 0, -1);  // 8+3+1 = 12
    check_transpose(5, 2, 3, 1, PK::valid, 0, 14, 14, 0, 0);   // 12+2+0 = 14 (15 without op)
    check_transpose(5, 2, 3, 1, PK::valid, 2, 16, 14, 0, -2);  // 12+2+2 = 16
    // same with output_padding: (L-1)*s + K'%2 + op  (= (L-1)*s + K' - 2*(K'//2) + op)
    check_transpose(5, 3, 2, 1, PK::same, 0, 9, 11, 1, 1);   // 8+1+0 = 9; crop (11-9)//2 = 1
    check_transpose(5, 3, 2, 1, PK::same, 1, 10, 11, 0, 1);  // 8+1+1 = 10; crop 1//2 = 0
    check_transpose(5, 4, 3, 1, PK::same, 2, 14, 16, 1, 1);  // 12+0+2 = 14; full 12+4 = 16
    check_transpose(6, 3, 2, 2, PK::same, 1, 12, 15, 1, 2);  // K'=5: 10+1+1 = 12; full 15; crop 3//2 = 1
}

TEST_CASE("conv1d_transpose through the plan reports crops as padding", "[plan][transpose]") {
    auto plan = plan_of(config_json({1, 5, 4}, json::array({transpose_layer(6, 1, 2, "same")})));
    CHECK(plan.output_shape == c1r::Shape{1, 10, 6});                   // 5*2
    CHECK(pads(plan.layers[0]) == std::pair<int64_t, int64_t>{0, -1});  // full 9, out 10

    json with_op = transpose_layer(6, 3, 2, "same");
    with_op["output_padding"] = 0;
    plan = plan_of(config_json({1, 5, 4}, json::array({with_op})));
    CHECK(plan.output_shape == c1r::Shape{1, 9, 6});                   // 8+1+0
    CHECK(pads(plan.layers[0]) == std::pair<int64_t, int64_t>{1, 1});  // full 11
}

TEST_CASE("pooling lengths, paddings and default strides", "[plan][pool]") {
    SECTION("defaults: pool_size 2, strides = pool_size, valid") {
        auto plan = plan_of(config_json({1, 10, 3}, json::array({json{{"type", "max_pool1d"}}})));
        CHECK(plan.output_shape == c1r::Shape{1, 5, 3});  // (10-2)/2+1 = 5
        CHECK(pads(plan.layers[0]) == std::pair<int64_t, int64_t>{0, 0});
    }
    SECTION("strides default to a pool_size other than 2") {
        auto plan =
            plan_of(config_json({1, 10, 3}, json::array({json{{"type", "avg_pool1d"}, {"pool_size", 3}}})));
        CHECK(plan.output_shape == c1r::Shape{1, 3, 3});  // strides 3: (10-3)/3+1 = 3
    }
    SECTION("same") {
        json layer = {{"type", "max_pool1d"}, {"pool_size", 3}, {"padding", "same"}};
        auto plan = plan_of(config_json({1, 10, 3}, json::array({layer})));
        CHECK(plan.output_shape == c1r::Shape{1, 4, 3});                   // ceil(10/3) = 4
        CHECK(pads(plan.layers[0]) == std::pair<int64_t, int64_t>{1, 1});  // total 3*3+3-10 = 2
    }
    SECTION("same with stride 1 and an even pool") {
        json layer = {{"type", "avg_pool1d"}, {"pool_size", 2}, {"strides", 1}, {"padding", "same"}};
        auto plan = plan_of(config_json({1, 5, 3}, json::array({layer})));
        CHECK(plan.output_shape == c1r::Shape{1, 5, 3});
        CHECK(pads(plan.layers[0]) == std::pair<int64_t, int64_t>{0, 1});  // total 4+2-5 = 1
    }
    SECTION("same with stride 2 and an odd total") {
        json layer = {{"type", "avg_pool1d"}, {"pool_size", 4}, {"strides", 2}, {"padding", "same"}};
        auto plan = plan_of(config_json({1, 9, 3}, json::array({layer})));
        CHECK(plan.output_shape == c1r::Shape{1, 5, 3});                   // ceil(9/2) = 5
        CHECK(pads(plan.layers[0]) == std::pair<int64_t, int64_t>{1, 2});  // total 4*2+4-9 = 3
    }
    SECTION("valid with an unread tail") {
        json layer = {{"type", "max_pool1d"}, {"pool_size", 3}, {"strides", 2}};
        auto plan = plan_of(config_json({1, 10, 3}, json::array({layer})));
        CHECK(plan.output_shape == c1r::Shape{1, 4, 3});  // (10-3)/2+1 = 4
    }
}

TEST_CASE("upsample, permute and reshape shapes", "[plan][shape-layers]") {
    CHECK(plan_of(config_json({2, 7, 3}, json::array({json{{"type", "upsample1d"}, {"size", 3}}})))
              .output_shape == c1r::Shape{2, 21, 3});  // 7*3
    CHECK(plan_of(config_json({2, 7, 3}, json::array({json{{"type", "upsample1d"}}}))).output_shape ==
          c1r::Shape{2, 14, 3});  // default size 2
    CHECK(plan_of(config_json({2, 10, 4}, json::array({json{{"type", "permute"}, {"dims", {2, 1}}}})))
              .output_shape == c1r::Shape{2, 4, 10});
    CHECK(plan_of(config_json({2, 10, 4}, json::array({json{{"type", "permute"}, {"dims", {1, 2}}}})))
              .output_shape == c1r::Shape{2, 10, 4});

    auto reshape = [](json target) {
        return json::array({json{{"type", "reshape"}, {"target_shape", target}}});
    };
    CHECK(plan_of(config_json({1, 10, 4}, reshape({-1, 8}))).output_shape ==
          c1r::Shape{1, 5, 8});  // 40/8 = 5
    CHECK(plan_of(config_json({3, 10, 4}, reshape({20, -1}))).output_shape ==
          c1r::Shape{3, 20, 2});  // 40/20 = 2
    CHECK(plan_of(config_json({1, 10, 4}, reshape({40, 1}))).output_shape == c1r::Shape{1, 40, 1});

    SECTION("channels_first target_shape is (channels, length)") {
        json config = config_json({1, 4, 10}, reshape({8, -1}));  // (N, C, L): 4*10 = 40 values, C 8 -> L 5
        config["data_format"] = "channels_first";
        auto plan = plan_of(config);
        CHECK(plan.input_shape == c1r::Shape{1, 10, 4});
        CHECK(plan.output_shape == c1r::Shape{1, 5, 8});
    }
    SECTION("-1 that does not divide is an error at target_shape") {
        auto e = error_from([&] { plan_of(config_json({1, 10, 4}, reshape({-1, 3}))); });  // 40 % 3 != 0
        CHECK(e.kind() == c1r::ErrorKind::config);
        CHECK(e.pointer() == "/layers/0/target_shape");
        CHECK_THAT(e.what(), Contains("40"));
    }
    SECTION("a size mismatch is an error at target_shape") {
        auto e = error_from([&] { plan_of(config_json({1, 10, 4}, reshape({7, 6}))); });  // 42 != 40
        CHECK(e.kind() == c1r::ErrorKind::config);
        CHECK(e.pointer() == "/layers/0/target_shape");
        CHECK_THAT(e.what(), Contains("40"));
        CHECK_THAT(e.what(), Contains("42"));
    }
}

TEST_CASE("params and FLOPs", "[plan][flops]") {
    SECTION("SPEC reduce case") {
        auto plan = plan_of(config_json({1, 20, 32}, json::array({conv_layer(16, 2, 2)})));
        CHECK(plan.layers[0].params == 1040);  // 2*32*16 + 16
        CHECK(plan.layers[0].flops == 20480);  // 2 * 16 filters * 32 ch * (10 outputs * 2 taps)
        CHECK(plan.total_params == 1040);
        CHECK(plan.total_flops == 20480);
    }
    SECTION("same padding: taps on padding are not counted (as benchdnn)") {
        // L=5, k=3, same -> pads [1,1]; taps inside: o=0: 2, o=1..3: 3 each, o=4: 2 -> 13
        auto plan = plan_of(config_json({1, 5, 4}, json::array({conv_layer(3, 3, 1, "same")})));
        CHECK(plan.layers[0].params == 39);  // 3*4*3 + 3
        CHECK(plan.layers[0].flops == 312);  // 2 * 1 * 3 * 4 * 13
    }
    SECTION("same padding with stride and odd total") {
        // L=10, k=4, s=3 -> out 4, pads [1,2]; windows start -1,2,5,8: taps 3 + 4 + 4 + 2 = 13
        auto plan = plan_of(config_json({2, 10, 2}, json::array({conv_layer(5, 4, 3, "same")})));
        CHECK(plan.layers[0].params == 45);  // 4*2*5 + 5
        CHECK(plan.layers[0].flops == 520);  // 2 * 2 batch * 5 * 2 * 13
    }
    SECTION("causal with dilation") {
        // L=6, k=3, d=2 -> pads [4,0]; tap j reads o - 4 + 2j: j=0 needs o>=4 (2 taps), j=1 o>=2 (4), j=2 all
        // (6) -> 12
        json layer = conv_layer(2, 3, 1, "causal");
        layer["dilation_rate"] = 2;
        auto plan = plan_of(config_json({1, 6, 1}, json::array({layer})));
        CHECK(plan.layers[0].params == 8);  // 3*1*2 + 2
        CHECK(plan.layers[0].flops == 48);  // 2 * 2 * 1 * 12
    }
    SECTION("groups and no bias") {
        json layer = conv_layer(8, 3);
        layer["groups"] = 4;
        layer["use_bias"] = false;
        auto plan = plan_of(config_json({1, 6, 8}, json::array({layer})));
        CHECK(plan.layers[0].params == 48);  // 3 * (8/4) * 8, no bias
        CHECK(plan.layers[0].flops == 384);  // 2 * 8 filters * 2 ch per group * (4 outputs * 3 taps)
    }
    SECTION("conv1d_transpose valid: every tap lands") {
        auto plan = plan_of(config_json({1, 5, 4}, json::array({transpose_layer(6, 3, 2, "valid")})));
        CHECK(plan.layers[0].params == 78);  // 3*6*4 + 6
        CHECK(plan.layers[0].flops == 720);  // 2 * 6 * 4 * (5 inputs * 3 taps)
    }
    SECTION("conv1d_transpose same: taps cropped away are not counted") {
        // full = 12, window [1, 10]: i*2+j = 0 (i0,j0) and 11 (i4,j3) fall outside -> 20 - 2 = 18 taps
        auto plan = plan_of(config_json({1, 5, 4}, json::array({transpose_layer(6, 4, 2, "same")})));
        CHECK(plan.layers[0].params == 102);  // 4*6*4 + 6
        CHECK(plan.layers[0].flops == 864);   // 2 * 6 * 4 * 18
    }
    SECTION("layers without weights have no params; totals add up") {
        json layers = json::array({conv_layer(16, 2, 2), json{{"type", "upsample1d"}},
                                   json{{"type", "permute"}, {"dims", {2, 1}}}, conv_layer(4, 1)});
        auto plan = plan_of(config_json({1, 20, 32}, layers));
        CHECK(plan.layers[1].params == 0);
        CHECK(plan.layers[2].params == 0);
        CHECK(plan.layers[1].flops == 0);
        CHECK(plan.layers[2].flops == 0);
        // after upsample (1,20,16), permute -> (1,16,20); conv k1: 1*20*4 + 4 = 84 params, 2*4*20*16 = 2560
        // flops
        CHECK(plan.layers[3].params == 84);
        CHECK(plan.layers[3].flops == 2560);
        CHECK(plan.total_params == 1040 + 84);
        CHECK(plan.total_flops == 20480 + 2560);
    }
}

TEST_CASE("receptive field and jump", "[plan][receptive-field]") {
    SECTION("k2 s2") {
        auto plan = plan_of(config_json({1, 20, 32}, json::array({conv_layer(16, 2, 2)})));
        CHECK(plan.layers[0].receptive_field == 2);
        CHECK(plan.layers[0].jump == 2.0);
    }
    SECTION("causal dilated stack") {
        json a = conv_layer(8, 3, 1, "causal"), b = conv_layer(8, 3, 1, "causal");
        a["dilation_rate"] = 4;  // 1 + 4*2 = 9
        b["dilation_rate"] = 8;  // 9 + 8*2 = 25
        auto plan = plan_of(config_json({1, 50, 4}, json::array({a, b})));
        CHECK(plan.layers[0].receptive_field == 9);
        CHECK(plan.layers[1].receptive_field == 25);
        CHECK(plan.layers[1].jump == 1.0);
    }
    SECTION("dilation with stride") {
        json a = conv_layer(4, 3, 2);
        a["dilation_rate"] = 2;  // RF 5, jump 2
        auto plan = plan_of(config_json({1, 40, 2}, json::array({a, conv_layer(4, 2)})));
        CHECK(plan.layers[0].receptive_field == 5);
        CHECK(plan.layers[0].jump == 2.0);
        CHECK(plan.layers[1].receptive_field == 7);  // 5 + (2-1)*2
        CHECK(plan.layers[1].jump == 2.0);
    }
    SECTION("a stack with pooling") {
        json layers =
            json::array({conv_layer(4, 3), json{{"type", "max_pool1d"}, {"pool_size", 2}}, conv_layer(4, 3)});
        auto plan = plan_of(config_json({1, 32, 4}, layers));
        CHECK(plan.layers[0].receptive_field == 3);
        CHECK(plan.layers[1].receptive_field == 4);  // 3 + (2-1)*1
        CHECK(plan.layers[1].jump == 2.0);
        CHECK(plan.layers[2].receptive_field == 8);  // 4 + (3-1)*2
        CHECK(plan.layers[2].jump == 2.0);
    }
    SECTION("upsample divides the jump") {
        json layers =
            json::array({conv_layer(4, 3, 2), json{{"type", "upsample1d"}, {"size", 2}}, conv_layer(4, 3)});
        auto plan = plan_of(config_json({1, 32, 4}, layers));
        CHECK(plan.layers[0].jump == 2.0);
        CHECK(plan.layers[1].jump == 1.0);           // 2 / 2
        CHECK(plan.layers[1].receptive_field == 3);  // a repeated step sees what its source saw
        CHECK(plan.layers[2].receptive_field == 5);  // 3 + (3-1)*1
        CHECK(plan.layers[2].jump == 1.0);
    }
    SECTION("upsample first: jump below 1") {
        json layers = json::array({json{{"type", "upsample1d"}, {"size", 2}}, conv_layer(4, 3)});
        auto plan = plan_of(config_json({1, 16, 4}, layers));
        CHECK(plan.layers[0].jump == 0.5);
        CHECK(plan.layers[0].receptive_field == 1);
        CHECK(plan.layers[1].receptive_field == 2);  // 3 upsampled steps o..o+2 come from 2 input steps
        CHECK(plan.layers[1].jump == 0.5);
    }
    SECTION("conv1d_transpose") {
        // k3 s2 valid: output o reads inputs i with o-2 <= 2i <= o: two for even o, one for odd
        auto plan = plan_of(config_json({1, 8, 4}, json::array({transpose_layer(4, 3, 2, "valid")})));
        CHECK(plan.layers[0].receptive_field == 2);
        CHECK(plan.layers[0].jump == 0.5);
    }
    SECTION("permute [2,1] leaves the receptive field undefined from there on") {
        json layers =
            json::array({conv_layer(4, 3), json{{"type", "permute"}, {"dims", {2, 1}}}, conv_layer(4, 3)});
        auto plan = plan_of(config_json({1, 16, 8}, layers));
        CHECK(plan.layers[0].receptive_field == 3);
        CHECK_FALSE(plan.layers[1].receptive_field.has_value());
        CHECK_FALSE(plan.layers[1].jump.has_value());
        CHECK_FALSE(plan.layers[2].receptive_field.has_value());
        CHECK_FALSE(plan.layers[2].jump.has_value());
    }
    SECTION("permute [1,2] is the identity and keeps it") {
        json layers =
            json::array({conv_layer(4, 3), json{{"type", "permute"}, {"dims", {1, 2}}}, conv_layer(4, 3)});
        auto plan = plan_of(config_json({1, 16, 8}, layers));
        CHECK(plan.layers[2].receptive_field == 5);  // 3 + 2
    }
}

TEST_CASE("input channels not divisible by groups is an error at /layers/N/groups", "[plan][errors]") {
    json grouped = conv_layer(4, 1);
    grouped["groups"] = 4;  // filters 4 % 4 == 0 passes the parser; input channels 6 % 4 != 0 fails the plan
    auto e = error_from([&] { plan_of(config_json({1, 10, 3}, json::array({conv_layer(6, 1), grouped}))); });
    CHECK(e.kind() == c1r::ErrorKind::config);
    CHECK(e.pointer() == "/layers/1/groups");
    CHECK_THAT(e.what(), Contains("/layers/1/groups"));
    CHECK_THAT(e.what(), Contains("6"));
}

TEST_CASE("memory estimate", "[plan][memory]") {
    SECTION("covers the input and every layer's f32 output") {
        json layers = json::array({conv_layer(16, 3, 1, "same"), json{{"type", "upsample1d"}, {"size", 4}},
                                   conv_layer(8, 3, 1, "same")});
        auto plan = plan_of(config_json({2, 100, 8}, layers));
        // input 2*100*8, outputs 2*100*16, 2*400*16, 2*400*8 floats
        const int64_t lower_bound = 4 * (2 * 100 * 8 + 2 * 100 * 16 + 2 * 400 * 16 + 2 * 400 * 8);
        CHECK(plan.memory_bytes >= lower_bound);
    }
    SECTION("grows with the layers' outputs") {
        auto small =
            plan_of(config_json({1, 100, 8}, json::array({json{{"type", "upsample1d"}, {"size", 2}}})));
        auto large =
            plan_of(config_json({1, 100, 8}, json::array({json{{"type", "upsample1d"}, {"size", 8}}})));
        CHECK(large.memory_bytes - small.memory_bytes >= 4 * (800 - 200) * 8);  // 600 more steps of 8 floats
        auto longer =
            plan_of(config_json({1, 100, 8}, json::array({json{{"type", "upsample1d"}, {"size", 2}},
                                                          json{{"type", "upsample1d"}, {"size", 2}}})));
        CHECK(longer.memory_bytes > small.memory_bytes);
    }
    SECTION("huge shapes throw instead of wrapping") {
        const int64_t big = int64_t{1} << 31;
        c1r::ConfigSpec spec =
            c1r_test::parse(config_json({1, 8, 8}, json::array({json{{"type", "upsample1d"}}})));
        auto e = error_from([&] { c1r::make_plan(spec, c1r::Shape{big, big, big}); });  // 2^93 elements
        CHECK(e.kind() == c1r::ErrorKind::config);

        // 2^20 * 2^20 = 2^40 input values fit; upsampling by 2^30 makes 2^70 and must be caught
        json huge_upsample = config_json({1, 1 << 20, 1 << 20},
                                         json::array({json{{"type", "upsample1d"}, {"size", 1 << 30}}}));
        auto e2 = error_from([&] { plan_of(huge_upsample); });
        CHECK(e2.kind() == c1r::ErrorKind::config);

        // a conv whose weights alone overflow: k 2^31 is refused by length, so use filters * channels instead
        json wide = config_json({1, 1, 1 << 30}, json::array({conv_layer(int64_t{1} << 31, 1)}));
        CHECK_THROWS_AS(plan_of(wide), c1r::Error);  // 2^30 * 2^31 = 2^61 params, * 8 bytes = 2^64
    }
}
