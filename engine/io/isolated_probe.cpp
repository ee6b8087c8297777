#include "io/isolated_probe.h"

#include "core/error.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace qs {

namespace {

std::atomic<bool> probeDisabled{false};

bool isExecutable(const std::string& file)
{
    std::error_code ec;
    return !file.empty() && std::filesystem::is_regular_file(file, ec) &&
           ::access(file.c_str(), X_OK) == 0;
}

// Starts the helper; -1 when it cannot be started (posix_spawn reports a failed exec too).
pid_t spawnHelper(const std::string& helper, ProbeKind kind, const std::string& path)
{
    // The helper starts with every signal at its default action and none blocked: a fault
    // must end it plainly, whatever the calling thread ignored or blocked. Of the caller's
    // descriptors it keeps only stdin/stdout/stderr (a sanitizer writes its report there).
    posix_spawnattr_t attr;
    if (posix_spawnattr_init(&attr) != 0) return -1;
    sigset_t all;
    sigset_t none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
#endif
    std::string kindArg = probeKindName(kind);
    std::string pathArg = path;
    std::string helperArg = helper;
    char* argv[] = {helperArg.data(), kindArg.data(), pathArg.data(), nullptr};
    pid_t pid = -1;
    if (::posix_spawn(&pid, helper.c_str(), &actions, &attr, argv, environ) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return pid;
}

// The last resort without a helper: fork and parse in the copy. Not async-signal-safe when
// other threads run (see the header), but it still keeps a crash out of the caller.
pid_t forkAndParse(const std::function<void()>& parse)
{
    const pid_t pid = ::fork();
    if (pid != 0) return pid;
    // The child only reports how the parse ended: a fault must end it plainly (not in a
    // crash handler the program installed), and _exit skips the parent's atexit work.
    for (int sig : {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL})
        std::signal(sig, SIG_DFL);
    try {
        parse();
    } catch (...) {
        ::_exit(kProbeThrew);
    }
    ::_exit(0);
}

// Waits for the child, kills it after `timeoutSeconds`, and turns how it ended into an error.
void awaitChild(pid_t pid, const std::string& path, const std::string& library, int timeoutSeconds)
{
    const timespec pause{0, 5'000'000}; // 5 ms
    const long polls = static_cast<long>(timeoutSeconds) * 200;
    int status = 0;
    for (long i = 0;; ++i) {
        const pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid) break;
        if (done < 0 && errno != EINTR) return;
        if (i >= polls) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            throw Error(path + ": " + library + " did not finish reading this file within " +
                        std::to_string(timeoutSeconds) + " s; it is damaged or hostile");
        }
        ::nanosleep(&pause, nullptr);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != kProbeThrew)
        throw Error(path + ": " + library + " failed reading this file (exit code " +
                    std::to_string(WEXITSTATUS(status)) +
                    "); it is damaged or not a valid file of this kind");
    if (WIFSIGNALED(status))
        throw Error(path + ": " + library + " crashed reading this file (signal " +
                    std::to_string(WTERMSIG(status)) + ", " + ::strsignal(WTERMSIG(status)) +
                    "); it is damaged or not a valid file of this kind");
}

} // namespace

const char* probeKindName(ProbeKind kind)
{
    switch (kind) {
    case ProbeKind::Hdf5Model:
        return "hdf5";
    case ProbeKind::KerasModel:
        return "keras";
    case ProbeKind::Session:
        return "session";
    }
    return "";
}

std::string probeHelperPath()
{
    if (const char* env = std::getenv("QS_PROBE"); env && *env)
        return isExecutable(env) ? std::string(env) : std::string();
    std::error_code ec;
    const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const std::filesystem::path dir = exe.parent_path();
        for (const auto& candidate :
             {dir / ".." / "libexec" / "quantscope" / "quantscope-probe", dir / "quantscope-probe"})
            if (isExecutable(candidate.string())) return candidate.lexically_normal().string();
    }
#ifdef QS_PROBE_BUILD_PATH
    if (isExecutable(QS_PROBE_BUILD_PATH)) return QS_PROBE_BUILD_PATH;
#endif
    return {};
}

void disableChildProcessProbe()
{
    probeDisabled = true;
}

void probeInChildProcess(const std::string& path, const std::string& library, ProbeKind kind,
                         const std::function<void()>& parse, int timeoutSeconds)
{
    if (probeDisabled) return;
    const std::string helper = probeHelperPath();
    pid_t pid = helper.empty() ? -1 : spawnHelper(helper, kind, path);
    if (pid < 0) pid = forkAndParse(parse);
    if (pid < 0) return; // cannot isolate: parse in-process as before
    awaitChild(pid, path, library, timeoutSeconds);
}

} // namespace qs
