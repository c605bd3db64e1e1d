// Checks oneDNN against the reference layer by layer (seeded sweeps, benchdnn 1-D problems) and layout
// choices.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <set>

#include "network/network.hpp"
#include "reference/reference.hpp"
#include "io/tensor.hpp"
#include "test_helpers.hpp"

using c1r_test::json;

namespace {

// Deterministic draws: mt19937's sequence is fixed by the standard, and plain modulo keeps the mapping fixed
// too (std::uniform_int_distribution differs between standard libraries).
class Draw {
public:
    explicit Draw(uint32_t seed) : engine_(seed) {}
    int64_t between(int64_t low, int64_t high) {
        return low + static_cast<int64_t>(engine_() % static_cast<uint32_t>(high - low + 1));
    }
    bool coin() { return between(0, 1) == 1; }
    template <typename T>
    const T& pick(const std::vector<T>& items) {
        return items[static_cast<size_t>(between(0, static_cast<int64_t>(items.size()) - 1))];
    }
    uint32_t raw() { return engine_(); }

private:
    std::mt19937 engine_;
};

const std::vector<std::string> kActivations = {"linear", "relu", "tanh", "sigmoid", "gelu", "elu", "swish"};

std::vector<int64_t> divisors(int64_t n) {
    std::vector<int64_t> out;
    for (int64_t d = 1; d <= n; ++d)
        if (n % d == 0) out.push_back(d);
    return out;
}

json input_section(const std::vector<int64_t>& shape, uint64_t seed) {
    return json{{"shape", shape}, {"init", {{"distribution", "normal"}, {"seed", seed}}}};
}

json make_config(const std::vector<int64_t>& shape, const json& layers, uint64_t seed,
                 const std::string& data_format = "channels_last") {
    return json{{"name", "sweep"},
                {"data_format", data_format},
                {"input", input_section(shape, seed)},
                {"layers", layers}};
}

struct LayerError {
    double max_abs = 0, max_ref = 0;
};

// Max abs difference between two same-shaped tensors and the largest reference magnitude.
LayerError compare(const c1r::Tensor& got, const c1r::Tensor& ref) {
    LayerError e;
    for (size_t i = 0; i < ref.data.size(); ++i) {
        double diff = std::fabs(static_cast<double>(got.data[i]) - static_cast<double>(ref.data[i]));
        if (std::isnan(got.data[i]) != std::isnan(ref.data[i])) diff = INFINITY;
        e.max_abs = std::max(e.max_abs, diff);
        e.max_ref = std::max(e.max_ref, std::fabs(static_cast<double>(ref.data[i])));
    }
    return e;
}

// Plans `config`; nullopt when the plan refuses it as a config error (e.g. an output shorter than 1).
std::optional<c1r::Plan> try_plan(const c1r::ConfigSpec& spec) {
    try {
        return c1r::make_plan(spec, c1r::shape_from_dims(*spec.input.shape, spec.data_format));
    } catch (const c1r::Error& e) {
        if (e.kind() != c1r::ErrorKind::config) throw;
        return std::nullopt;
    }
}

// Keras default kernels, and a random bias that is never zero so that adding it is checked too.
std::vector<c1r::LayerWeights> random_weights(const c1r::Plan& plan, Draw& draw) {
    std::vector<c1r::LayerWeights> all;
    const uint64_t seed = draw.raw();
    for (const auto& layer : plan.layers) {
        c1r::LayerWeights w = c1r::default_weights(layer, seed);
        for (auto& b : w.mutable_var("bias")) {
            const double magnitude = 0.1 + 0.9 * static_cast<double>(draw.raw()) / 4294967295.0;
            b = static_cast<float>(draw.coin() ? magnitude : -magnitude);
        }
        all.push_back(std::move(w));
    }
    return all;
}

// Runs a planned config through oneDNN and the reference chain and checks every layer's output.
void check_against_reference(c1r::Context& context, const json& config, const c1r::ConfigSpec& spec,
                             const c1r::Plan& plan, Draw& draw) {
    INFO("config: " << config.dump());
    std::vector<c1r::LayerWeights> weights = random_weights(plan, draw);
    c1r::Tensor input = c1r::random_input(plan.input_shape, spec.input.init, spec.data_format);
    c1r::Network network(context, plan, weights, c1r::DType::f32);
    network.set_input(input);
    network.forward();
    c1r::Tensor expected = input;
    for (size_t i = 0; i < plan.layers.size(); ++i) {
        network.run_node(i);  // a forward pass node by node: each output is read before its buffer is reused
        expected = c1r::reference_layer(plan.layers[i], expected, weights[i], spec.data_format);
        // A conv with the next activation layer fused in never holds its own output; the next layer is
        // checked.
        if (network.units()[i].includes_next_activation) continue;
        c1r::Tensor got = network.layer_output(i);
        INFO("layer " << i << " (" << plan.layers[i].summary
                      << "): " << c1r::shape_text(plan.layers[i].input_shape, spec.data_format) << " -> "
                      << c1r::shape_text(plan.layers[i].output_shape, spec.data_format));
        REQUIRE(got.shape == expected.shape);
        REQUIRE(got.data.size() == expected.data.size());
        LayerError e = compare(got, expected);
        INFO("max abs error " << e.max_abs << ", max |ref| " << e.max_ref);
        CHECK(e.max_abs <= 1e-4 * std::max(1.0, e.max_ref));
    }
}

// Parses, plans and checks; false (nothing checked) when the plan refuses the settings.
bool run_case(c1r::Context& context, const json& config, Draw& draw) {
    c1r::ConfigSpec spec = c1r::parse_config(config, "sweep.json");
    std::optional<c1r::Plan> plan = try_plan(spec);
    if (!plan) return false;
    check_against_reference(context, config, spec, *plan, draw);
    return true;
}

// ---- random layers ----

json random_conv(Draw& draw, int64_t channels, std::map<std::string, int>& seen) {
    const int64_t k = draw.between(1, 7), s = draw.between(1, 4), d = draw.between(1, 4);
    const int64_t groups = draw.pick(divisors(channels));
    const int64_t filters = groups * draw.between(1, std::max<int64_t>(1, 16 / groups));
    json layer = {{"type", "conv1d"},        {"filters", filters},
                  {"kernel_size", k},        {"strides", s},
                  {"dilation_rate", d},      {"groups", groups},
                  {"use_bias", draw.coin()}, {"activation", draw.pick(kActivations)}};
    switch (draw.between(0, 3)) {
        case 0:
            layer["padding"] = "valid";
            break;
        case 1:
            layer["padding"] = "same";
            break;
        case 2:
            layer["padding"] = "causal";
            break;
        default:
            layer["padding"] = json::array({draw.between(0, k), draw.between(0, k)});
            break;
    }
    seen[layer["padding"].is_string() ? layer["padding"].get<std::string>() : "explicit"]++;
    seen[layer["activation"].get<std::string>()]++;
    if (groups > 1) seen["groups"]++;
    if (s > 1 && d > 1) seen["stride+dilation"]++;
    seen[layer["use_bias"].get<bool>() ? "bias" : "no bias"]++;
    return layer;
}

json random_transpose(Draw& draw, std::map<std::string, int>& seen) {
    const int64_t k = draw.between(1, 7), s = draw.between(1, 4), d = draw.between(1, 4);
    json layer = {{"type", "conv1d_transpose"}, {"filters", draw.between(1, 16)},
                  {"kernel_size", k},           {"strides", s},
                  {"dilation_rate", d},         {"padding", draw.coin() ? "same" : "valid"},
                  {"use_bias", draw.coin()},    {"activation", draw.pick(kActivations)}};
    if (draw.between(0, 2) > 0) {
        layer["output_padding"] = draw.between(0, s - 1);
        seen["output_padding"]++;
    }
    seen[layer["padding"].get<std::string>()]++;
    return layer;
}

json random_pool(Draw& draw, std::map<std::string, int>& seen) {
    json layer = {{"type", draw.coin() ? "max_pool1d" : "avg_pool1d"},
                  {"pool_size", draw.between(1, 6)},
                  {"padding", draw.coin() ? "same" : "valid"}};
    if (draw.between(0, 2) > 0) layer["strides"] = draw.between(1, 4);  // otherwise strides = pool_size
    seen[layer["type"].get<std::string>() + " " + layer["padding"].get<std::string>()]++;
    return layer;
}

// upsample, permute, reshape or activation for a per-sample tensor of `length` x `channels` values.
json random_shape_layer(Draw& draw, int64_t length, int64_t channels) {
    switch (draw.between(0, 3)) {
        case 0:
            return {{"type", "upsample1d"}, {"size", draw.between(1, 4)}};
        case 1:
            return {{"type", "permute"}, {"dims", draw.coin() ? json::array({2, 1}) : json::array({1, 2})}};
        case 2: {
            const int64_t total = length * channels;
            const int64_t first = draw.pick(divisors(total));
            json target = json::array({first, total / first});
            if (draw.between(0, 2) > 0) target[draw.between(0, 1)] = -1;
            return {{"type", "reshape"}, {"target_shape", target}};
        }
        default:
            return {{"type", "activation"}, {"activation", draw.pick(kActivations)}};
    }
}

}  // namespace

