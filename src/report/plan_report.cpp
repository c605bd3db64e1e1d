// The plan subcommand's printers: table (the run report's TextTable), JSON and CSV.
#include "report/plan_report.hpp"

#include <fmt/format.h>

#include <ostream>

#include "report/text_table.hpp"

namespace c1r {
namespace {

using json = nlohmann::ordered_json;

std::string pair_text(const std::optional<std::pair<int64_t, int64_t>>& p) {
    return p ? fmt::format("[{}, {}]", p->first, p->second) : "-";
}

// What the reads_only_padding flag means for the layer: a window in padding, or a transposed step with only
// the bias.
std::string note_text(const Candidate& c) {
    if (!c.reads_only_padding) return "";
    return c.layer.type == LayerType::conv1d_transpose ? "bias-only steps" : "pad-only steps";
}

std::string layer_text(const Candidate& c) {
    return fmt::format("{} {}", to_string(c.layer.type), settings_text(c.layer));
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

void print_table(const PlanQuery& q, const PlanResult& r, std::ostream& out) {
    const std::string lengths = fmt::format("{} -> {}", q.in_length, q.out_length);
    out << fmt::format(
        "plan {}: {} single-layer setting{}{}, those that read every input step first (unread 0, no "
        "pad-only step), then simplest (fewest weights per channel pair, then no padding, then no dilation)\n",
        lengths, r.candidates.size(), r.candidates.size() == 1 ? "" : "s",
        r.candidates_truncated ? " shown (more exist)" : "");
    if (!r.candidates.empty()) {
        TextTable table({{"#", Align::right},
                         {"type"},
                         {"settings"},
                         {"weights", Align::right},
                         {"pad/crop"},
                         {"RF", Align::right},
                         {"unread", Align::right},
                         {"note"}},
                        "   ");
        for (size_t i = 0; i < r.candidates.size(); ++i) {
            const Candidate& c = r.candidates[i];
            table.add({fmt::format("{}", i + 1), to_string(c.layer.type), settings_text(c.layer),
                       fmt::format("{}", c.weights), pair_text(c.padding_amounts),
                       fmt::format("{}", c.receptive_field), fmt::format("{}", c.unread_steps),
                       note_text(c)});
        }
        table.print(out);
    }
    if (!q.two_layer) return;
    out << fmt::format(
        "\ntwo-layer stacks {}: {} shown{}, simplest first (total weights, padded layers, dilated "
        "layers)\n",
        lengths, r.stacks.size(), r.stacks_truncated ? " (more exist)" : "");
    if (r.stacks.empty()) return;
    TextTable table({{"#", Align::right},
                     {"layer 1"},
                     {"length", Align::right},
                     {"layer 2"},
                     {"weights", Align::right},
                     {"pad/crop"},
                     {"RF", Align::right},
                     {"unread", Align::right},
                     {"note"}},
                    "   ");
    for (size_t i = 0; i < r.stacks.size(); ++i) {
        const Stack& s = r.stacks[i];
        const Candidate &a = s.layers[0], &b = s.layers[1];
        std::string note = note_text(a);
        const std::string second_note = note_text(b);
        if (!second_note.empty() && second_note != note) note += (note.empty() ? "" : ", ") + second_note;
        table.add({fmt::format("{}", i + 1), layer_text(a), fmt::format("{}", a.out_length), layer_text(b),
                   fmt::format("{}", s.weights),
                   fmt::format("{} {}", pair_text(a.padding_amounts), pair_text(b.padding_amounts)),
                   fmt::format("{}", s.receptive_field), fmt::format("{}", s.unread_steps), note});
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

// One row per layer: the single-layer list, then each two-layer stack as two rows. A config key that does not
// apply to the layer's type is an empty cell.
void print_csv(const PlanResult& r, std::ostream& out) {
    out << "list,rank,layer,type,kernel_size,strides,padding,dilation_rate,output_padding,pool_size,size,"
           "in_length,out_length,weights,padding_left,padding_right,receptive_field,unread_steps,"
           "reads_only_padding\n";
    auto row = [&](const char* list, size_t rank, size_t index, const Candidate& c) {
        const LayerSpec& l = c.layer;
        const bool conv = l.type == LayerType::conv1d || l.type == LayerType::conv1d_transpose;
        const bool pool = l.type == LayerType::max_pool1d || l.type == LayerType::avg_pool1d;
        auto cell = [](bool applies, const auto& value) {
            return applies ? fmt::format("{}", value) : std::string();
        };
        const std::vector<std::string> cells{
            list,
            fmt::format("{}", rank),
            fmt::format("{}", index),
            to_string(l.type),
            cell(conv, l.kernel_size),
            cell(conv || pool, l.strides),
            cell(conv || pool, to_string(l.padding.kind)),
            cell(conv, l.dilation_rate),
            cell(l.output_padding.has_value(), l.output_padding.value_or(0)),
            cell(pool, l.pool_size),
            cell(l.type == LayerType::upsample1d, l.size),
            fmt::format("{}", c.in_length),
            fmt::format("{}", c.out_length),
            fmt::format("{}", c.weights),
            cell(c.padding_amounts.has_value(), c.padding_amounts ? c.padding_amounts->first : 0),
            cell(c.padding_amounts.has_value(), c.padding_amounts ? c.padding_amounts->second : 0),
            fmt::format("{}", c.receptive_field),
            fmt::format("{}", c.unread_steps),
            c.reads_only_padding ? "true" : "false",
        };
        out << fmt::format("{}\n", fmt::join(cells, ","));
    };
    for (size_t i = 0; i < r.candidates.size(); ++i) row("single", i + 1, 0, r.candidates[i]);
    for (size_t i = 0; i < r.stacks.size(); ++i)
        for (size_t k = 0; k < 2; ++k) row("two_layer", i + 1, k, r.stacks[i].layers[k]);
}

}  // namespace

void print_plan(Format format, const PlanQuery& query, const PlanResult& result, std::ostream& out) {
    switch (format) {
        case Format::json:
        case Format::jsonl:
            print_json(query, result, out);
            break;
        case Format::csv:
            print_csv(result, out);
            break;
        case Format::table:
            print_table(query, result, out);
            break;
    }
    out.flush();
}

}  // namespace c1r
