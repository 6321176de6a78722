{
  # The install-time build (what `npm install` runs). CMakeLists.txt compiles the same sources
  # through cmake-js; CI builds both so neither list rots.
  "targets": [
    {
      "target_name": "config_tracker",
      "sources": [
        "native/common/dynamic_library.cpp",
        "native/gpu/nvidia/cuda_driver.cpp",
        "native/gpu/nvidia/gpu_probe.cpp",
        "native/gpu/nvidia/nvml_library.cpp",
        "native/gpu/nvidia/visible_devices.cpp",
        "native/gpu/nvidia/nvml_backend.cpp",
        "native/gpu/backends.cpp",
        "native/gpu/sampler/process_tree.cpp",
        "native/gpu/sampler/session.cpp",
        "native/core/byte_source.cpp",
        "native/core/dtypes.cpp",
        "native/core/json_reader.cpp",
        "native/core/metric_lines.cpp",
        "native/core/model_info.cpp",
        "native/core/pickle_machine.cpp",
        "native/core/safetensors.cpp",
        "native/core/torch_checkpoint.cpp",
        "native/core/zip_reader.cpp",
        "native/binding/addon.cpp",
        "native/binding/checkpoint_binding.cpp",
        "native/binding/gpu_binding.cpp",
        "native/binding/metrics_binding.cpp",
        "native/binding/sampler_binding.cpp"
      ],
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
