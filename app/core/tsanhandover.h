// Hand-overs between threads that ThreadSanitizer cannot see by itself.
//
// QThreadPool passes a task to a thread, and QFutureInterface a result back, through futexes
// inside Qt. Debian's Qt is not built for TSan, so in a TSan build everything a task reads would
// be reported as racing with the code that prepared it. release() before the hand-over and
// acquire() on the receiving side state the ordering Qt guarantees, on the same token. They
// compile to nothing in normal builds.
#pragma once

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define QS_TSAN_BUILD 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define QS_TSAN_BUILD 1
#endif

#ifdef QS_TSAN_BUILD
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

namespace qs::tsan {

inline void release([[maybe_unused]] const void* token)
{
#ifdef QS_TSAN_BUILD
    __tsan_release(const_cast<void*>(token));
#endif
}

inline void acquire([[maybe_unused]] const void* token)
{
#ifdef QS_TSAN_BUILD
    __tsan_acquire(const_cast<void*>(token));
#endif
}

} // namespace qs::tsan
