// libFuzzer target for the session reader (.qscope, HDF5): the input is loaded as the GUI and
// `quantscope-cli report` load it, then every plan's JSON is parsed and its saved results are
// rendered into each report, so hostile results reach the code that trusts a loaded session.
#include "core/error.h"
#include "fuzz_util.h"
#include "plan/plan.h"
#include "report/reports.h"
#include "session/session.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string path = qs::fuzz::scratchPath(".qscope");
    if (!qs::fuzz::writeFile(path, data, size)) return 0;
    try {
        const qs::Session s = qs::loadSession(path);
        (void)s.findPlan(s.activePlan);
        for (const qs::SessionPlan& p : s.plans) {
            try {
                const qs::Plan plan = qs::Plan::fromJson(p.planJson, path + ": plan");
                (void)plan.toJson();
            } catch (const qs::Error&) {
            }
            if (p.results.empty()) continue;
            (void)qs::csvReport(p.results);
            (void)qs::llamaTensorTypes(p.results, s.modelFormat);
            (void)qs::ortTensorQuantOverrides(p.results);
            (void)qs::htmlReport(
                {s.modelPath, s.modelFormat, p.name, p.planJson, s.appVersion, p.results});
        }
    } catch (const qs::Error& e) {
        qs::fuzz::keepIfProbeDied(e, path, data, size);
    }
    return 0;
}
