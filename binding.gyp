{
  # The install-time build (what `npm install` runs). The sources are listed once, in
  # native/core_sources.txt and native/binding_sources.txt, which CMakeLists.txt reads too.
  "variables": {
    # 1 when building on glibc (prebuilt binaries are): see the glibc_floor condition below.
    "glibc%": "<!(node -p \"process.report.getReport().header.glibcVersionRuntime ? 1 : 0\")"
  },
  "targets": [
    {
      "target_name": "config_tracker",
      "sources": ["<!@(node scripts/native-sources.cjs core binding)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "libraries": ["-ldl", "-lpthread"],
      "conditions": [
        # One binary for every glibc >= 2.28 (RHEL 8, Ubuntu 20.04) although built on a newer one:
        # libstdc++ linked in (the host's may be older than the compiler's) and kept private, old
        # symbol versions (native/platform/glibc_floor.h says why each). scripts/check-glibc.sh checks.
        ["OS=='linux' and glibc==1 and target_arch in ('x64', 'arm64')", {
          "cflags": ["-include", "<(module_root_dir)/native/platform/glibc_floor.h"],
          "ldflags": [
            "-static-libstdc++",
            "-Wl,--version-script=<(module_root_dir)/native/binding/addon.exports",
            "-Wl,--wrap=dlopen,--wrap=dlsym,--wrap=dlerror,--wrap=pthread_once,--wrap=pthread_create",
            "-Wl,--wrap=pthread_join,--wrap=pthread_detach,--wrap=pthread_key_create,--wrap=__pthread_key_create",
            "-Wl,--wrap=pthread_key_delete,--wrap=pthread_getspecific,--wrap=pthread_setspecific",
            "-Wl,--wrap=pthread_rwlock_rdlock,--wrap=pthread_rwlock_wrlock,--wrap=pthread_rwlock_unlock,--wrap=pthread_sigmask",
            "-Wl,--wrap=stat64,--wrap=fstat64,--wrap=lstat64,--wrap=arc4random",
            "-Wl,--no-as-needed"
          ],
          "libraries": ["-l:libdl.so.2", "-l:libpthread.so.0"]
        }]
      ],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "MACOSX_DEPLOYMENT_TARGET": "11.0"
      }
    }
  ]
}
