// Keeps the Linux addon loadable on glibc 2.28 (RHEL 8) and newer although it is built on a newer
// glibc (Debian 12: 2.36). binding.gyp force-includes this file (-include) into every source on
// glibc targets; no source includes it by hand. scripts/check-glibc.sh checks the result: the
// highest GLIBC_x.y the built binary needs.
//
// libstdc++ is linked in statically (binding.gyp): the host's may be older than GCC 12's, as
// Ubuntu 20.04's (GLIBCXX_3.4.28) is. Without this file the binary needs GLIBC_2.36, because:
// 1. dlopen/dlsym/dlerror and the pthread functions moved into libc under new versions (2.34;
//    pthread_sigmask 2.32): our code and the libstdc++ linked into the addon call them. Bind to the
//    original versions, still exported by every glibc; binding.gyp also links libdl.so.2 and
//    libpthread.so.0, which define them before 2.34.
// 2. stat/fstat/lstat became real libc functions (stat64@GLIBC_2.33); before 2.33 the headers
//    turned them into __xstat64/__fxstat64/__lxstat64 calls, which every glibc still exports. The
//    linker wraps the new names (--wrap in binding.gyp) and the wrappers below make the old calls.
// 3. libstdc++ 12's <condition_variable> waits on steady_clock with pthread_cond_clockwait (2.30).
//    Its own fallback for older glibc (a system_clock wait, re-checked against the caller's clock)
//    is chosen by undefining the configuration macros.
// 4. libstdc++ headers read __libc_single_threaded (2.32) to skip atomic reference counts. A hidden
//    definition that always says "not single-threaded" keeps the atomics and needs nothing from libc.
#ifndef CONFIG_TRACKER_GLIBC_FLOOR_H_
#define CONFIG_TRACKER_GLIBC_FLOOR_H_

#if defined(__linux__)
#include <features.h>
#endif

// binding.gyp applies it on x64 and arm64 glibc builds only (other targets build as they are).
#if defined(__GLIBC__) && (defined(__x86_64__) || defined(__aarch64__))

#if defined(__x86_64__)
#define CONFIG_TRACKER_GLIBC_BASE "GLIBC_2.2.5"
#define CONFIG_TRACKER_STAT_VER 1  // _STAT_VER_LINUX on x86-64
#elif defined(__aarch64__)
#define CONFIG_TRACKER_GLIBC_BASE "GLIBC_2.17"
#define CONFIG_TRACKER_STAT_VER 0  // _STAT_VER_KERNEL on the generic Linux ABI
#endif

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

// 1. and the pthread functions libstdc++.a calls. The linker sends every call of NAME to
// __wrap_NAME (binding.gyp: -Wl,--wrap=NAME, same list), which calls NAME at the original
// version. The definitions are weak: every source carries a copy and the linker keeps one, so the
// sources list needs no extra file.
#define CONFIG_TRACKER_OLD_VERSION(ret, name, params, args)                                   \
  ret config_tracker_old_##name params;                                                       \
  __asm__(".symver config_tracker_old_" #name "," #name "@" CONFIG_TRACKER_GLIBC_BASE);      \
  __attribute__((weak, visibility("hidden"))) ret __wrap_##name params {                      \
    return config_tracker_old_##name args;                                                    \
  }

CONFIG_TRACKER_OLD_VERSION(void*, dlopen, (const char* file, int mode), (file, mode))
CONFIG_TRACKER_OLD_VERSION(void*, dlsym, (void* handle, const char* name), (handle, name))
CONFIG_TRACKER_OLD_VERSION(char*, dlerror, (void), ())
CONFIG_TRACKER_OLD_VERSION(int, pthread_once, (pthread_once_t* once, void (*init)(void)), (once, init))
CONFIG_TRACKER_OLD_VERSION(int, pthread_create,
                           (pthread_t* thread, const pthread_attr_t* attr, void* (*start)(void*), void* arg),
                           (thread, attr, start, arg))