TEST_CASE("conv1d matches the reference on a seeded sweep of 200 valid settings", "[network][sweep]") {
    c1r::Context context;
    Draw draw(20240611u);
    std::map<std::string, int> seen;
    int valid = 0, skipped = 0;
    while (valid < 200 && valid + skipped < 5000) {
        const int64_t length = draw.between(1, 64), channels = draw.between(1, 16),
                      batch = draw.between(1, 3);
        std::map<std::string, int> layer_seen;
        json layer = random_conv(draw, channels, layer_seen);
        json config = make_config({batch, length, channels}, json::array({layer}), draw.raw());
        if (run_case(context, config, draw)) {
            ++valid;
            for (const auto& [key, count] : layer_seen) seen[key] += count;
        } else {
            ++skipped;
        }
    }
    REQUIRE(valid == 200);
    // The sweep must have reached every padding kind and activation, groups, bias both ways and strided
    // dilation.
    for (const char* key :
         {"valid", "same", "causal", "explicit", "groups", "stride+dilation", "bias", "no bias"}) {
        CAPTURE(key);
        CHECK(seen[key] >= 5);
    }
    for (const auto& name : kActivations) {
        CAPTURE(name);
        CHECK(seen[name] >= 5);
    }
}

TEST_CASE("conv1d_transpose matches the reference on a seeded sweep", "[network][sweep]") {
    c1r::Context context;
    Draw draw(7151u);
    std::map<std::string, int> seen;
    int valid = 0;
    for (int attempt = 0; valid < 80 && attempt < 2000; ++attempt) {
        const int64_t length = draw.between(1, 64), channels = draw.between(1, 16),
                      batch = draw.between(1, 3);
        json config =
            make_config({batch, length, channels}, json::array({random_transpose(draw, seen)}), draw.raw());
        if (run_case(context, config, draw)) ++valid;
    }
    CHECK(valid == 80);
    CHECK(seen["same"] >= 10);
    CHECK(seen["valid"] >= 10);
    CHECK(seen["output_padding"] >= 10);
}

