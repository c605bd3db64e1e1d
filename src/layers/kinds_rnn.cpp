// Recurrent layers: lstm, gru (both reset_after values), simple_rnn, and the bidirectional wrapper.
#include "layers/kinds_common.hpp"

namespace c1r {
namespace {

int64_t gates(LayerType t) { return t == LayerType::lstm ? 4 : t == LayerType::gru ? 3 : 1; }

void read_rnn(ObjectReader& r, LayerSpec& l) {
    l.units = r.integer("units", std::nullopt, 1);
    l.activation = read_activation(r, "activation", Activation::tanh);
    if (l.type != LayerType::simple_rnn) l.recurrent_activation = read_activation(r, "recurrent_activation", Activation::sigmoid);
    l.use_bias = r.boolean("use_bias", true);
    l.return_sequences = r.boolean("return_sequences", false);
    l.return_state = r.boolean("return_state", false);
    l.go_backwards = r.boolean("go_backwards", false);
    if (l.type == LayerType::gru) l.reset_after = r.boolean("reset_after", true);
    if (l.type == LayerType::lstm) l.peepholes = r.boolean("peepholes", false);
    else if (r.find("peepholes") && r.boolean("peepholes", false))
        r.fail(r.at("peepholes"), std::string("peepholes are an lstm setting, not ") + to_string(l.type));
    if (r.boolean("stateful", false)) r.fail(r.at("stateful"), "stateful true is not supported: every run starts from zero state");
    if (r.boolean("time_major", false)) r.fail(r.at("time_major"), "time_major true is not supported");
    // Irrelevant at inference: kept so configs written by Keras read as they are.
    for (const char* key : {"dropout", "recurrent_dropout", "implementation", "unroll", "unit_forget_bias", "seed",
                            "use_cudnn"})
        if (const json* v = r.find(key)) r.record_json(key, *v);
    read_weight_files(r, l);
}

void plan_rnn_outputs(LayerPlan& p, const LayerSpec& s, int directions_concat) {
    const Shape& in = p.input_shape;
    const int64_t h = checked_mul(s.units, directions_concat);
    Shape seq = s.return_sequences ? Shape{in.batch, in.length, h} : Shape::flat(in.batch, h);
    p.output_shapes = {seq};
    p.output_shape = seq;
}

void plan_rnn(LayerPlan& p, const PlanContext&) {
    const Shape& in = require_sequence(p);
    const LayerSpec& s = p.spec;
    plan_rnn_outputs(p, s, 1);
    if (s.return_state) {
        p.output_shapes.push_back(Shape::flat(in.batch, s.units));
        if (s.type == LayerType::lstm) p.output_shapes.push_back(Shape::flat(in.batch, s.units));
    }
    const int64_t g = gates(s.type);
    p.flops = checked_mul(checked_mul(checked_mul(2 * in.batch, in.length), g * s.units),
                          checked_add(in.channels, s.units));
}

std::vector<Variable> rnn_variables_named(const LayerSpec& s, int64_t input, const std::string& prefix) {
    const int64_t g = gates(s.type), h = s.units;
    std::vector<Variable> vars{glorot(prefix + "kernel", {input, g * h}),
                               glorot(prefix + "recurrent_kernel", {h, g * h})};
    vars[1].init = Variable::Init::orthogonal;
    if (s.use_bias) {
        if (s.type == LayerType::gru && s.reset_after) vars.push_back(zeros(prefix + "bias", {2, g * h}));
        else vars.push_back(zeros(prefix + "bias", {g * h}));
    }
    // Peephole weights on the cell state, rows i, f, o (oneDNN's order; Keras' gate order without c).
    if (s.type == LayerType::lstm && s.peepholes) vars.push_back(glorot(prefix + "peephole", {3, h}));
    return vars;
}

std::vector<Variable> rnn_variables(const LayerPlan& p) {
    return rnn_variables_named(p.spec, p.input_shape.channels, "");
}

std::string rnn_summary(const LayerSpec& l) {
    std::string s = std::to_string(l.units) + "u";
    if (l.return_sequences) s += " seq";
    if (l.return_state) s += " state";
    if (l.go_backwards) s += " backwards";
    if (l.peepholes) s += " peepholes";
    if (l.type == LayerType::gru && !l.reset_after) s += " reset_before";
    return s;
}

void read_bidirectional(ObjectReader& r, LayerSpec& l) {
    const json* inner = r.find("layer");
    if (!inner) r.fail_missing("layer");
    LayerSpec spec = read_layer(*inner, r.at("layer"), r.source());
    if (spec.type != LayerType::lstm && spec.type != LayerType::gru && spec.type != LayerType::simple_rnn)
        r.fail(r.at("layer") + "/type", std::string("bidirectional wraps lstm, gru or simple_rnn, not ") +
                                            to_string(spec.type));
    if (spec.name.empty()) spec.name = spec.type == LayerType::lstm ? "lstm" : spec.type == LayerType::gru ? "gru" : "simple_rnn";
    const json* mode = r.find("merge_mode");
    if (mode && mode->is_null()) l.merge_mode = "none";
    else if (mode) {
        auto text = r.string("merge_mode");
        if (!text || (*text != "concat" && *text != "sum" && *text != "mul" && *text != "ave"))
            r.fail(r.at("merge_mode"), "expected concat, sum, mul, ave or null, got " + describe(*mode));
        l.merge_mode = *text;
    }
    r.record_json("merge_mode", l.merge_mode == "none" ? json(nullptr) : json(l.merge_mode));
    l.inner = std::make_shared<LayerSpec>(spec);
    l.return_sequences = spec.return_sequences;
    l.return_state = spec.return_state;
    l.units = spec.units;
    r.record_json("layer", write_layer(spec));
    read_weight_files(r, l);
}

void plan_bidirectional(LayerPlan& p, const PlanContext&) {
    const Shape& in = require_sequence(p);
    const LayerSpec& inner = *p.spec.inner;
    const bool two = p.spec.merge_mode == "none";
    plan_rnn_outputs(p, inner, p.spec.merge_mode == "concat" ? 2 : 1);
    if (two) p.output_shapes.push_back(p.output_shape);
    if (inner.return_state) {
        const int states = inner.type == LayerType::lstm ? 2 : 1;
        for (int d = 0; d < 2; ++d)
            for (int k = 0; k < states; ++k) p.output_shapes.push_back(Shape::flat(in.batch, inner.units));
    }
    const int64_t g = gates(inner.type);
    p.flops = checked_mul(checked_mul(checked_mul(4 * in.batch, in.length), g * inner.units),
                          checked_add(in.channels, inner.units));
}

std::vector<Variable> bidirectional_variables(const LayerPlan& p) {
    const LayerSpec& inner = *p.spec.inner;
    auto vars = rnn_variables_named(inner, p.input_shape.channels, "forward_" + inner.name + "/");
    auto back = rnn_variables_named(inner, p.input_shape.channels, "backward_" + inner.name + "/");
    vars.insert(vars.end(), back.begin(), back.end());
    return vars;
}

std::string bidirectional_summary(const LayerSpec& l) {
    return std::string(to_string(l.inner->type)) + " " + rnn_summary(*l.inner) + " " +
           (l.merge_mode == "none" ? "two outputs" : l.merge_mode);
}

}  // namespace

const std::vector<LayerKind> kRecurrentKinds = {
    {LayerType::lstm, "lstm", {}, {"LSTM", "CuDNNLSTM"}, 1, 1, read_rnn, plan_rnn, nullptr, always_mixes,
     rnn_variables, rnn_summary},
    {LayerType::gru, "gru", {}, {"GRU", "CuDNNGRU"}, 1, 1, read_rnn, plan_rnn, nullptr, always_mixes, rnn_variables,
     rnn_summary},
    {LayerType::simple_rnn, "simple_rnn", {}, {"SimpleRNN"}, 1, 1, read_rnn, plan_rnn, nullptr, always_mixes,
     rnn_variables, rnn_summary},
    {LayerType::bidirectional, "bidirectional", {}, {"Bidirectional"}, 1, 1, read_bidirectional, plan_bidirectional,
     nullptr, always_mixes, bidirectional_variables, bidirectional_summary},
};

}  // namespace c1r
