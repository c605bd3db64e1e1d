// The plan subcommand: flags, the table / json / csv printers and --emit-config around the planner search.
#include "cli/cmd_plan.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "core/error.hpp"
#include "io/npy.hpp"
#include "planner/planner.hpp"

namespace c1r {
namespace {

using json = nlohmann::ordered_json;

std::string pair_text(const std::optional<std::pair<int64_t, int64_t>>& p) {
    return p ? "[" + std::to_string(p->first) + ", " + std::to_string(p->second) + "]" : "-";
}

// What the reads_only_padding flag means for the layer: a window in padding, or a transposed step with only
// the bias.
std::string note_text(const Candidate& c) {
    if (!c.reads_only_padding) return "";
    return c.layer.type == LayerType::conv1d_transpose ? "bias-only steps" : "pad-only steps";
}

json candidate_json(const Candidate& c) {
    json j = layer_json(c.layer);
    j["weights"] = c.weights;
    j["receptive_field"] = c.receptive_field;
    j["padding_amounts"] = c.padding_amounts
                               ? json::array({c.padding_amounts->first, c.padding_amounts->second})
                               : json(nullptr);
    j["unread_steps"] = c.unread_steps;
    j["reads_only_padding"] = c.reads_only_padding;
    return j;
}

json stack_json(const Stack& s) {
    return {{"layers", json::array({candidate_json(s.layers[0]), candidate_json(s.layers[1])})},
            {"intermediate_length", s.layers[0].out_length},
            {"weights", s.weights},
            {"receptive_field", s.receptive_field},
            {"unread_steps", s.unread_steps},
            {"reads_only_padding", s.reads_only_padding}};
}

// Aligned text columns; numbers right-aligned, text left-aligned.
class Columns {
public:
    Columns(std::vector<std::string> header, std::vector<bool> right) : right_(std::move(right)) {
        rows_.push_back(std::move(header));
    }
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    void print(std::ostream& out) const {
        std::vector<size_t> width(right_.size(), 0);
        for (const auto& row : rows_)
            for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
        for (const auto& row : rows_) {
            std::string line = " ";
            for (size_t i = 0; i < row.size(); ++i) {
                std::string fill(width[i] - row[i].size(), ' ');
                line += "  " + (right_[i] ? fill + row[i] : row[i] + fill);
            }
            line.erase(line.find_last_not_of(' ') + 1);
            out << line << "\n";
        }
    }

private:
    std::vector<bool> right_;
    std::vector<std::vector<std::string>> rows_;
};

void print_table(const PlanQuery& q, const PlanResult& r, std::ostream& out) {
    const std::string lengths = std::to_string(q.in_length) + " -> " + std::to_string(q.out_length);
    out << "plan " << lengths << ": " << r.candidates.size() << " single-layer setting"
        << (r.candidates.size() == 1 ? "" : "s") << (r.candidates_truncated ? " shown (more exist)" : "")
        << ", simplest first (fewest weights per channel pair, then no padding, then no dilation)\n";
    if (!r.candidates.empty()) {
        Columns table({"#", "type", "settings", "weights", "pad/crop", "RF", "unread", "note"},
                      {true, false, false, true, false, true, true, false});
        for (size_t i = 0; i < r.candidates.size(); ++i) {
            const Candidate& c = r.candidates[i];
            table.add({std::to_string(i + 1), to_string(c.layer.type), settings_text(c.layer),
                       std::to_string(c.weights), pair_text(c.padding_amounts),
                       std::to_string(c.receptive_field), std::to_string(c.unread_steps), note_text(c)});
        }
        table.print(out);
    }
    if (!q.two_layer) return;
    out << "\ntwo-layer stacks " << lengths << ": " << r.stacks.size() << " shown"
        << (r.stacks_truncated ? " (more exist)" : "")
        << ", simplest first (total weights, padded layers, dilated layers)\n";
    if (r.stacks.empty()) return;
    Columns table({"#", "layer 1", "length", "layer 2", "weights", "pad/crop", "RF", "unread", "note"},
                  {true, false, true, false, true, false, true, true, false});
    for (size_t i = 0; i < r.stacks.size(); ++i) {
        const Stack& s = r.stacks[i];
        const Candidate &a = s.layers[0], &b = s.layers[1];
        std::string note = note_text(a);
        std::string second_note = note_text(b);
        if (!second_note.empty() && second_note != note) note += (note.empty() ? "" : ", ") + second_note;
        table.add({std::to_string(i + 1), std::string(to_string(a.layer.type)) + " " + settings_text(a.layer),
                   std::to_string(a.out_length),
                   std::string(to_string(b.layer.type)) + " " + settings_text(b.layer),
                   std::to_string(s.weights),
                   pair_text(a.padding_amounts) + " " + pair_text(b.padding_amounts),
                   std::to_string(s.receptive_field), std::to_string(s.unread_steps), note});
    }
    table.print(out);
}

void print_json(const PlanQuery& q, const PlanResult& r, std::ostream& out) {
    json doc{{"in_length", q.in_length}, {"out_length", q.out_length}, {"candidates", json::array()}};
    for (const auto& c : r.candidates) doc["candidates"].push_back(candidate_json(c));
    if (q.two_layer) {
        doc["two_layer"] = json::array();
        for (const auto& s : r.stacks) doc["two_layer"].push_back(stack_json(s));
    }
    out << doc.dump(2) << "\n";
}

void print_csv(const PlanResult& r, std::ostream& out) {
    out << "list,rank,layer,type,kernel_size,strides,padding,dilation_rate,output_padding,pool_size,size,in_"
           "length,"
           "out_length,weights,padding_left,padding_right,receptive_field,unread_steps,reads_only_padding\n";
    auto row = [&](const char* list, size_t rank, size_t index, const Candidate& c) {
        const LayerSpec& l = c.layer;
        const bool conv = l.type == LayerType::conv1d || l.type == LayerType::conv1d_transpose;
        const bool pool = l.type == LayerType::max_pool1d || l.type == LayerType::avg_pool1d;
        auto field = [](bool applies, const std::string& text) { return applies ? text : std::string(); };
        out << list << "," << rank << "," << index << "," << to_string(l.type) << ","
            << field(conv, std::to_string(l.kernel_size)) << ","
            << field(conv || pool, std::to_string(l.strides)) << ","
            << field(conv || pool, to_string(l.padding.kind)) << ","
            << field(conv, std::to_string(l.dilation_rate)) << ","
            << (l.output_padding ? std::to_string(*l.output_padding) : "") << ","
            << field(pool, std::to_string(l.pool_size)) << ","
            << field(l.type == LayerType::upsample1d, std::to_string(l.size)) << "," << c.in_length << ","
            << c.out_length << "," << c.weights << ","
            << (c.padding_amounts ? std::to_string(c.padding_amounts->first) : "") << ","
            << (c.padding_amounts ? std::to_string(c.padding_amounts->second) : "") << ","
            << c.receptive_field << "," << c.unread_steps << "," << (c.reads_only_padding ? "true" : "false")
            << "\n";
    };
    for (size_t i = 0; i < r.candidates.size(); ++i) row("single", i + 1, 0, r.candidates[i]);
    for (size_t i = 0; i < r.stacks.size(); ++i)
        for (size_t k = 0; k < 2; ++k) row("two_layer", i + 1, k, r.stacks[i].layers[k]);
}


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
                                    "\" (expected conv1d, conv1d_transpose, max_pool1d, avg_pool1d "
                                    "or upsample1d)");
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
            "upsample1d)")
        ->delimiter(',');
    plan->add_option("--format,-f", o.format, "Output format")
        ->check(CLI::IsMember({"table", "json", "csv"}));
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
    const std::string lengths = std::to_string(q.in_length) + " to " + std::to_string(q.out_length);

    if (options.format == "json")
        print_json(q, r, out);
    else if (options.format == "csv")
        print_csv(r, out);
    else
        print_table(q, r, out);
    out.flush();

    if (r.candidates.empty())
        err << "conv1d-reshape plan: no single-layer setting maps length " << lengths
            << " within these bounds (--max-kernel " << q.max_kernel << ", --max-dilation " << q.max_dilation
            << (q.types.size() < planner_types().size() ? ", --types as given" : "") << ")"
            << (q.two_layer ? "" : "; --two-layer searches stacks of two") << "\n";
    if (r.candidates_truncated)
        err << "conv1d-reshape plan: showing the " << r.candidates.size()
            << " simplest single-layer settings; more exist (raise --top)\n";
    if (q.two_layer && r.stacks.empty() && !r.stacks_search_cut)
        err << "conv1d-reshape plan: no two-layer stack maps length " << lengths << " within these bounds\n";
    if (r.stacks_truncated)
        err << "conv1d-reshape plan: showing the " << r.stacks.size()
            << " simplest two-layer stacks; more exist (--top N lists more)\n";
    if (r.stacks_search_cut)
        err << "conv1d-reshape plan: the two-layer search stopped at its work budget; the stacks shown are "
               "the "
               "simplest of those examined\n";

    if (!options.emit_config.empty()) {
        std::vector<LayerSpec> layers;
        if (!r.candidates.empty())
            layers = {r.candidates.front().layer};
        else if (!r.stacks.empty())
            layers = {r.stacks.front().layers[0].layer, r.stacks.front().layers[1].layer};
        if (layers.empty()) {
            err << "conv1d-reshape plan: nothing to write to " << options.emit_config << "\n";
        } else {
            int64_t in_channels = options.in_channels.value_or(1);
            int64_t out_channels = options.out_channels.value_or(in_channels);
            write_text_atomically(options.emit_config,
                             config_json(layers, q.in_length, in_channels, out_channels).dump(2) + "\n");
            err << "conv1d-reshape plan: wrote " << options.emit_config << " ("
                << to_string(layers.front().type)
                << (layers.size() > 1 ? " + " + std::string(to_string(layers.back().type)) : "") << ")\n";
        }
    }
    return kExitOk;
}

}  // namespace c1r