TEST_CASE("pooling matches the reference on a seeded sweep", "[network][sweep]") {
    c1r::Context context;
    Draw draw(90210u);
    std::map<std::string, int> seen;
    int valid = 0;
    for (int attempt = 0; valid < 60 && attempt < 2000; ++attempt) {
        const int64_t length = draw.between(1, 64), channels = draw.between(1, 16),
                      batch = draw.between(1, 3);
        json config =
            make_config({batch, length, channels}, json::array({random_pool(draw, seen)}), draw.raw());
        if (run_case(context, config, draw)) ++valid;
    }
    CHECK(valid == 60);
    for (const char* key : {"max_pool1d valid", "max_pool1d same", "avg_pool1d valid", "avg_pool1d same"}) {
        CAPTURE(key);
        CHECK(seen[key] >= 5);
    }
}

TEST_CASE("upsample, permute, reshape and activation match the reference in both data formats",
          "[network][sweep]") {
    c1r::Context context;
    Draw draw(4242u);
    int valid = 0;
    for (int attempt = 0; valid < 40 && attempt < 400; ++attempt) {
        const int64_t length = draw.between(1, 64), channels = draw.between(1, 16),
                      batch = draw.between(1, 3);
        const bool channels_first = draw.coin();
        // The layer sits after a conv half the time: then its input comes in the conv's (possibly blocked)
        // layout.
        json layers = json::array();
        int64_t layer_channels = channels;
        if (draw.coin()) {
            layer_channels = draw.between(1, 16);
            layers.push_back(c1r_test::conv_layer(layer_channels, 3, 1, "same"));
        }
        layers.push_back(random_shape_layer(draw, length, layer_channels));
        std::vector<int64_t> shape = channels_first ? std::vector<int64_t>{batch, channels, length}
                                                    : std::vector<int64_t>{batch, length, channels};
        json config =
            make_config(shape, layers, draw.raw(), channels_first ? "channels_first" : "channels_last");
        if (run_case(context, config, draw)) ++valid;
    }
    CHECK(valid == 40);
}

