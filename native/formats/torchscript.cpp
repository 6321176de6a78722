#include "torchscript.h"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>
#include <unordered_set>

#include "../common/checkpoint_error.h"

namespace ct {
namespace {

using Kind = PickleKind;
constexpr int kMaxDepth = 200;

struct ScriptClass {
  std::set<std::string, std::less<>> parameters;
  std::set<std::string, std::less<>> buffers;
};

std::vector<std::string> quoted_names(std::string_view line) {
  std::vector<std::string> names;
  std::size_t pos = 0;
  while ((pos = line.find('"', pos)) != std::string_view::npos) {
    std::size_t end = line.find('"', pos + 1);
    if (end == std::string_view::npos) break;
    names.emplace_back(line.substr(pos + 1, end - pos - 1));
    pos = end + 1;
  }
  return names;
}

// `class X(Module):` blocks with their `__parameters__ = [...]` and `__buffers__ = [...]` lines.
std::map<std::string, ScriptClass, std::less<>> parse_script_classes(std::string_view code) {
  std::map<std::string, ScriptClass, std::less<>> classes;
  ScriptClass* current = nullptr;
  std::size_t pos = 0;
  while (pos < code.size()) {
    std::size_t end = code.find('\n', pos);
    if (end == std::string_view::npos) end = code.size();
    std::string_view line = code.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind("class ", 0) == 0) {
      std::size_t name_end = line.find_first_of("(:", 6);
      current = &classes[std::string(line.substr(6, name_end == std::string_view::npos ? std::string_view::npos : name_end - 6))];
    } else if (current != nullptr && line.rfind("  __parameters__ = [", 0) == 0) {
      for (auto& n : quoted_names(line)) current->parameters.insert(n);
    } else if (current != nullptr && line.rfind("  __buffers__ = [", 0) == 0) {
      for (auto& n : quoted_names(line)) current->buffers.insert(n);
    }
  }
  return classes;
}

class ScriptModuleReader {
 public:
  ScriptModuleReader(const TorchArchive& archive, const ReadLimits& limits) : archive_(archive), limits_(limits) {}

  // The declarations of a __torch__ class, from code/<module path>.py (read once per file).
  const ScriptClass* find(PickleRef cls) {
    if (!cls.is(Kind::kGlobal) || cls.module().rfind("__torch__", 0) != 0) return nullptr;
    std::string file = archive_.prefix() + "code/" + std::string(cls.module()) + ".py";
    std::replace(file.begin() + static_cast<std::ptrdiff_t>(archive_.prefix().size() + 5), file.end() - 3, '.', '/');
    auto loaded = files_.find(file);
    if (loaded == files_.end()) {
      std::map<std::string, ScriptClass, std::less<>> classes;
      if (const ZipEntry* entry = archive_.zip().find(file)) {
        if (entry->uncompressed_size > limits_.max_code_bytes - std::min(code_read_, limits_.max_code_bytes)) {
          fail(ErrorCode::kLimitExceeded, "TorchScript code is over " + std::to_string(limits_.max_code_bytes) + " bytes");
        }
        code_read_ += entry->uncompressed_size;
        charge(limits_, entry->uncompressed_size / 64 + 1);
        classes = parse_script_classes(archive_.zip().read(*entry, limits_.max_code_bytes));
      }
      loaded = files_.emplace(file, std::move(classes)).first;
    }
    auto found = loaded->second.find(cls.name());
    return found == loaded->second.end() ? nullptr : &found->second;
  }

  void collect(PickleRef object, const std::string& prefix, TensorDecoder& decoder, std::vector<TensorRecord>& out,
               TextStore& text, bool& all_declared, int depth) {
    if (depth > kMaxDepth) fail(ErrorCode::kLimitExceeded, "TorchScript modules nested too deeply");
    if (!object || !visited_.insert(object.id()).second) return;
    PickleRef state = object_state(object);
    if (!state) return;
    const ScriptClass* decl = find(object.callable());
    if (decl == nullptr) all_declared = false;
    for (std::size_t i = 0, n = state.size(); i < n; ++i) {
      charge(limits_);
      std::optional<std::string_view> name = state.key(i).string();
      PickleRef value = state.value(i);
      if (!name || !value) continue;
      if (decoder.is_rebuild_call(value)) {
        std::optional<TensorRecord> t = decoder.tensor(value, prefix + std::string(*name));
        if (!t) continue;
        t->name = text.copy(prefix + std::string(*name));
        if (decl != nullptr) {
          if (decl->parameters.count(*name)) {
            t->role = TensorRecord::Role::kParameter;
          } else if (decl->buffers.count(*name)) {
            t->role = TensorRecord::Role::kBuffer;
          } else {
            continue;  // a tensor attribute or constant, not part of the model's state
          }
        }
        out.push_back(std::move(*t));
      } else if (PickleRef cls = value.call_target(); cls && cls.module().rfind("__torch__", 0) == 0) {
        collect(value, prefix + std::string(*name) + ".", decoder, out, text, all_declared, depth + 1);
      }
    }
  }

 private:
  const TorchArchive& archive_;
  const ReadLimits& limits_;
  std::uint64_t code_read_ = 0;
  std::map<std::string, std::map<std::string, ScriptClass, std::less<>>> files_;
  std::unordered_set<ValueId> visited_;
};

}  // namespace

CheckpointContents read_torchscript(const TorchArchive& archive, const ReadLimits& limits) {
  CheckpointContents out;
  out.format = "torchscript";
  TensorDecoder decoder(archive.storage_check(), limits, out.text);
  ScriptModuleReader script(archive, limits);
  bool all_declared = true;
  script.collect(archive.root(), "", decoder, out.tensors, out.text, all_declared, 0);
  decoder.take_quantizer_tensors(out.tensors);
  out.roles_recorded = all_declared;
  out.not_understood = decoder.not_understood();
  // mangling (___torch_mangle_N) lives in the module path, not the name
  if (PickleRef cls = archive.root().call_target()) out.type = std::string(cls.name());
  return out;
}

}  // namespace ct
