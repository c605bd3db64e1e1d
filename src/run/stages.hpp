// The stages of one run (run_item in runner.cpp calls them in order): prepare, choose threads, time,
// per-layer time, verify, save. Internal to run/.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/interrupt.hpp"
#include "model/spec.hpp"
#include "network/network.hpp"
#include "plan/plan.hpp"
#include "report/report.hpp"
#include "run/runner.hpp"

namespace c1r {

// The threads rule, parsed once from the config's run.threads (0 = auto): the counts to try.
struct ThreadRule {
    bool automatic = false;
    std::vector<int> candidates;  // one fixed count, or 1 and all cores (measured, the faster kept)
};
ThreadRule thread_rule(int64_t threads);

// prepare: the config with the command line's overrides, its inputs (files read, random ones not yet made)
// and the plan; the record gets everything known before oneDNN. Refuses a run over --max-memory.
struct Prepared {
    ConfigSpec config;
    std::vector<const InputSpec*> inputs;  // into `config`
    std::vector<Tensor> input_tensors;     // read from files; random ones are made by make_random_inputs
    std::vector<std::string> sources;      // per input: its file, "random", or empty until made
    Plan plan;
    ThreadRule threads;  // from the config's run.threads, over --threads
};
std::unique_ptr<Prepared> prepare(const RunItem& item, const RunOverrides& overrides, RunRecord& record);
void make_random_inputs(Prepared& p);
// --dry-run with --weights: every file must be there, even when nothing runs.
void check_weight_files(const Plan& plan, const std::string& weights_dir);

// choose threads: builds the network for each candidate (the only place the thread count is set), keeps the
// fastest; the winner is built last, so the process runs with its count.
struct ChosenNetwork {
    std::unique_ptr<Network> network;
    int threads = 1;
    double create_ms = 0;
    bool cache_hit = false;          // every primitive served by oneDNN's primitive cache
    std::optional<double> probe_ms;  // time spent choosing (auto only)
};
ChosenNetwork choose_threads(Context& context, const Plan& plan, const std::vector<LayerWeights>& weights,
                             DType dtype, const ThreadRule& rule, const std::vector<const Tensor*>& inputs,
                             const Deadline& deadline);

// time: warm-up passes, then the timed forward passes (one sample each).
std::vector<double> time_forward(Network& network, int64_t warmup, int64_t repeats, const Deadline& deadline);

// per-layer time: each node's steps timed apart, into record.layers; leaves every output as a whole pass
// does.
void time_layers(Network& network, const Plan& plan, int64_t repeats, const std::vector<double>& forward,
                 RunRecord& record, const Deadline& deadline);

// verify: the reference graph from the same inputs and (unfolded) weights, compared node by node.
void verify(const Plan& plan, Network& network, const std::vector<Tensor>& inputs,
            const std::vector<LayerWeights>& weights, DType dtype, RunRecord& record,
            const Deadline& deadline);

// save: --save-output (.npy or .csv) for the model's outputs, --save-weights DIR for the weights used.
// check_output_shapes refuses, before anything runs, an output that the chosen file type cannot hold.
void check_output_shapes(const Plan& plan, const RunOverrides& overrides);
void save_outputs(const Plan& plan, const Network& network, const RunOverrides& overrides);
void save_weights(const Plan& plan, const std::vector<LayerWeights>& weights, const std::string& dir);
void check_save_weights(const Plan& plan, const std::string& dir);  // every layer name can be a folder

// Dims as NumPy prints them: "(3, 4, 8)", "(5,)".
std::string dims_text(const std::vector<int64_t>& dims);

// Batch normalisation folded into the conv or dense the plan names (run/weights.cpp).
std::vector<LayerWeights> fold_batch_norms(const Plan& plan, std::vector<LayerWeights> weights);

}  // namespace c1r
