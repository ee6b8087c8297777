// Between the document and a saved session (.qscope): the plans, their results and the
// allocation costs computed for them.
#pragma once

#include "document.h"
#include "session/session.h"

namespace qs {

// The document's plans and results as a session; throws qs::Error when the model file
// cannot be fingerprinted.
Session sessionOf(const Document& document, const std::string& appVersion);

// A session's plans for `model`, with its stored results (dropped when `keepResults` is false,
// e.g. because the model changed on disk). Throws qs::Error naming `sessionPath` when a plan
// is invalid or the results do not belong to this model. The session's allocation costs go
// with the plans they were computed for (none when `keepResults` is false).
std::vector<Document::RestoredPlan> restoredPlans(const Session& session, const Model& model,
                                                  const std::string& sessionPath,
                                                  bool keepResults);

} // namespace qs