TEST_CASE("short random stacks match the reference layer by layer", "[network][sweep]") {
    c1r::Context context;
    Draw draw(31337u);
    std::map<std::string, int> seen;
    int valid = 0;
    for (int attempt = 0; valid < 60 && attempt < 3000; ++attempt) {
        const int64_t length = draw.between(8, 64), channels = draw.between(1, 16),
                      batch = draw.between(1, 2);
        const std::string format = draw.coin() ? "channels_first" : "channels_last";
        std::vector<int64_t> shape = format == "channels_first"
                                         ? std::vector<int64_t>{batch, channels, length}
                                         : std::vector<int64_t>{batch, length, channels};
        json layers = json::array();
        const int64_t depth = draw.between(2, 4);
        bool plannable = true;
        for (int64_t i = 0; i < depth && plannable; ++i) {
            // Plan the stack so far to learn the shape the next layer receives (its groups must divide its
            // channels).
            c1r::Shape current{batch, length, channels};
            if (!layers.empty()) {
                auto prefix =
                    try_plan(c1r::parse_config(make_config(shape, layers, 1, format), "prefix.json"));
                if (!prefix) {
                    plannable = false;
                    break;
                }
                current = prefix->output_shape;
            }
            if (current.length > 512 || current.channels > 64) break;  // keeps the sweep fast
            switch (draw.between(0, 4)) {
                case 0:
                case 1:
                    layers.push_back(random_conv(draw, current.channels, seen));
                    break;
                case 2:
                    layers.push_back(random_transpose(draw, seen));
                    break;
                case 3:
                    layers.push_back(random_pool(draw, seen));
                    break;
                default:
                    layers.push_back(random_shape_layer(draw, current.length, current.channels));
                    break;
            }
        }
        if (!plannable || layers.size() < 2) continue;
        if (run_case(context, make_config(shape, layers, draw.raw(), format), draw)) ++valid;
    }
    CHECK(valid == 60);
}

