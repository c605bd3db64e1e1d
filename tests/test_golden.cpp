// Checks reference and oneDNN outputs against Keras goldens computed in PyTorch (scripts/make_golden.py).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "network/network.hpp"
#include "plan/plan.hpp"
#include "reference/reference.hpp"
#include "model/spec.hpp"
#include "io/tensor.hpp"

namespace {

using nlohmann::json;

// Expected values are float32 from a float64 computation; the scale keeps large outputs fair.
constexpr double kTolerance = 1e-4;

struct Outcome {
    double max_abs = 0;     // largest |got - expected| over the case
    double normalized = 0;  // max_abs / max(1, max|expected|), the quantity held to kTolerance
};

Outcome compare(const std::vector<float>& got, const std::vector<double>& expected) {
    Outcome o;
    if (got.size() != expected.size()) {
        o.max_abs = o.normalized = INFINITY;
        return o;
    }
    double scale = 1.0;
    for (size_t i = 0; i < expected.size(); ++i) {
        double diff = std::fabs(static_cast<double>(got[i]) - expected[i]);
        if (std::isnan(got[i])) diff = INFINITY;
        o.max_abs = std::max(o.max_abs, diff);
        scale = std::max(scale, std::fabs(expected[i]));
    }
    o.normalized = o.max_abs / scale;
    return o;
}

// First index where got and expected differ by more than the tolerance, for the failure message.
std::string first_mismatch(const std::vector<float>& got, const std::vector<double>& expected, double limit) {
    for (size_t i = 0; i < std::min(got.size(), expected.size()); ++i)
        if (!(std::fabs(static_cast<double>(got[i]) - expected[i]) <= limit))
            return "flat index " + std::to_string(i) + ": expected " + std::to_string(expected[i]) +
                   ", got " + std::to_string(got[i]);
    return "sizes " + std::to_string(got.size()) + " vs " + std::to_string(expected.size());
}

std::vector<c1r::LayerWeights> fixture_weights(const json& case_json) {
    std::vector<c1r::LayerWeights> weights;
    for (const json& w : case_json.at("weights")) {
        c1r::LayerWeights lw;
        if (!w.is_null()) {
            lw.vars["kernel"] = w.at("kernel").get<std::vector<float>>();
            if (!w.at("bias").is_null()) lw.vars["bias"] = w.at("bias").get<std::vector<float>>();
        }
        weights.push_back(std::move(lw));
    }
    return weights;
}

struct FamilyTally {
    int cases = 0, reference_pass = 0, onednn_pass = 0;
    double reference_worst = 0, onednn_worst = 0;  // normalized error
    std::string reference_worst_id, onednn_worst_id;
};

// Runs one case through the reference chain and the oneDNN network and tallies both against the fixture.
void run_case(const std::string& source, const std::string& id, const json& case_json, c1r::Context& context,
              FamilyTally& tally) {
    c1r::ConfigSpec config = c1r::parse_config(case_json.at("config"), source);
    const c1r::Shape input_shape = c1r::shape_from_dims(*config.input.shape, config.data_format);
    const c1r::Plan plan = c1r::make_plan(config, input_shape);

    const auto want_dims = case_json.at("output_shape").get<std::vector<int64_t>>();
    const c1r::Dims3 got_dims = c1r::dims_from_shape(plan.output_shape, config.data_format);
    const bool shape_ok = std::vector<int64_t>(got_dims.begin(), got_dims.end()) == want_dims;
    CHECK(shape_ok);

    const auto input_values = case_json.at("input").get<std::vector<float>>();
    if (static_cast<int64_t>(input_values.size()) != input_shape.elements())
        throw std::runtime_error("fixture input has " + std::to_string(input_values.size()) + " values");
    const c1r::Tensor input =
        c1r::tensor_from_user_order(input_shape, input_values.data(), config.data_format);
    const std::vector<c1r::LayerWeights> weights = fixture_weights(case_json);
    if (weights.size() != plan.layers.size())
        throw std::runtime_error("fixture weights do not match the layers");
    // Read as float: the fixture holds float32 values, so data-movement layers must match them exactly.
    const auto expected_f32 = case_json.at("output").get<std::vector<float>>();
    const std::vector<double> expected(expected_f32.begin(), expected_f32.end());
    double scale = 1.0;
    for (double v : expected) scale = std::max(scale, std::fabs(v));
    const double limit = kTolerance * scale;

    c1r::Tensor current = input;
    for (size_t i = 0; i < plan.layers.size(); ++i)
        current = c1r::reference_layer(plan.layers[i], current, weights[i], config.data_format);
    const std::vector<float> reference = c1r::tensor_to_user_order(current, config.data_format);
    const Outcome ref = compare(reference, expected);
    {
        INFO("reference: max abs error " << ref.max_abs << " (limit " << limit << "), "
                                         << first_mismatch(reference, expected, limit));
        CHECK(ref.normalized <= kTolerance);
    }
    if (shape_ok && ref.normalized <= kTolerance) ++tally.reference_pass;
    if (ref.normalized > tally.reference_worst || tally.reference_worst_id.empty())
        tally.reference_worst = ref.normalized, tally.reference_worst_id = id;

    c1r::Network network(context, plan, weights, c1r::DType::f32);
    network.set_input(input);
    network.forward();
    const std::vector<float> onednn = c1r::tensor_to_user_order(network.output(), config.data_format);
    const Outcome dnn = compare(onednn, expected);
    {
        INFO("oneDNN: max abs error " << dnn.max_abs << " (limit " << limit << "), "
                                      << first_mismatch(onednn, expected, limit));
        CHECK(dnn.normalized <= kTolerance);
    }
    if (shape_ok && dnn.normalized <= kTolerance) ++tally.onednn_pass;
    if (dnn.normalized > tally.onednn_worst || tally.onednn_worst_id.empty())
        tally.onednn_worst = dnn.normalized, tally.onednn_worst_id = id;
}

void run_family(const std::string& family) {
    const std::string file = std::string(C1R_FIXTURE_DIR) + "/golden/" + family + ".json";
    const json fixture = c1r::read_json_file(file);
    const json& cases = fixture.at("cases");
    REQUIRE(cases.size() > 0);

    c1r::Context::set_threads(1);  // deterministic and kind to the shared machine; the cases are tiny
    c1r::Context context;
    FamilyTally tally;
    for (const json& case_json : cases) {
        const std::string id = case_json.at("id").get<std::string>();
        const std::string source = file + "#" + id;
        INFO("case " << source);
        ++tally.cases;
        try {
            run_case(source, id, case_json, context, tally);
        } catch (const std::exception& e) {  // a case that cannot even run fails alone, the family goes on
            FAIL_CHECK("threw: " << e.what());
            tally.reference_worst = tally.onednn_worst = INFINITY;
            tally.reference_worst_id = tally.onednn_worst_id = id;
        }
    }
    // The figures the closing note quotes: one line per family on stdout.
    std::printf(
        "golden %-17s cases %3d | reference pass %3d, worst %.3g (%s) | oneDNN pass %3d, worst %.3g (%s)\n",
        family.c_str(), tally.cases, tally.reference_pass, tally.reference_worst,
        tally.reference_worst_id.c_str(), tally.onednn_pass, tally.onednn_worst,
        tally.onednn_worst_id.c_str());
    std::fflush(stdout);
}

}  // namespace

TEST_CASE("golden conv1d", "[golden][conv1d]") { run_family("conv1d"); }
TEST_CASE("golden conv1d_transpose", "[golden][conv1d_transpose]") { run_family("conv1d_transpose"); }
TEST_CASE("golden max_pool1d", "[golden][max_pool1d]") { run_family("max_pool1d"); }
TEST_CASE("golden avg_pool1d", "[golden][avg_pool1d]") { run_family("avg_pool1d"); }
TEST_CASE("golden upsample1d", "[golden][upsample1d]") { run_family("upsample1d"); }
TEST_CASE("golden permute", "[golden][permute]") { run_family("permute"); }
TEST_CASE("golden reshape", "[golden][reshape]") { run_family("reshape"); }
TEST_CASE("golden activation", "[golden][activation]") { run_family("activation"); }
TEST_CASE("golden stacks", "[golden][stack]") { run_family("stack"); }
TEST_CASE("golden channels_first", "[golden][channels_first]") { run_family("channels_first"); }
