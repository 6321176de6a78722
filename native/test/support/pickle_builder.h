// A small pickle assembler and zip builder for the regression tests: hostile inputs are built
// here, in code that says what they are, never stored as opaque blobs.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ct::test {

class PickleBuilder {
 public:
  PickleBuilder& raw(const std::string& bytes) { out_ += bytes; return *this; }
  PickleBuilder& op(char c) { out_ += c; return *this; }
  PickleBuilder& proto(int n) { out_ += '\x80'; out_ += static_cast<char>(n); return *this; }
  PickleBuilder& global(const std::string& module, const std::string& name) { out_ += 'c' + module + '\n' + name + '\n'; return *this; }
  PickleBuilder& inst(const std::string& module, const std::string& name) { out_ += 'i' + module + '\n' + name + '\n'; return *this; }
  PickleBuilder& mark() { return op('('); }
  PickleBuilder& none() { return op('N'); }
  PickleBuilder& boolean(bool b) { return op(b ? '\x88' : '\x89'); }
  PickleBuilder& integer(std::int64_t v) {
    if (v >= 0 && v < 256) { out_ += 'K'; out_ += static_cast<char>(v); return *this; }
    out_ += '\x8a';  // LONG1, 8 bytes little-endian
    out_ += '\x08';
    for (int i = 0; i < 8; ++i) out_ += static_cast<char>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xFF);
    return *this;
  }
  PickleBuilder& str(const std::string& s) { out_ += 'X'; u32(static_cast<std::uint32_t>(s.size())); out_ += s; return *this; }
  PickleBuilder& put(std::uint32_t i) { out_ += 'r'; u32(i); return *this; }
  PickleBuilder& get(std::uint32_t i) { out_ += 'j'; u32(i); return *this; }
  PickleBuilder& empty_tuple() { return op(')'); }
  PickleBuilder& tuple() { return op('t'); }
  PickleBuilder& tuple1() { return op('\x85'); }
  PickleBuilder& tuple2() { return op('\x86'); }
  PickleBuilder& empty_list() { return op(']'); }
  PickleBuilder& list() { return op('l'); }
  PickleBuilder& append() { return op('a'); }
  PickleBuilder& appends() { return op('e'); }
  PickleBuilder& empty_dict() { return op('}'); }
  PickleBuilder& setitem() { return op('s'); }
  PickleBuilder& setitems() { return op('u'); }
  PickleBuilder& reduce() { return op('R'); }
  PickleBuilder& newobj() { return op('\x81'); }
  PickleBuilder& newobj_ex() { return op('\x92'); }
  PickleBuilder& obj() { return op('o'); }
  PickleBuilder& build() { return op('b'); }
  PickleBuilder& dup() { return op('2'); }
  PickleBuilder& binpersid() { return op('Q'); }
  PickleBuilder& stop() { return op('.'); }
  PickleBuilder& pop_value() { return op('0'); }

  // A tensor as torch.save writes it: _rebuild_tensor_v2(pid('storage', FloatStorage, key, 'cpu',
  // numel), offset, size, stride, False, OrderedDict()). `size_op` lets a test replace the size.
  PickleBuilder& tensor(const std::string& key, std::uint64_t numel, const std::vector<std::int64_t>& size,
                        const std::string& storage = "FloatStorage") {
    global("torch._utils", "_rebuild_tensor_v2").mark();
    mark().str("storage").global("torch", storage).str(key).str("cpu").integer(static_cast<std::int64_t>(numel)).tuple().binpersid();
    integer(0);
    ints(size);
    std::vector<std::int64_t> stride(size.size(), 1);
    for (std::size_t i = size.size(); i-- > 1;) stride[i - 1] = stride[i] * size[i];
    ints(stride);
    boolean(false).global("collections", "OrderedDict").empty_tuple().reduce();
    return tuple().reduce();
  }
  PickleBuilder& ints(const std::vector<std::int64_t>& values) {
    mark();
    for (std::int64_t v : values) integer(v);
    return tuple();
  }

  const std::string& bytes() const { return out_; }

 private:
  void u32(std::uint32_t v) { for (int i = 0; i < 4; ++i) out_ += static_cast<char>((v >> (8 * i)) & 0xFF); }
  std::string out_;
};

