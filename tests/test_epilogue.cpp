// Transposed convs run bias and activation as separate in-place steps: check them on every layout oneDNN picks.
#include <catch2/catch.hpp>

#include <cmath>

#include "network/network.hpp"
#include "reference/reference.hpp"
#include "test_helpers.hpp"

using c1r_test::json;

TEST_CASE("conv1d_transpose bias and activation steps match the reference for many filter counts",
          "[network][epilogue]") {
    // 8 filters with relu once went wrong as a binary post-op on an nCw16c destination; sweep the neighbours.
    c1r::Context context;
    c1r::Context::set_threads(1);
    for (int64_t filters : {1, 4, 8, 15, 16, 24, 33}) {
        for (const char* activation : {"linear", "relu", "gelu", "sigmoid"}) {
            for (const char* padding : {"same", "valid"}) {
                json layer = {{"type", "conv1d_transpose"}, {"filters", filters}, {"kernel_size", 4},
                              {"strides", 2},                {"padding", padding}, {"activation", activation}};
                json config = c1r_test::config_json({2, 9, 16}, json::array({layer}));
                c1r::Plan plan = c1r_test::plan_of(config);
                INFO("filters " << filters << " " << activation << " " << padding);
                std::vector<c1r::LayerWeights> weights{c1r::default_weights(plan.layers[0], 3)};
                for (int64_t f = 0; f < filters; ++f)
                    weights[0].mutable_var("bias")[static_cast<size_t>(f)] = 0.25f * static_cast<float>(f % 7) - 0.7f;
                c1r::Tensor input = c1r::random_input(plan.input_shape, {}, plan.data_format);
                c1r::Network network(context, plan, weights, c1r::DType::f32);
                network.set_input(input);
                network.forward();
                network.forward();  // in-place steps must not accumulate across passes
                c1r::Tensor want = c1r::reference_layer(plan.layers[0], input, weights[0], plan.data_format);
                c1r::Tensor got = network.output();
                REQUIRE(got.data.size() == want.data.size());
                double max_error = 0;
                for (size_t i = 0; i < got.data.size(); ++i)
                    max_error = std::max(max_error, std::fabs(double(got.data[i]) - want.data[i]));
                CHECK(max_error < 1e-4);
            }
        }
    }
}
