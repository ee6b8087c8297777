#include "io/isolated_probe.h"

#include "core/error.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <sys/wait.h>
#include <unistd.h>

namespace qs {

namespace {
// The child's exit code when the parse threw (a clean error the parent will reproduce); any
// other non-zero code means the child was stopped by something else (a sanitizer, abort()).
constexpr int kThrew = 77;
} // namespace

void probeInChildProcess(const std::string& path, const std::string& library,
                         const std::function<void()>& parse, int timeoutSeconds)
{
    const pid_t pid = ::fork();
    if (pid < 0) return; // cannot isolate: parse in-process as before
    if (pid == 0) {
        // The child only reports how the parse ended: a fault must end it plainly (not in a
        // crash handler the program installed), and _exit skips the parent's atexit work.
        for (int sig : {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL})
            std::signal(sig, SIG_DFL);
        try {
            parse();
        } catch (...) {
            ::_exit(kThrew);
        }
        ::_exit(0);
    }
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
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != kThrew)
        throw Error(path + ": " + library + " failed reading this file (exit code " +
                    std::to_string(WEXITSTATUS(status)) +
                    "); it is damaged or not a valid file of this kind");
    if (WIFSIGNALED(status))
        throw Error(path + ": " + library + " crashed reading this file (signal " +
                    std::to_string(WTERMSIG(status)) + ", " + ::strsignal(WTERMSIG(status)) +
                    "); it is damaged or not a valid file of this kind");
}

} // namespace qs
