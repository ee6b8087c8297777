// Helpers shared by the libFuzzer targets: the scratch file an input is written to, and a
// record of the inputs on which a child-process probe died.
#pragma once

#include "core/error.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>
#include <unistd.h>

namespace qs::fuzz {

// A path of one file per fuzzing process (libFuzzer's -jobs/-workers run several at once).
inline std::string scratchPath(const char* suffix)
{
    return "/tmp/quantscope-fuzz-" + std::to_string(::getpid()) + suffix;
}

// Writes the input to `path`; false when the file cannot be written.
inline bool writeFile(const std::string& path, const std::uint8_t* data, std::size_t size)
{
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return false;
    const bool ok = std::fwrite(data, 1, size, f) == size;
    return std::fclose(f) == 0 && ok;
}

// Readers that let libhdf5 parse a file in a child process first (io/isolated_probe.h) turn a
// fault in that child into a qs::Error, so libFuzzer never sees it: a sanitizer report from
// the child is printed, but the input is not kept. With QS_FUZZ_PROBE_DIR set (packaging/dev.sh
// sets it for the HDF5 targets only), every input whose child crashed, failed or hung is written
// there, named by its hash, for triage (run the target on it: the child's report names the
// faulting frames, libhdf5's or ours). Only the probe's own message counts: it starts with the
// path and the library, so text an input puts into other messages cannot pass for it.
inline void keepIfProbeDied(const qs::Error& e, const std::string& path, const std::uint8_t* data,
                            std::size_t size)
{
    static const char* dir = std::getenv("QS_FUZZ_PROBE_DIR");
    if (!dir || !*dir) return;
    const std::string_view msg = e.what();
    const std::string prefix = path + ": libhdf5 ";
    if (msg.substr(0, prefix.size()) != prefix) return;
    const std::string_view rest = msg.substr(prefix.size());
    bool died = false;
    for (const std::string_view how : {"crashed reading this file", "did not finish reading this file",
                                       "failed reading this file (exit code"})
        died = died || rest.substr(0, how.size()) == how;
    if (!died) return;
    const std::size_t h =
        std::hash<std::string_view>{}(std::string_view(reinterpret_cast<const char*>(data), size));
    char name[32];
    std::snprintf(name, sizeof name, "/probe-%016zx", h);
    writeFile(std::string(dir) + name, data, size);
}

} // namespace qs::fuzz
