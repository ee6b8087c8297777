// quantscope-probe KIND PATH: parses one file as the program is about to, in a process of its
// own, so that a file which crashes or hangs libhdf5 takes only this process down
// (io/isolated_probe.h starts it and reads how it ended).
#include "io/hdf5_reader.h"
#include "io/isolated_probe.h"
#include "nn/keras_model.h"
#include "session/session.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

// Exit codes: 0 the parse succeeded, qs::kProbeThrew it threw, 2 a wrong command line; a
// fault ends the process by its signal.
int run(std::string_view kind, const std::string& path)
{
    using qs::ProbeKind;
    if (kind == qs::probeKindName(ProbeKind::Hdf5Model))
        (void)qs::Hdf5Reader().open(path);
    else if (kind == qs::probeKindName(ProbeKind::KerasModel))
        (void)qs::nn::loadKerasModel(path);
    else if (kind == qs::probeKindName(ProbeKind::Session))
        (void)qs::loadSession(path);
    else
        return 2;
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 3) {
        std::fprintf(stderr, "usage: quantscope-probe hdf5|keras|session PATH\n");
        return 2;
    }
    // This process is the child: the readers must parse here, not start another one.
    qs::disableChildProcessProbe();
    int code = 0;
    try {
        code = run(argv[1], argv[2]);
    } catch (...) {
        code = qs::kProbeThrew; // the caller parses again and reports the error itself
    }
    if (code == 2) std::fprintf(stderr, "quantscope-probe: unknown kind '%s'\n", argv[1]);
    // _Exit: no leak check or static destructors; libhdf5's high-level library keeps a few
    // bytes per file image, and the caller repeats the parse where those checks run.
    std::fflush(stderr);
    std::_Exit(code);
}
