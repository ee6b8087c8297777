// A saved session (.qscope, HDF5): the model it belongs to, its named plans and their results.
#pragma once

#include "alloc/cost_record.h"
#include "analysis/tensor_outcome.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qs {

// Identifies a model file's content without reading all of it: its size and a 64-bit FNV-1a
// hash of the size and of sampled pieces (the first and last 4 MiB and 64 evenly spaced 64 KiB
// pieces; files up to 8 MiB are hashed whole). Reads at most about 12 MiB whatever the file's
// size, so a multi-GB model is fingerprinted in milliseconds; a change that touches none of the
// sampled bytes and keeps the size goes unnoticed, which is the price of that speed.
struct ModelFingerprint
{
    std::uint64_t size = 0;
    std::uint64_t hash = 0;
    bool operator==(const ModelFingerprint&) const = default;
};

// Throws qs::Error naming the file when it cannot be read.
ModelFingerprint fingerprintFile(const std::string& path);

struct SessionPlan
{
    std::string name;     // unique within the session, not empty
    std::string planJson; // Plan::toJson()
    // Results per tensor in model order; may be empty (not computed) or partial.
    std::vector<TensorOutcome> results;
};

struct Session
{
    std::string modelPath;
    std::string modelFormat; // Model::format: "safetensors", "gguf", ...
    ModelFingerprint fingerprint;
    std::vector<SessionPlan> plans;
    std::string activePlan; // the name of one of `plans` (empty when there are none)
    std::string appVersion; // of the program that wrote the file
    // Allocation candidate costs computed for this model, so that reopening the session and
    // allocating with the same measure, candidates and base plan does not compute them again.
    // Files written before they were stored have none.
    std::vector<alloc::CostTableRecord> costTables;

    const SessionPlan* findPlan(const std::string& name) const;
};

inline constexpr int kSessionFormatVersion = 1;

// Writes the session atomically (to `path.part`, renamed into place when complete). Throws
// qs::Error naming `path` when the session is inconsistent (duplicate or empty plan names, an
// active plan that does not exist) or the file cannot be written.
void saveSession(const std::string& path, const Session& session);

// Reads and validates a session: every group, dataset type, shape and size, format name, plan
// JSON and histogram is checked; anything wrong is a qs::Error naming the file and the object.
// libhdf5 parses the file in a child process first (see isolated_probe.h), so a damaged file
// that would crash the library is reported instead.
Session loadSession(const std::string& path);

enum class FingerprintCheck {
    Same,    // the model file is there and its fingerprint matches
    Changed, // it is there but its size or sampled content differ
    Missing  // it cannot be read
};
FingerprintCheck checkFingerprint(const Session& session);

} // namespace qs
