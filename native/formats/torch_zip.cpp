#include "torch_zip.h"

#include "../checkpoint/pickled_model.h"
#include "torch_archive.h"
#include "torchscript.h"

namespace ct {

CheckpointContents read_torch_zip(const ByteSource& source, const ReadLimits& limits) {
  TorchArchive archive(source, limits);
  if (archive.is_torchscript()) return read_torchscript(archive, limits);
  CheckpointContents out;
  out.format = "torch-zip";
  // The names stay views into data.pkl: the contents keep its buffer.
  out.text.keep(archive.pickle_owner(), archive.pickle_bytes());
  TensorDecoder decoder(archive.storage_check(), limits, out.text);
  read_pickled_model(archive.root(), decoder, limits, out);
  out.not_understood = decoder.not_understood();
  record_classes_needed(archive.machine(), out);
  return out;
}

}  // namespace ct
