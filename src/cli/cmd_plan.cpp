// The plan subcommand: flags, notes and --emit-config around the planner search (printers in src/report/).
#include "cli/cmd_plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <sstream>

#include "cli/flags.hpp"
#include "core/error.hpp"
#include "io/npy.hpp"
#include "planner/planner.hpp"
#include "report/plan_report.hpp"

namespace c1r {
namespace {

void write_text_atomically(const std::string& path, const std::string& text) {
    write_file_atomically(path, [&](const ChunkWriter& write) { write(text.data(), text.size()); });
}

PlanQuery query_from(const PlanOptions& o) {
    PlanQuery q;
    q.in_length = o.in_length;
    q.out_length = o.out_length;
    q.max_kernel = o.max_kernel;
    q.max_dilation = o.max_dilation;
    if (!o.types.empty()) {
        q.types.clear();
        for (const std::string& raw : o.types) {
            std::stringstream parts(raw);
            for (std::string name; std::getline(parts, name, ',');) {
                name.erase(0, name.find_first_not_of(" \t"));
                name.erase(name.find_last_not_of(" \t") + 1);
                if (name.empty()) continue;
                auto type = planner_type_from_string(name);
                if (!type)
                    throw Error(ErrorKind::usage,
                                "--types: unknown layer type \"" + name +
                                    "\" (expected conv1d, conv1d_transpose, max_pool1d, avg_pool1d, "
                                    "upsample1d, zero_padding1d or cropping1d)");
                if (std::find(q.types.begin(), q.types.end(), *type) == q.types.end())
                    q.types.push_back(*type);
            }
        }
    }
    q.top = o.top.value_or(0);
    q.two_layer = o.two_layer;
    if (o.top) q.two_layer_top = *o.top;
    if (o.top && *o.top < 1)
        throw Error(ErrorKind::usage, "--top " + std::to_string(*o.top) + ": must be at least 1");
    for (auto [flag, value] :
         {std::pair{"--in-channels", o.in_channels}, std::pair{"--out-channels", o.out_channels}})
        if (value && (*value < 1 || *value > kPlannerMaxChannels))
            throw Error(ErrorKind::usage, std::string(flag) + " " + std::to_string(*value) +
                                              ": must be between 1 and " +
                                              std::to_string(kPlannerMaxChannels));
    return q;
}

// conv1d k1 s1 valid: changes the channels, not the length.
LayerSpec channel_conv() {
    LayerSpec l;
    l.type = LayerType::conv1d;
    l.kernel_size = 1;
    l.strides = 1;
    l.dilation_rate = 1;
    l.padding.kind = PaddingKind::valid;
    return l;
}

}  // namespace

CLI::App* setup_plan(CLI::App& app, PlanOptions& o) {
    CLI::App* plan =
        app.add_subcommand("plan", "Search layer settings that map one length to another (SPEC §6)");
    plan->add_option("--in-length", o.in_length, "Input length L")->required();
    plan->add_option("--out-length", o.out_length, "Wanted output length M")->required();
    plan->add_option("--max-kernel", o.max_kernel, "Largest kernel_size and pool_size tried (default 9)");
    plan->add_option("--max-dilation", o.max_dilation, "Largest dilation_rate tried (default 4)");
    plan->add_option(
            "--types", o.types,
            "Layer types to try, comma-separated (default: conv1d,conv1d_transpose,max_pool1d,avg_pool1d,"
            "upsample1d,zero_padding1d,cropping1d)")
        ->delimiter(',');
    choice(plan->add_option("--format,-f", o.format, "Output format (default table)"),
           std::vector<std::pair<std::string, Format>>{
               {"table", Format::table}, {"json", Format::json}, {"csv", Format::csv}})
        ->type_name("TEXT");
    plan->add_option("--top", o.top, "List at most N settings (and N stacks; default 20 stacks)");
    plan->add_flag("--two-layer", o.two_layer, "Also search two-layer stacks");
    plan->add_option("--emit-config", o.emit_config, "Write the best setting as a runnable config")
        ->type_name("FILE");
    plan->add_option("--in-channels", o.in_channels, "Input channels of the emitted config (default 1)");
    plan->add_option("--out-channels", o.out_channels,
                     "Filters of the emitted config's conv layers (default: in)");
    return plan;
}

int run_plan(const PlanOptions& options) { return run_plan(options, std::cout, std::cerr); }

int run_plan(const PlanOptions& options, std::ostream& out, std::ostream& err) {
    PlanQuery q = query_from(options);
    PlanResult r = search_plan(q);
    const std::string lengths = fmt::format("{} to {}", q.in_length, q.out_length);

    print_plan(options.format, q, r, out);

    auto note = [&](const std::string& text) { err << "conv1d-reshape plan: " << text << "\n"; };
    if (r.candidates.empty())
        note(fmt::format("no single-layer setting maps length {} within these bounds (--max-kernel {}, "
                         "--max-dilation {}{}){}",
                         lengths, q.max_kernel, q.max_dilation,
                         q.types.size() < planner_types().size() ? ", --types as given" : "",
                         q.two_layer ? "" : "; --two-layer searches stacks of two"));
    if (r.candidates_truncated)
        note(fmt::format("showing the {} simplest single-layer settings; more exist (raise --top)",
                         r.candidates.size()));
    if (q.two_layer && r.stacks.empty() && !r.stacks_search_cut)
        note(fmt::format("no two-layer stack maps length {} within these bounds", lengths));
    if (r.stacks_truncated)
        note(fmt::format("showing the {} simplest two-layer stacks; more exist (--top N lists more)",
                         r.stacks.size()));
    if (r.stacks_search_cut)
        note("the two-layer search stopped at its work budget; the stacks shown are the simplest of those "
             "examined");

    if (!options.emit_config.empty()) {
        std::vector<LayerSpec> layers;
        if (!r.candidates.empty())
            layers = {r.candidates.front().layer};
        else if (!r.stacks.empty())
            layers = {r.stacks.front().layers[0].layer, r.stacks.front().layers[1].layer};
        if (layers.empty()) {
            note("nothing to write to " + options.emit_config);
        } else {
            int64_t in_channels = options.in_channels.value_or(1);
            int64_t out_channels = options.out_channels.value_or(in_channels);
            auto described = [](const std::vector<LayerSpec>& ls) {
                std::string text;
                for (const auto& l : ls)
                    text += fmt::format("{}{} {}", text.empty() ? "" : " + ", to_string(l.type), settings_text(l));
                return text;
            };
            std::string how = described(layers);
            // Layers without filters keep the channels: a 1-wide conv after them reaches --out-channels.
            if (out_channels != in_channels && std::none_of(layers.begin(), layers.end(), [](const LayerSpec& l) {
                    return l.type == LayerType::conv1d || l.type == LayerType::conv1d_transpose;
                })) {
                layers.push_back(channel_conv());
                how += fmt::format(", then conv1d k1 s1 with {} filters: the best setting keeps {} channels",
                                   out_channels, in_channels);
            }
            write_text_atomically(options.emit_config,
                                  config_json(layers, q.in_length, in_channels, out_channels).dump(2) + "\n");
            note(fmt::format("wrote {} ({})", options.emit_config, how));
        }
    }
    return kExitOk;
}

}  // namespace c1r