TEST_CASE("stacks on wide tensors (blocked layouts with channel tails) match the reference",
          "[network][sweep]") {
    c1r::Context context;
    Draw draw(777u);
    std::map<std::string, int> seen;
    int valid = 0;
    for (int attempt = 0; valid < 40 && attempt < 1000; ++attempt) {
        // 17..48 channels: oneDNN picks 16- or 8-channel blocks, and most counts leave a partial block.
        const int64_t length = draw.between(8, 48), channels = draw.between(17, 48),
                      batch = draw.between(1, 2);
        const std::string format = draw.coin() ? "channels_first" : "channels_last";
        std::vector<int64_t> shape = format == "channels_first"
                                         ? std::vector<int64_t>{batch, channels, length}
                                         : std::vector<int64_t>{batch, length, channels};
        json first = random_conv(draw, channels, seen);
        first["filters"] =
            draw.between(17, 48) / first["groups"].get<int64_t>() * first["groups"].get<int64_t>();
        if (first["filters"] == 0) first["filters"] = first["groups"];
        json second;
        switch (draw.between(0, 5)) {
            case 0:
                second = random_pool(draw, seen);
                break;
            case 1:
                second = random_transpose(draw, seen);
                second["filters"] = draw.between(17, 40);
                break;
            case 2:
                second = c1r_test::conv_layer(draw.between(17, 40), draw.between(1, 5), draw.between(1, 2),
                                              "same");
                break;
            default:
                second = random_shape_layer(draw, 1, 1);
                break;  // a reshape target is replaced below
        }
        if (second["type"] == "reshape")
            second["target_shape"] = json::array({-1, 1});  // any total divides by 1
        json layers = json::array({first, second, c1r_test::conv_layer(draw.between(1, 24), 3, 1, "same")});
        if (run_case(context, make_config(shape, layers, draw.raw(), format), draw)) ++valid;
    }
    CHECK(valid == 40);
}

// ---- benchdnn's own 1-D problems ----

