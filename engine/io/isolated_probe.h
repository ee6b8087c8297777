// Runs a parse that a third-party library performs (libhdf5) in a child process first, so
// that a file which crashes the library is reported instead of taking the program down.
#pragma once

#include <functional>
#include <string>

namespace qs {

// Runs `parse` in a forked child and waits up to `timeoutSeconds`. Returns when the child
// finished, normally or by throwing (the caller then parses in-process and gets the same
// result or error). Throws qs::Error naming `path` when the child died from a signal or hung.
void probeInChildProcess(const std::string& path, const std::string& library,
                         const std::function<void()>& parse, int timeoutSeconds = 15);

} // namespace qs
