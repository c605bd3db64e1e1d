// libFuzzer target: bytes as a config with a "sweep" -> read_json_file -> expand_sweep (as collect_items
// calls it) -> RunItem::resolved, parse_config and make_plan of the first and last points. Expanding must
// answer with items or a clean c1r::Error, within bounded memory (libFuzzer's -rss_limit_mb) and time.
#include <algorithm>

#include "run/batch.hpp"
#include "plan/plan.hpp"
#include "model/spec.hpp"
#include "fuzz_common.hpp"
#include "plan_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace c1r;
    const std::string& path = fuzz::mem_file().write(data, size);
    fuzz::expect_clean([&] {
        const nlohmann::json document = read_json_file(path);
        if (!(document.is_object() && document.contains("sweep"))) return;  // collect_items' condition
        const std::vector<RunItem> items = expand_sweep("fuzz/sweep.json", document);
        if (items.empty() || static_cast<int64_t>(items.size()) > kMaxSweepPoints) std::abort();
        for (size_t i = 0; i < items.size(); i = i < 3 ? i + 1 : std::max(i + 1, items.size() - 1)) {
            const RunItem& item = items[i];
            if (item.error) {
                fuzz::check_message(*item.error);
                continue;
            }
            fuzz::expect_clean([&] {
                const nlohmann::json config = item.resolved();
                const ConfigSpec spec = parse_config(config, item.source);
                if (!spec.input.shape) return;
                const Shape shape = shape_from_dims(*spec.input.shape, spec.data_format);
                shape.elements();
                fuzz::check_plan(spec, shape, make_plan(spec, shape));
            });
        }
    });
    return 0;
}
