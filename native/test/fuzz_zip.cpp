// libFuzzer target: any bytes as a zip archive. The directory is parsed and every stored or
// deflated entry read (at most 1 MiB each), as the torch readers do.
#include <cstddef>
#include <cstdint>
#include <string>

#include "byte_source.h"
#include "checkpoint_error.h"
#include "zip_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ct::MemorySource source(std::string(reinterpret_cast<const char*>(data), size));
  try {
    ct::ZipReader zip(source);
    for (const ct::ZipEntry& entry : zip.entries()) {
      try {
        zip.read(entry, 1u << 20);
      } catch (const ct::CheckpointError&) {
      }
    }
  } catch (const ct::CheckpointError&) {
  }
  return 0;
}
