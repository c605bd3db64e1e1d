// The plan subcommand (being written).
#include "c1r/cmd_plan.hpp"

#include "c1r/error.hpp"

namespace c1r {

CLI::App* setup_plan(CLI::App& app, PlanOptions& options) {
    CLI::App* plan = app.add_subcommand("plan", "Search layer settings that map one length to another");
    plan->add_option("--in-length", options.in_length)->required();
    plan->add_option("--out-length", options.out_length)->required();
    return plan;
}

int run_plan(const PlanOptions&) { throw Error(ErrorKind::usage, "plan: not available yet"); }

}  // namespace c1r