CONFIG_TRACKER_OLD_VERSION(int, pthread_join, (pthread_t thread, void** result), (thread, result))
CONFIG_TRACKER_OLD_VERSION(int, pthread_detach, (pthread_t thread), (thread))
CONFIG_TRACKER_OLD_VERSION(int, pthread_key_create, (pthread_key_t* key, void (*destroy)(void*)), (key, destroy))
CONFIG_TRACKER_OLD_VERSION(int, __pthread_key_create, (pthread_key_t* key, void (*destroy)(void*)), (key, destroy))
CONFIG_TRACKER_OLD_VERSION(int, pthread_key_delete, (pthread_key_t key), (key))
CONFIG_TRACKER_OLD_VERSION(void*, pthread_getspecific, (pthread_key_t key), (key))
CONFIG_TRACKER_OLD_VERSION(int, pthread_setspecific, (pthread_key_t key, const void* value), (key, value))
CONFIG_TRACKER_OLD_VERSION(int, pthread_rwlock_rdlock, (pthread_rwlock_t* lock), (lock))
CONFIG_TRACKER_OLD_VERSION(int, pthread_rwlock_wrlock, (pthread_rwlock_t* lock), (lock))
CONFIG_TRACKER_OLD_VERSION(int, pthread_rwlock_unlock, (pthread_rwlock_t* lock), (lock))
CONFIG_TRACKER_OLD_VERSION(int, pthread_sigmask, (int how, const sigset_t* set, sigset_t* old), (how, set, old))
#undef CONFIG_TRACKER_OLD_VERSION

// 2.
int __xstat64(int version, const char* path, struct stat64* buffer);
int __fxstat64(int version, int fd, struct stat64* buffer);
int __lxstat64(int version, const char* path, struct stat64* buffer);
__asm__(".symver __xstat64,__xstat64@" CONFIG_TRACKER_GLIBC_BASE);
__asm__(".symver __fxstat64,__fxstat64@" CONFIG_TRACKER_GLIBC_BASE);
__asm__(".symver __lxstat64,__lxstat64@" CONFIG_TRACKER_GLIBC_BASE);
__attribute__((weak, visibility("hidden"))) int __wrap_stat64(const char* path, struct stat64* buffer) {
  return __xstat64(CONFIG_TRACKER_STAT_VER, path, buffer);
}
__attribute__((weak, visibility("hidden"))) int __wrap_fstat64(int fd, struct stat64* buffer) {
  return __fxstat64(CONFIG_TRACKER_STAT_VER, fd, buffer);
}
__attribute__((weak, visibility("hidden"))) int __wrap_lstat64(const char* path, struct stat64* buffer) {
  return __lxstat64(CONFIG_TRACKER_STAT_VER, path, buffer);
}

// std::random_device (linked in with libstdc++, never used by the addon) calls arc4random (2.36);
// getentropy is 2.25.
__attribute__((weak, visibility("hidden"))) uint32_t __wrap_arc4random(void) {
  uint32_t value = 0;
  if (getentropy(&value, sizeof value) != 0) value = (uint32_t)(uintptr_t)&value ^ (uint32_t)getpid();
  return value;
}

// 4.
__attribute__((weak, visibility("hidden"))) char __libc_single_threaded = 0;
#ifdef __cplusplus
}
#endif

// 3.
#ifdef __cplusplus
#include <bits/c++config.h>
#undef _GLIBCXX_USE_PTHREAD_COND_CLOCKWAIT
#undef _GLIBCXX_USE_PTHREAD_MUTEX_CLOCKLOCK
#undef _GLIBCXX_USE_PTHREAD_RWLOCK_CLOCKLOCK
#endif

#endif  // __GLIBC__ on x86-64 or arm64
#endif  // CONFIG_TRACKER_GLIBC_FLOOR_H_