namespace {

// One benchdnn problem line: letters followed by a number (`mb2ic16iw13...`), `_` only separates, the name
// (`n"..."`) is dropped. A key given twice keeps its last value.
std::map<std::string, int64_t> parse_descriptor(std::string line) {
    std::map<std::string, int64_t> keys;
    if (auto name = line.find("n\""); name != std::string::npos) line = line.substr(0, name);
    static const std::regex token("([a-z]+)([0-9]+)");
    for (std::sregex_iterator it(line.begin(), line.end(), token), end; it != end; ++it)
        keys[(*it)[1].str()] = std::stoll((*it)[2].str());
    return keys;
}

struct PeerProblem {
    std::string file, line;
    json config;
    int64_t macs = 0;
    int64_t expected_out = 0, expected_left = 0, expected_right = 0;  // benchdnn's ow and pads, for the plan
};

int64_t key_or(const std::map<std::string, int64_t>& keys, const std::string& key, int64_t fallback) {
    auto it = keys.find(key);
    return it == keys.end() ? fallback : it->second;
}

// Only width matters: depth and height must be absent or trivial.
bool is_1d(const std::map<std::string, int64_t>& keys) {
    for (const char* key : {"id", "ih", "kd", "kh", "od", "oh", "sd", "sh"})
        if (key_or(keys, key, 1) != 1) return false;
    for (const char* key : {"pd", "ph", "dd", "dh"})
        if (key_or(keys, key, 0) != 0) return false;
    return true;
}

constexpr int64_t kMaxMacs = 20'000'000;

// benchdnn conv -> conv1d with explicit [pw, pr]; right padding from ow. Nothing when it does not map or is
// big.
std::optional<PeerProblem> map_conv(const std::map<std::string, int64_t>& k) {
    if (!is_1d(k)) return std::nullopt;
    const int64_t g = key_or(k, "g", 1), mb = std::min<int64_t>(key_or(k, "mb", 2), 2);
    const int64_t ic = k.at("ic"), iw = k.at("iw"), oc = k.at("oc"), kw = k.at("kw");
    const int64_t sw = key_or(k, "sw", 1), dw = key_or(k, "dw", 0), pw = key_or(k, "pw", 0);
    const int64_t dk = (kw - 1) * (dw + 1) + 1;
    const int64_t ow = k.count("ow") ? k.at("ow") : (iw - dk + 2 * pw) / sw + 1;  // benchdnn: symmetric pads
    const int64_t pr = (ow - 1) * sw + dk - iw - pw;
    if (ow < 1 || pr < 0 || ic % g || oc % g) return std::nullopt;  // negative pads have no config spelling
    PeerProblem p;
    p.macs = mb * oc * (ic / g) * kw * ow;
    if (p.macs > kMaxMacs) return std::nullopt;
    json layer = {{"type", "conv1d"},
                  {"filters", oc},
                  {"kernel_size", kw},
                  {"strides", sw},
                  {"dilation_rate", dw + 1},
                  {"groups", g},
                  {"padding", json::array({pw, pr})}};
    p.config = make_config({mb, iw, ic}, json::array({layer}), 5);
    p.expected_out = ow, p.expected_left = pw, p.expected_right = pr;
    return p;
}

// benchdnn deconv -> conv1d_transpose when its crop is where Keras puts it for valid or same (with or without
// output_padding); the Keras rules are restated here, apart from the product's.
std::optional<PeerProblem> map_deconv(const std::map<std::string, int64_t>& k) {
    if (!is_1d(k) || key_or(k, "g", 1) != 1) return std::nullopt;  // Conv1DTranspose has no groups
    const int64_t mb = std::min<int64_t>(key_or(k, "mb", 2), 2);
    const int64_t ic = k.at("ic"), iw = k.at("iw"), oc = k.at("oc"), kw = k.at("kw");
    const int64_t sw = key_or(k, "sw", 1), dw = key_or(k, "dw", 0), pw = key_or(k, "pw", 0);
    const int64_t dk = (kw - 1) * (dw + 1) + 1, full = (iw - 1) * sw + dk;
    if (!k.count("ow")) return std::nullopt;
    const int64_t ow = k.at("ow"), pr = full - ow - pw;
    for (int64_t op = -1; op < sw; ++op) {  // -1: no output_padding
        for (const std::string padding : {"valid", "same"}) {
            int64_t out = 0;
            if (padding == "valid")
                out = op < 0 ? iw * sw + std::max<int64_t>(dk - sw, 0) : full + op;
            else
                out = op < 0 ? iw * sw : (iw - 1) * sw + dk % 2 + op;
            const int64_t crop_left = padding == "valid" ? 0 : std::max<int64_t>(full - out, 0) / 2;
            if (out != ow || crop_left != pw) continue;
            PeerProblem p;
            p.macs = mb * ic * oc * kw * iw;
            if (p.macs > kMaxMacs) return std::nullopt;
            json layer = {{"type", "conv1d_transpose"}, {"filters", oc},
                          {"kernel_size", kw},          {"strides", sw},
                          {"dilation_rate", dw + 1},    {"padding", padding}};
            if (op >= 0) layer["output_padding"] = op;
            p.config = make_config({mb, iw, ic}, json::array({layer}), 6);
            p.expected_out = ow, p.expected_left = pw, p.expected_right = pr;
            return p;
        }
    }
    return std::nullopt;
}

// benchdnn pool -> max_pool1d or avg_pool1d when its pads are Keras valid or same; pooling has no dilation in
// Keras.
std::optional<PeerProblem> map_pool(const std::map<std::string, int64_t>& k, const std::string& type) {
    if (!is_1d(k) || key_or(k, "dw", 0) != 0 || !k.count("ow")) return std::nullopt;
    const int64_t mb = std::min<int64_t>(key_or(k, "mb", 2), 2);
    const int64_t ic = k.at("ic"), iw = k.at("iw"), ow = k.at("ow"), kw = k.at("kw");
    const int64_t sw = key_or(k, "sw", 1), pw = key_or(k, "pw", 0);
    std::string padding;
    const int64_t same_out = (iw + sw - 1) / sw;
    const int64_t same_total = std::max<int64_t>((same_out - 1) * sw + kw - iw, 0);
    if (pw == 0 && iw >= kw && ow == (iw - kw) / sw + 1)
        padding = "valid";
    else if (ow == same_out && pw == same_total / 2)
        padding = "same";
    else
        return std::nullopt;
    PeerProblem p;
    p.macs = mb * ic * kw * ow;
    json layer = {{"type", type}, {"pool_size", kw}, {"strides", sw}, {"padding", padding}};
    p.config = make_config({mb, iw, ic}, json::array({layer}), 7);
    p.expected_out = ow;
    p.expected_left = pw;
    p.expected_right = padding == "valid" ? 0 : same_total - same_total / 2;  // valid reads no padding at all
    return p;
}

std::vector<std::string> problem_lines(const std::string& path) {
    std::ifstream in(path);
    REQUIRE(in.good());
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        line.erase(std::remove_if(line.begin(), line.end(), [](unsigned char c) { return std::isspace(c); }),
                   line.end());
        if (!line.empty() && line[0] != '#' && line[0] != '-') lines.push_back(line);
    }
    return lines;
}