// A zip archive of stored entries (sizes may be overridden to lie), with a central directory.
class ZipBuilder {
 public:
  struct Entry {
    std::string name;
    std::string data;
    std::uint64_t claimed_compressed;
    std::uint64_t claimed_size;
  };

  ZipBuilder& add(const std::string& name, const std::string& data) {
    entries_.push_back({name, data, data.size(), data.size()});
    return *this;
  }
  // An entry whose directory record claims sizes its data does not have.
  ZipBuilder& add_lying(const std::string& name, const std::string& data, std::uint64_t compressed, std::uint64_t size) {
    entries_.push_back({name, data, compressed, size});
    return *this;
  }

  std::string bytes() const {
    std::string out;
    std::string directory;
    for (const Entry& e : entries_) {
      std::uint64_t offset = out.size();
      bool zip64 = e.claimed_compressed >= 0xFFFFFFFFu || e.claimed_size >= 0xFFFFFFFFu;
      std::uint32_t small_compressed = zip64 ? 0xFFFFFFFFu : static_cast<std::uint32_t>(e.claimed_compressed);
      std::uint32_t small_size = zip64 ? 0xFFFFFFFFu : static_cast<std::uint32_t>(e.claimed_size);
      put32(out, 0x04034b50); put16(out, 20); put16(out, 0); put16(out, 0); put32(out, 0); put32(out, 0);
      put32(out, static_cast<std::uint32_t>(e.data.size())); put32(out, static_cast<std::uint32_t>(e.data.size()));
      put16(out, static_cast<std::uint16_t>(e.name.size())); put16(out, 0);
      out += e.name;
      out += e.data;
      std::string extra;
      if (zip64) {
        put16(extra, 1); put16(extra, 16); put64(extra, e.claimed_size); put64(extra, e.claimed_compressed);
      }
      put32(directory, 0x02014b50); put16(directory, 45); put16(directory, 45); put16(directory, 0); put16(directory, 0);
      put32(directory, 0); put32(directory, 0); put32(directory, small_compressed); put32(directory, small_size);
      put16(directory, static_cast<std::uint16_t>(e.name.size())); put16(directory, static_cast<std::uint16_t>(extra.size()));
      put16(directory, 0); put16(directory, 0); put16(directory, 0); put32(directory, 0);
      put32(directory, static_cast<std::uint32_t>(offset));
      directory += e.name;
      directory += extra;
    }
    std::uint64_t cd_offset = out.size();
    out += directory;
    put32(out, 0x06054b50); put16(out, 0); put16(out, 0);
    put16(out, static_cast<std::uint16_t>(entries_.size())); put16(out, static_cast<std::uint16_t>(entries_.size()));
    put32(out, static_cast<std::uint32_t>(directory.size())); put32(out, static_cast<std::uint32_t>(cd_offset)); put16(out, 0);
    return out;
  }

 private:
  static void put16(std::string& s, std::uint16_t v) { s += static_cast<char>(v & 0xFF); s += static_cast<char>(v >> 8); }
  static void put32(std::string& s, std::uint32_t v) { for (int i = 0; i < 4; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF); }
  static void put64(std::string& s, std::uint64_t v) { for (int i = 0; i < 8; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF); }
  std::vector<Entry> entries_;
};

// A torch.save zip: archive/data.pkl plus a storage entry per (key, bytes).
inline std::string torch_zip(const std::string& pickle, const std::vector<std::pair<std::string, std::size_t>>& storages) {
  ZipBuilder zip;
  zip.add("archive/data.pkl", pickle);
  for (const auto& [key, bytes] : storages) zip.add("archive/data/" + key, std::string(bytes, '\0'));
  zip.add("archive/version", "3\n");
  return zip.bytes();
}

}  // namespace ct::test
