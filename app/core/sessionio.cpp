#include "sessionio.h"

#include "core/error.h"

namespace qs {

Session sessionOf(const Document& document, const std::string& appVersion)
{
    Session s;
    s.modelPath = document.path().toStdString();
    s.modelFormat = document.model() ? document.model()->format : std::string();
    s.fingerprint = fingerprintFile(s.modelPath);
    s.appVersion = appVersion;
    for (int p = 0; p < document.planCount(); ++p) {
        SessionPlan plan;
        plan.name = document.planName(p).toStdString();
        plan.planJson = document.planAt(p).toJson();
        // Stored when every tensor has its result; a partial set is stored as it is and the
        // missing ones are computed when the session is opened.
        bool complete = true;
        for (int row = 0; row < document.tensorCount(); ++row)
            complete = complete && document.resultOf(p, row);
        if (complete)
            for (int row = 0; row < document.tensorCount(); ++row)
                plan.results.push_back(*document.resultOf(p, row));
        s.plans.push_back(std::move(plan));
    }
    s.activePlan = document.planName(document.activePlan()).toStdString();
    // Costs whose base plan is no longer one of the document's could never be asked for again.
    for (const auto& t : document.costTables())
        for (int p = 0; p < document.planCount(); ++p)
            if (document.planAt(p).toJson() == t.planJson) {
                s.costTables.push_back(t);
                break;
            }
    return s;
}

std::vector<Document::RestoredPlan> restoredPlans(const Session& session, const Model& model,
                                                  const std::string& sessionPath,
                                                  bool keepResults)
{
    std::vector<Document::RestoredPlan> out;
    std::vector<bool> taken(session.costTables.size());
    for (const auto& sp : session.plans) {
        Document::RestoredPlan rp;
        rp.name = QString::fromStdString(sp.name);
        rp.plan = Plan::fromJson(sp.planJson, sessionPath + ": plan \"" + sp.name + "\"");
        // Costs belong to the model's content: a changed model computes them again. Each
        // table goes with the first plan it was computed for.
        for (std::size_t i = 0; keepResults && i < session.costTables.size(); ++i) {
            const auto& t = session.costTables[i];
            if (taken[i] || Plan::fromJson(t.planJson, sessionPath + ": a cost table's plan")
                                    .toJson() != rp.plan.toJson())
                continue;
            taken[i] = true;
            rp.costTables.push_back(t);
            rp.costTables.back().planJson = rp.plan.toJson();
        }
        if (keepResults && !sp.results.empty()) {
            if (sp.results.size() != model.tensors.size())
                throw Error(sessionPath + ": plan \"" + sp.name + "\" has results for " +
                            std::to_string(sp.results.size()) + " tensors, the model has " +
                            std::to_string(model.tensors.size()));
            for (std::size_t row = 0; row < sp.results.size(); ++row) {
                if (sp.results[row].name != model.tensors[row].name)
                    throw Error(sessionPath + ": result " + std::to_string(row + 1) + " is for \"" +
                                sp.results[row].name + "\", the model's tensor is \"" +
                                model.tensors[row].name + "\"");
                auto r = std::make_shared<TensorResult>();
                static_cast<TensorOutcome&>(*r) = sp.results[row];
                r->index = static_cast<int>(row);
                rp.results << TensorResultPtr(std::move(r));
            }
        }
        out.push_back(std::move(rp));
    }
    return out;
}

} // namespace qs