// At most `count` items spread evenly over the list, first and last included.
template <typename T>
std::vector<T> spread(const std::vector<T>& items, size_t count) {
    if (items.size() <= count) return items;
    std::vector<T> out;
    for (size_t i = 0; i < count; ++i) out.push_back(items[i * (items.size() - 1) / (count - 1)]);
    return out;
}

// ../shared beside the clone (/work/shared for /work/main).
const std::string kPeerDir =
    (std::filesystem::path(C1R_SOURCE_DIR) / "../shared/peer-suites/benchdnn-v2.6").lexically_normal().string();

}  // namespace

TEST_CASE("benchdnn 1-D problems: oneDNN matches the reference", "[network][benchdnn]") {
    // CI always has ../shared beside the clone: a missing suite is a failure, not a pass.
    if (!std::filesystem::is_directory(kPeerDir))
        FAIL("peer suite not found: looked for the folder " << kPeerDir << " (../shared beside the clone)");
    std::vector<PeerProblem> sample;
    for (const char* file :
         {"conv/shapes_1d", "conv/shapes_1d_wavenet", "conv/shapes_dilated_1d_1st_strided_padding",
          "conv/shapes_dilated_1d_strided_no-padding", "conv/shapes_dilated_1d_strided_padding",
          "conv/shapes_dilated_1d_unit-stride_no-padding", "conv/shapes_dilated_1d_unit-stride_padding",
          "conv/shapes_dw_1d_stride_no-padding", "conv/shapes_dw_1d_unit-stride_no-padding",
          "conv/shapes_dw_1d_unit-stride_padding"}) {
        std::vector<PeerProblem> mapped;
        for (const auto& line : problem_lines(kPeerDir + "/" + file))
            if (auto p = map_conv(parse_descriptor(line))) {
                p->file = file, p->line = line;
                mapped.push_back(*p);
            }
        CAPTURE(file);
        CHECK(!mapped.empty());
        for (auto& p : spread(mapped, 5)) sample.push_back(p);
    }
    size_t deconvs = 0, pools = 0;
    for (const auto& line : problem_lines(kPeerDir + "/deconv/shapes_1d"))
        if (auto p = map_deconv(parse_descriptor(line))) {
            p->file = "deconv/shapes_1d", p->line = line;
            sample.push_back(*p);
            ++deconvs;
        }
    for (const auto& line : problem_lines(kPeerDir + "/pool/shapes_1d"))
        for (const char* type : {"max_pool1d", "avg_pool1d"})
            if (auto p = map_pool(parse_descriptor(line), type)) {
                p->file = "pool/shapes_1d", p->line = line;
                sample.push_back(*p);
                ++pools;
            }
    CHECK(deconvs >=
          3);  // alexnet:deconv1 (valid), deconv3 (same), masknet (valid + op 1), resnet_50 (valid)
    CHECK(pools >= 10);
    CHECK(sample.size() >= 55);

    c1r::Context context;
    Draw draw(2600u);
    for (const auto& p : sample) {
        INFO(p.file << ": " << p.line);
        c1r::ConfigSpec spec = c1r::parse_config(p.config, p.file);
        std::optional<c1r::Plan> plan = try_plan(spec);
        REQUIRE(plan.has_value());
        // The plan must agree with benchdnn on the output width and the padding the problem states.
        CHECK(plan->output_shape.length == p.expected_out);
        REQUIRE(plan->layers[0].padding.has_value());
        CHECK(plan->layers[0].padding->first == p.expected_left);
        CHECK(plan->layers[0].padding->second == p.expected_right);
        check_against_reference(context, p.config, spec, *plan, draw);
    }
}

