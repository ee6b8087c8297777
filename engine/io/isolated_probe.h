// Runs a parse that a third-party library performs (libhdf5) in a child process first, so
// that a file which crashes the library is reported instead of taking the program down.
#pragma once

#include <functional>
#include <string>

namespace qs {

// The parses a child can run; quantscope-probe is started as `quantscope-probe KIND PATH`.
enum class ProbeKind {
    Hdf5Model,  // Hdf5Reader::open (KIND "hdf5")
    KerasModel, // nn::loadKerasModel (KIND "keras")
    Session     // loadSession (KIND "session")
};
const char* probeKindName(ProbeKind kind);

// quantscope-probe's exit code when the parse threw: a clean error the caller reproduces by
// parsing in-process. Any other non-zero code means something else stopped the child (a
// sanitizer, abort()).
inline constexpr int kProbeThrew = 77;

// Runs the parse of `kind` on `path` in a child process and waits up to `timeoutSeconds`.
// Returns when the child finished, normally or by throwing (the caller then parses in-process
// and gets the same result or error). Throws qs::Error naming `path` when the child died from
// a signal, failed otherwise or hung (it is then killed).
//
// The child is the helper executable quantscope-probe (probeHelperPath()), started with
// posix_spawn: a process that forks while other threads run may only call async-signal-safe
// functions in the child until it execs, and a parse mallocs and takes libhdf5's locks, which
// another thread can hold at fork time (a worker writing a session, Qt's, the allocator's
// under AddressSanitizer), leaving the child hung. Only when no helper is found (or it cannot
// be started) does the child become a plain fork() running `parse`, as a last resort.
void probeInChildProcess(const std::string& path, const std::string& library, ProbeKind kind,
                         const std::function<void()>& parse, int timeoutSeconds = 15);

// The helper the probe starts, or "" when none is found (the fork fallback then runs). In
// this order: $QS_PROBE when set and non-empty (the fork fallback if it is not executable,
// so that it can be forced); <dir of the executable>/../libexec/quantscope/quantscope-probe
// (the installed layout: /usr/bin -> /usr/libexec/quantscope); <dir of the
// executable>/quantscope-probe; the build tree's helper (tests and development builds).
std::string probeHelperPath();

// Called by quantscope-probe, which is itself the child: the parses it runs must not start
// another one.
void disableChildProcessProbe();

} // namespace qs
