#include "registry.h"

#include <iterator>

#include "../common/checkpoint_error.h"
#include "../containers/zip_reader.h"
#include "safetensors.h"
#include "torch_legacy.h"
#include "torch_zip.h"

namespace ct {
namespace {

const CheckpointFormat kFormats[] = {
    {"torch-zip", looks_like_zip, read_torch_zip},  // TorchScript archives too
    {"torch-legacy", is_legacy_torch, read_torch_legacy},
    {"safetensors", looks_like_safetensors, read_safetensors},
};

// Formats recognised only to say why they are not read.
[[noreturn]] void refuse_unknown(const ByteSource& source) {
  if (source.size() >= 262) {
    char magic[5];
    source.read(257, magic, sizeof(magic));
    if (std::string(magic, 5) == "ustar") {
      fail(ErrorCode::kUnsupportedFormat, "a tar checkpoint from PyTorch before 0.4: load it with an old torch and save it again");
    }
  }
  unsigned char first = 0;
  source.read(0, &first, 1);
  if (first == 0x80) fail(ErrorCode::kUnsupportedFormat, "a plain pickle, not a file written by torch.save");
  fail(ErrorCode::kUnsupportedFormat, "not a PyTorch, TorchScript or safetensors checkpoint");
}

}  // namespace

CheckpointContents read_any_format(const ByteSource& source, const ReadLimits& limits) {
  if (source.size() == 0) fail(ErrorCode::kTruncated, "the file is empty");
  for (const CheckpointFormat& format : kFormats) {
    if (format.sniff(source)) return format.read(source, limits);
  }
  refuse_unknown(source);
}

}  // namespace ct