namespace {

// Builds the network of `config` and checks that no layer after the first reorders its input.
void check_no_reorder_between_layers(c1r::Context& context, const json& config) {
    INFO(config.dump());
    c1r::ConfigSpec spec = c1r::parse_config(config, "stack.json");
    c1r::Plan plan = c1r::make_plan(spec, c1r::shape_from_dims(*spec.input.shape, spec.data_format));
    Draw draw(99u);
    std::vector<c1r::LayerWeights> weights = random_weights(plan, draw);
    c1r::Network network(context, plan, weights, c1r::DType::f32);
    REQUIRE(network.units().size() == plan.layers.size());
    for (size_t i = 1; i < network.units().size(); ++i) {
        const c1r::LayerUnit& unit = network.units()[i];
        const c1r::LayerUnit& before = network.units()[i - 1];
        INFO("layer " << i - 1 << ": " << before.impl << " -> " << before.dst_layout << "; layer " << i
                      << ": " << unit.impl << " -> " << unit.dst_layout);
        CHECK_FALSE(unit.reorder_before);
    }
}

}  // namespace

TEST_CASE("a conv stack negotiates one layout: no reorder between layers", "[network][layout]") {
    c1r::Context context;
    SECTION("three same convs, 32 channels") {
        json layers =
            json::array({c1r_test::conv_layer(32, 3, 1, "same"), c1r_test::conv_layer(32, 3, 1, "same"),
                         c1r_test::conv_layer(32, 3, 1, "same")});
        check_no_reorder_between_layers(context, make_config({2, 128, 32}, layers, 1));
    }
    SECTION("channels change and a stride") {
        json layers =
            json::array({c1r_test::conv_layer(16, 3, 1, "same"), c1r_test::conv_layer(64, 5, 2, "valid"),
                         c1r_test::conv_layer(48, 3, 1, "causal")});
        check_no_reorder_between_layers(context, make_config({1, 256, 16}, layers, 1));
    }
}

// Known shortfall, kept visible: each layer picks its layout alone (tag::any), so neighbours served by
// different oneDNN implementations (depthwise gemm in ncw, brgconv in nwc, deconv in nCw16c) reorder between
// them.
// [!mayfail] reports the failures without failing the run; drop the tag once the network negotiates across
// layers.
TEST_CASE("mixed conv kinds negotiate one layout: no reorder between layers", "[network][layout][!mayfail]") {
    c1r::Context context;
    SECTION("depthwise, dense, depthwise") {
        json depthwise = c1r_test::conv_layer(32, 3, 1, "same");
        depthwise["groups"] = 32;
        json layers = json::array({depthwise, c1r_test::conv_layer(32, 3, 1, "same"), depthwise});
        check_no_reorder_between_layers(context, make_config({2, 128, 32}, layers, 1));
    }
    SECTION("conv, transposed conv, conv") {
        json transpose = {{"type", "conv1d_transpose"},
                          {"filters", 32},
                          {"kernel_size", 4},
                          {"strides", 2},
                          {"padding", "same"}};
        json layers = json::array(
            {c1r_test::conv_layer(64, 3, 1, "same"), transpose, c1r_test::conv_layer(32, 3, 1, "same")});
        check_no_reorder_between_layers(context, make_config({2, 64, 32}, layers, 1));
    }
}
