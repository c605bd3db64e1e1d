// Stages of a run that drive oneDNN: choose threads, time, per-layer time, verify.
#include "run/stages.hpp"

#include <chrono>
#include <cmath>

#include "reference/reference.hpp"
#include "run/memory.hpp"

namespace c1r {
namespace {

using Clock = std::chrono::steady_clock;

double elapsed_ms(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Times `body` once per sample; the deadline is checked with the timestamps the timing takes anyway.
template <typename Body>
std::vector<double> time_samples(int64_t count, const Deadline& deadline, Body&& body) {
    std::vector<double> samples;
    samples.reserve(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) {
        auto start = Clock::now();
        body();
        auto end = Clock::now();
        samples.push_back(std::chrono::duration<double, std::milli>(end - start).count());
        deadline.check(end);
    }
    return samples;
}

// A primitive's problem: a repeat is served by oneDNN's primitive cache (PrimitiveCacheBook keeps the keys).
std::string problem_key(const LayerPlan& layer, DType dtype, int threads) {
    return std::string(to_string(layer.spec.type)) + "|" + layer.summary + "|" + benchdnn_descriptor(layer) +
           "|" + std::to_string(layer.input_shape.batch) + "x" + std::to_string(layer.input_shape.length) +
           "x" + std::to_string(layer.input_shape.channels) + "|" + to_string(dtype) + "|" +
           std::to_string(threads);
}

// The one place the thread count is set: every network is built (and then run) with its own count.
std::unique_ptr<Network> build_network(Context& context, const Plan& plan,
                                       const std::vector<LayerWeights>& weights, DType dtype, int threads,
                                       const Deadline& deadline) {
    Context::set_threads(threads);
    deadline.check();
    auto network = std::make_unique<Network>(context, plan, weights, dtype);
    for (const auto& l : plan.layers) PrimitiveCacheBook::instance().add(problem_key(l, dtype, threads));
    return network;
}

}  // namespace

ThreadRule thread_rule(int64_t threads) {
    ThreadRule rule;
    rule.automatic = threads == 0;
    if (threads > 0)
        rule.candidates = {static_cast<int>(threads)};
    else if (Context::max_threads() > 1)
        rule.candidates = {1, Context::max_threads()};
    else
        rule.candidates = {1};
    return rule;
}

// Threads: fixed, or measured: every candidate count runs the stack a few times (at least 3 passes, at most
// 15 or ~0.2 s) and the fastest wins. One network at a time: the winner is rebuilt afterwards, which oneDNN's
// primitive cache makes nearly free, so big problems never hold two copies.
ChosenNetwork choose_threads(Context& context, const Plan& plan, const std::vector<LayerWeights>& weights,
                             DType dtype, const ThreadRule& rule, const std::vector<const Tensor*>& inputs,
                             const Deadline& deadline) {
    ChosenNetwork chosen;
    chosen.threads = rule.candidates.front();
    std::optional<double> probe_create_ms;  // the winner's first (cold) creation, during the probe
    chosen.cache_hit = true;
    for (const auto& l : plan.layers)
        for (int t : rule.candidates)
            chosen.cache_hit &= PrimitiveCacheBook::instance().holds(problem_key(l, dtype, t));
    if (rule.candidates.size() > 1) {
        auto probe_start = Clock::now();
        double best = INFINITY;
        for (int t : rule.candidates) {
            auto candidate = build_network(context, plan, weights, dtype, t, deadline);
            candidate->set_inputs(inputs);
            candidate->forward();  // warm
            std::vector<double> samples;
            auto start = Clock::now();
            while (samples.size() < 15 && (samples.size() < 3 || elapsed_ms(start) < 200.0)) {
                auto one = time_samples(1, deadline, [&] { candidate->forward(); });
                samples.push_back(one.front());
            }
            double median = summarize(samples).median;
            if (median < best) best = median, chosen.threads = t, probe_create_ms = candidate->create_ms();
        }
        chosen.probe_ms = elapsed_ms(probe_start);
    }
    chosen.network = build_network(context, plan, weights, dtype, chosen.threads, deadline);
    chosen.network->set_inputs(inputs);
    chosen.create_ms = probe_create_ms.value_or(chosen.network->create_ms());
    return chosen;
}

std::vector<double> time_forward(Network& network, int64_t warmup, int64_t repeats,
                                 const Deadline& deadline) {
    deadline.check();
    time_samples(warmup, deadline, [&] { network.forward(); });
    return time_samples(repeats, deadline, [&] { network.forward(); });
}

// Per-layer times come from a separate pass, step by step, so the whole-stack time stays undisturbed.
// A stack of one single-step layer is its own per-layer pass: the forward samples serve both.
void time_layers(Network& network, const Plan& plan, int64_t repeats, const std::vector<double>& forward,
                 RunRecord& record, const Deadline& deadline) {
    const bool single_step = plan.layers.size() == 1 && network.units()[0].steps.size() == 1 &&
                             !network.units()[0].steps[0].is_reorder;
    for (size_t i = 0; i < plan.layers.size(); ++i) {
        const LayerUnit& unit = network.units()[i];
        std::vector<double> layer_samples(static_cast<size_t>(repeats), 0.0), reorder_samples;
        if (single_step) layer_samples = forward;
        for (size_t s = 0; s < unit.steps.size() && !single_step; ++s) {
            network.run_step(i, s);  // warm
            auto samples = time_samples(repeats, deadline, [&] { network.run_step(i, s); });
            for (size_t k = 0; k < samples.size(); ++k) layer_samples[k] += samples[k];
            if (unit.steps[s].is_reorder) reorder_samples = samples;
        }
        LayerRecord& l = record.layers[i];
        l.impl = unit.impl;
        l.layout = unit.dst_layout;
        l.reorder = unit.reorder_before;
        if (!reorder_samples.empty()) l.reorder_ms = summarize(reorder_samples).median;
        l.time_ms = summarize(unit.steps.empty() ? std::vector<double>{0.0} : layer_samples);
    }
    // The per-layer pass ran steps out of their stack order (an in-place epilogue repeatedly, say): one whole
    // forward pass leaves the model outputs as the stack computes them, for saving (--verify runs the nodes
    // again one by one: buffers are reused, so only the model outputs outlive a whole pass).
    if (!single_step) network.forward();
}

void verify(const Plan& plan, Network& network, const std::vector<Tensor>& inputs,
            const std::vector<LayerWeights>& weights, DType dtype, RunRecord& record,
            const Deadline& deadline) {
    struct {
        VerifyRecord summary;
        std::vector<std::pair<double, double>> per_layer;  // abs, rel
    } v;
    v.summary.tolerance = dtype == DType::bf16 ? 3e-2 : 1e-4;
    std::vector<Tensor> tensors(plan.tensors.size());
    for (size_t k = 0; k < plan.input_tensors.size(); ++k)
        tensors[static_cast<size_t>(plan.input_tensors[k])] = inputs[k];
    for (size_t i = 0; i < plan.layers.size(); ++i) {
        const LayerPlan& node = plan.layers[i];
        std::vector<const Tensor*> in;
        for (int t : node.input_tensors) in.push_back(&tensors[static_cast<size_t>(t)]);
        std::vector<Tensor> out = reference_node(node, in, weights[i], plan.data_format);
        deadline.check();
        network.run_node(i);  // read right after it runs: buffers are reused once their last reader is done
        // A node whose output already holds a later node's result (a fused activation or add) or folded
        // normalisation is compared there.
        bool absorbed = network.units()[i].holds_later_result;
        for (const auto& other : plan.layers) absorbed |= other.folded_into == i;
        double max_abs = 0, rel = 0;
        for (size_t k = 0; k < out.size(); ++k) {
            if (!absorbed) {
                Tensor got = network.layer_output(i, k);
                double abs_k = 0, scale = 0;
                for (size_t e = 0; e < out[k].data.size(); ++e) {
                    double diff = std::fabs(static_cast<double>(got.data[e]) - out[k].data[e]);
                    if (std::isnan(got.data[e])) diff = INFINITY;
                    abs_k = std::max(abs_k, diff);
                    scale = std::max(scale, std::fabs(static_cast<double>(out[k].data[e])));
                }
                // Relative to the node's largest reference value: long sums make per-element ratios
                // meaningless near zero.
                double rel_k = abs_k == 0 ? 0 : abs_k / std::max(scale, 1e-30);
                max_abs = std::max(max_abs, abs_k);
                rel = std::max(rel, rel_k);
            }
            tensors[static_cast<size_t>(node.output_tensors[k])] = std::move(out[k]);
        }
        if (absorbed) {
            v.per_layer.emplace_back(NAN, NAN);
            continue;
        }
        v.per_layer.emplace_back(max_abs, rel);
        v.summary.max_abs_error = std::max(v.summary.max_abs_error, max_abs);
        v.summary.max_rel_error = std::max(v.summary.max_rel_error, rel);
    }
    v.summary.passed = v.summary.max_rel_error <= v.summary.tolerance;
    record.verify = v.summary;
    for (size_t i = 0; i < v.per_layer.size(); ++i) {
        if (std::isnan(v.per_layer[i].first)) continue;
        record.layers[i].max_abs_error = v.per_layer[i].first;
        record.layers[i].max_rel_error = v.per_layer[i].second;
    }
}

}  // namespace c1r
