// One run, start to end, as short stages (run/stages.hpp): prepare, weights, choose threads, time, per-layer
// time, verify, save. Between runs, what oneDNN's cache keeps is bounded (run/memory.hpp).
#include "run/runner.hpp"

#include <unistd.h>

#include <algorithm>

#include "core/error.hpp"
#include "run/memory.hpp"
#include "run/stages.hpp"

namespace c1r {
namespace {

// The stages; errors propagate to run_item, which puts them in the record.
void run_stages(Context& context, const RunItem& item, const RunOverrides& overrides,
                const Deadline& deadline, RunRecord& record) {
    if (item.error) throw *item.error;
    std::unique_ptr<Prepared> prepared = prepare(item, overrides, record);
    const ConfigSpec& config = prepared->config;
    const Plan& plan = prepared->plan;
    const uint64_t weight_seed = config.run.seed.value_or(config.input.init.seed);
    const NamedWeights* file_weights =
        overrides.weights_dir.empty() && item.weights ? item.weights.get() : nullptr;

    if (overrides.dry_run) {
        check_weight_files(plan, overrides.weights_dir);
        // Weights tied to the batch size (layer_normalization over axis [0, 1, 2]) are checked against the
        // planned batch: load_weights names a mismatch.
        const bool tied = std::any_of(plan.layers.begin(), plan.layers.end(),
                                      [](const LayerPlan& l) { return normalises_batch(l); });
        if (tied && overrides.save_weights_dir.empty())
            load_weights(plan, weight_seed, item.source, overrides.weights_dir, file_weights);
        if (!overrides.save_weights_dir.empty())  // weights only, no oneDNN: a model file's weights exported
            save_weights(plan,
                         load_weights(plan, weight_seed, item.source, overrides.weights_dir, file_weights),
                         overrides.save_weights_dir);
        if (record.input_source.empty()) record.input_source = "random";
        return;
    }
    make_random_inputs(*prepared);
    record.input_source = prepared->sources[0];
    std::vector<LayerWeights> weights =
        load_weights(plan, weight_seed, item.source, overrides.weights_dir, file_weights);
    std::vector<const Tensor*> input_ptrs;
    for (const auto& t : prepared->input_tensors) input_ptrs.push_back(&t);

    // Only --verify and --save-weights read the host weights after the network holds its own copy: otherwise
    // they move into the fold and are gone once the network is built (one copy of the weights, not three).
    const bool keep_weights = overrides.verify || !overrides.save_weights_dir.empty();
    ChosenNetwork chosen =
        choose_threads(context, plan, fold_batch_norms(plan, keep_weights ? weights : std::move(weights)),
                       config.run.dtype, prepared->threads, input_ptrs, deadline);
    Network& network = *chosen.network;
    record.threads = chosen.threads;
    // An input the network now holds in its own layout (a blocked copy) is not read again unless --verify
    // runs the reference on it: free it, so the run holds one copy of it, not two.
    if (!overrides.verify)
        for (size_t k = 0; k < prepared->input_tensors.size(); ++k)
            if (network.input_copied(k)) prepared->input_tensors[k] = Tensor{};

    const std::vector<double> forward =
        time_forward(network, config.run.warmup, config.run.repeats, deadline);
    time_layers(network, plan, config.run.repeats, forward, record, deadline);

    TimingRecord timing;
    timing.create_ms = chosen.create_ms;
    timing.cache_hit = chosen.cache_hit;
    timing.warmup = config.run.warmup;
    timing.repeats = config.run.repeats;
    timing.forward_ms = summarize(forward);
    timing.gflops = timing.forward_ms.median > 0
                        ? static_cast<double>(plan.total_flops) / (timing.forward_ms.median * 1e6)
                        : 0;
    timing.threads_probe_ms = chosen.probe_ms;
    record.timing = timing;

    if (overrides.verify)
        verify(plan, network, prepared->input_tensors, weights, config.run.dtype, record, deadline);
    record.peak_rss_bytes = peak_rss_bytes();
    if (record.verify && !record.verify->passed) {
        record.error = ErrorRecord{item.source + ": --verify failed: max relative error " +
                                       std::to_string(record.verify->max_rel_error) + " over tolerance " +
                                       std::to_string(record.verify->tolerance),
                                   "", kExitFailure};
        return;
    }
    save_outputs(plan, network, overrides);
    if (!overrides.save_weights_dir.empty()) save_weights(plan, weights, overrides.save_weights_dir);
}

}  // namespace

int64_t default_max_memory() {
    long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || page_size <= 0) return int64_t{8} << 30;
    return static_cast<int64_t>(pages) * page_size / 4 * 3;  // three quarters: room for the OS and the rest
}

RunRecord run_item(Context& context, const RunItem& item, const RunOverrides& overrides) {
    RunRecord record;
    reset_peak_rss();
    const Deadline deadline(overrides.timeout_seconds);
    record.config = item.source;
    record.point = item.point;
    record.name = item.name;
    try {
        run_stages(context, item, overrides, deadline, record);
    } catch (const Error& e) {
        std::string message = e.what();
        if (message.rfind(item.source, 0) != 0)
            message = item.source + ": " + message;  // every message names its file
        record.error = ErrorRecord{message, e.pointer(), exit_code(e.kind())};
    } catch (const dnnl::error& e) {
        record.error = ErrorRecord{item.source + ": oneDNN error: " + e.what(), "", kExitFailure};
    } catch (const std::bad_alloc&) {
        record.error = ErrorRecord{item.source + ": out of memory", "", kExitFailure};
    } catch (const std::exception& e) {
        record.error = ErrorRecord{item.source + ": " + e.what(), "", kExitFailure};
    }
    // Everything of the run is gone but what oneDNN's cache keeps: bound that before the next run.
    if (!overrides.dry_run) PrimitiveCacheBook::instance().settle(peak_rss_bytes());
    return record;
}

}  // namespace c1r
