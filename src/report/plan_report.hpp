// The plan subcommand's report (SPEC §6): the settings found, as a table, JSON or CSV.
#pragma once

#include <iosfwd>

#include "planner/planner.hpp"
#include "report/report.hpp"

namespace c1r {

// Prints the single-layer candidates (and, with query.two_layer, the stacks) to `out`. Format::jsonl is not a
// plan format; it prints as json.
void print_plan(Format format, const PlanQuery& query, const PlanResult& result, std::ostream& out);

}  // namespace c1r
