{
  # The install-time build (what `npm install` runs). The sources are listed once, in
  # native/core_sources.txt and native/binding_sources.txt, which CMakeLists.txt reads too.
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
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "MACOSX_DEPLOYMENT_TARGET": "11.0"
      }
    }
  ]
}
