// Every class of hostile torch-side input from issue 11, built with the assembler in
// support/pickle_builder.h, with the outcome it must have (an error code, or exact counts): no
// input crashes, hangs, balloons or gives a wrong number silently.
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>

#include "byte_source.h"
#include "checkpoint_error.h"
#include "distributed_checkpoint.h"
#include "model_info.h"
#include "pickle_machine.h"
#include "support/pickle_builder.h"
#include "work_budget.h"

using ct::ErrorCode;
using ct::test::PickleBuilder;
using ct::test::ZipBuilder;

namespace {

struct Outcome {
  ErrorCode code = ErrorCode::kIo;
  std::string message;
  bool ok = false;
  ct::ModelInfo info;
};

Outcome inspect_bytes(const std::string& bytes, std::uint64_t budget = 10'000'000) {
  Outcome out;
  ct::WorkBudget work(budget);
  ct::ReadLimits limits;
  limits.budget = &work;
  try {
    ct::MemorySource source(bytes);
    out.info = ct::summarize(ct::read_checkpoint_bytes(source, limits));
    out.ok = true;
  } catch (const ct::CheckpointError& error) {
    out.code = error.code();
    out.message = error.what();
  }
  return out;
}

// A state dict {name: value} around one value built by `value`, as data.pkl of a torch zip.
std::string state_dict_zip(const std::function<void(PickleBuilder&)>& value, std::size_t storage_bytes = 64) {
  PickleBuilder p;
  p.proto(2).empty_dict().mark();
  p.str("ok").tensor("0", 16, {4, 4});
  p.str("hostile");
  value(p);
  p.setitems().stop();
  return ct::test::torch_zip(p.bytes(), {{"0", storage_bytes}});
}

// A pickle whose only content is `value` (for the machine alone).
// The machine's refusal of a pickle, or nullopt when it reads it.
std::optional<ErrorCode> machine_error(const std::function<void(PickleBuilder&)>& value, ct::PickleLimits limits = {}) {
  PickleBuilder p;
  p.proto(2);
  value(p);
  p.stop();
  try {
    ct::PickleMachine machine(limits);
    machine.load(p.bytes());
  } catch (const ct::CheckpointError& error) {
    return error.code();
  }
  return std::nullopt;
}

}  // namespace

// --- Cycles and depth --------------------------------------------------------------------------

TEST(Hostile, SizeWhoseArgumentListContainsItselfIsCorrupt) {
  Outcome out = inspect_bytes(state_dict_zip([](PickleBuilder& p) {
    p.global("torch._utils", "_rebuild_tensor_v2").mark();
    p.mark().str("storage").global("torch", "FloatStorage").str("0").str("cpu").integer(16).tuple().binpersid();
    p.integer(0);
    p.global("torch", "Size").empty_list().put(90).get(90).append().tuple1().reduce();  // Size([itself])
    p.ints({4, 1}).boolean(false).global("collections", "OrderedDict").empty_tuple().reduce().tuple().reduce();
  }));
  EXPECT_EQ(out.code, ErrorCode::kCorrupt) << out.message;
}

TEST(Hostile, SizeNested300000DeepIsCorrupt) {
  Outcome out = inspect_bytes(state_dict_zip([](PickleBuilder& p) {
    p.global("torch._utils", "_rebuild_tensor_v2").mark();
    p.mark().str("storage").global("torch", "FloatStorage").str("0").str("cpu").integer(16).tuple().binpersid();
    p.integer(0);
    p.global("torch", "Size").put(91);
    for (int i = 1; i < 300000; ++i) p.get(91);
    p.ints({4, 4});
    for (int i = 0; i < 300000; ++i) p.tuple1().reduce();
    p.ints({4, 1}).boolean(false).global("collections", "OrderedDict").empty_tuple().reduce().tuple().reduce();
  }));
  EXPECT_EQ(out.code, ErrorCode::kCorrupt) << out.message;
}

TEST(Hostile, ValueNested300000DeepBesideTensorsIsIgnored) {
  Outcome out = inspect_bytes(state_dict_zip([](PickleBuilder& p) {
    for (int i = 0; i < 300000; ++i) p.empty_list();
    for (int i = 1; i < 300000; ++i) p.append();
  }));
  ASSERT_TRUE(out.ok) << out.message;
  EXPECT_EQ(out.info.num_parameters, 16u);
}

TEST(Hostile, DistributedMetadataWithADeepSizeIsCorrupt) {
  PickleBuilder p;
  p.proto(4).global("torch.distributed.checkpoint.metadata", "Metadata").empty_tuple().newobj();
  p.empty_dict().str("state_dict_metadata").empty_dict().str("w");
  p.global("torch.distributed.checkpoint.metadata", "TensorStorageMetadata").empty_tuple().newobj();
  p.empty_dict().str("size").global("torch", "Size").put(5);
  for (int i = 1; i < 300000; ++i) p.get(5);
  p.ints({2});
  for (int i = 0; i < 300000; ++i) p.tuple1().reduce();
  p.setitem().build().setitem().setitem().build().stop();
  ct::MemorySource source(p.bytes());
  try {
    ct::read_distributed_metadata(source, {});
    ADD_FAILURE() << "no error";
  } catch (const ct::CheckpointError& error) {
    EXPECT_EQ(error.code(), ErrorCode::kCorrupt) << error.what();
  }
}

TEST(Hostile, ModuleThatContainsItselfIsCountedOnce) {
  PickleBuilder p;
  p.proto(2).global("mymod", "Net").empty_tuple().newobj().put(1);
  p.empty_dict().mark();
  p.str("_parameters").global("collections", "OrderedDict").empty_tuple().reduce();
  p.mark().str("w").global("torch._utils", "_rebuild_parameter").mark().tensor("0", 16, {4, 4}).boolean(true);
  p.global("collections", "OrderedDict").empty_tuple().reduce().tuple().reduce().setitems();
  p.str("_buffers").global("collections", "OrderedDict").empty_tuple().reduce();
  p.str("_modules").empty_dict().str("again").get(1).setitem();
  p.setitems().build().stop();
  Outcome out = inspect_bytes(ct::test::torch_zip(p.bytes(), {{"0", 64}}));
  ASSERT_TRUE(out.ok) << out.message;
  EXPECT_EQ(out.info.num_parameters, 16u);
  EXPECT_TRUE(out.info.exact);
  EXPECT_EQ(out.info.classes_needed, std::vector<std::string>{"mymod.Net"});
}

// --- Work: shared graphs walked once, a budget for everything else -----------------------------

// `levels` sparse tensors, each naming the level below 50 times: 50^levels as a tree.
std::string shared_sparse_graph(std::uint32_t levels) {
  PickleBuilder p;
  p.proto(2).empty_dict().str("s");
  p.tensor("0", 16, {4, 4}).put(0).pop_value();
  for (std::uint32_t level = 1; level <= levels; ++level) {
    p.global("torch._utils", "_rebuild_sparse_tensor").global("torch", "sparse_coo").mark();
    for (int i = 0; i < 50; ++i) p.get(level - 1);
    p.ints({8, 8}).tuple().tuple2().reduce().put(level);
    if (level < levels) p.pop_value();
  }
  p.setitem().stop();
  return ct::test::torch_zip(p.bytes(), {{"0", 64}});
}

TEST(Hostile, SparseGraphWhoseLevelsShareChildrenIsWalkedOnce) {
  Outcome out = inspect_bytes(shared_sparse_graph(15), 1'000'000);
  ASSERT_TRUE(out.ok) << out.message;
  EXPECT_EQ(out.info.num_parameters, 64u);  // the dense size of the top level
  // Deeper than any rebuild nesting torch writes: refused at the bottom, not walked.
  Outcome deep = inspect_bytes(shared_sparse_graph(17), 1'000'000);
  EXPECT_EQ(deep.code, ErrorCode::kLimitExceeded);
  EXPECT_NE(deep.message.find("nested too deeply"), std::string::npos) << deep.message;  // not the budget
}

TEST(Hostile, LongPickleEndsWithinItsWorkBudget) {
  Outcome out = inspect_bytes(state_dict_zip([](PickleBuilder& p) {
    p.empty_list();
    for (int i = 0; i < 100000; ++i) p.none().append();
  }), 10'000);
  EXPECT_EQ(out.code, ErrorCode::kLimitExceeded) << out.message;
}

TEST(Hostile, OneDictSharedByEveryRootKeyIsScannedOnce) {
  PickleBuilder p;
  p.proto(2).empty_dict().put(0).mark();
  for (int i = 0; i < 3000; ++i) p.str("k" + std::to_string(i)).integer(i % 200);
  p.setitems().pop_value();
  p.empty_dict().mark();
  for (int i = 0; i < 3000; ++i) p.str("r" + std::to_string(i)).get(0);
  p.setitems().stop();
  // Scanning the shared dict once per root key would cost 9,000,000 units.
  Outcome out = inspect_bytes(ct::test::torch_zip(p.bytes(), {}), 200'000);
  EXPECT_EQ(out.code, ErrorCode::kUnsupportedFormat) << out.message;
}

TEST(Hostile, RepeatedCallsShareTheirArgumentTuple) {
  ct::PickleLimits limits;
  limits.max_ids = 20'000;  // 5,000 calls copying 5,000 items would need 25,000,000
  std::optional<ErrorCode> code = machine_error([](PickleBuilder& p) {
    p.mark();
    for (int i = 0; i < 5000; ++i) p.integer(1);
    p.tuple().put(0).empty_list();
    for (int i = 0; i < 5000; ++i) p.global("torch", "Size").get(0).reduce().append();
  }, limits);
  EXPECT_FALSE(code.has_value()) << "refused with code " << ct::error_code_name(*code);
}

TEST(Hostile, ContainerCopiesAreBoundedByTheLimit) {
  ct::PickleLimits limits;
  limits.max_ids = 100'000;
  std::optional<ErrorCode> code = machine_error([](PickleBuilder& p) {
    p.empty_list().mark();
    for (int i = 0; i < 2000; ++i) p.integer(i).integer(i).tuple2();
    p.appends().put(0).empty_list();
    for (int i = 0; i < 2000; ++i) p.global("collections", "OrderedDict").get(0).tuple1().reduce().append();
  }, limits);
  EXPECT_EQ(code, ErrorCode::kLimitExceeded);
}

TEST(Hostile, FarMemoIndexCostsNoMemory) {
  PickleBuilder p;
  p.proto(2).integer(7).put(0xFFFFFFF0u).get(0xFFFFFFF0u).tuple2().stop();
  ct::PickleMachine machine;
  EXPECT_EQ(machine.load(p.bytes()).item(1).as_int(), 7);
}

// --- Numbers: exact or refused -----------------------------------------------------------------

std::string meta_tensors(int count, std::int64_t side, const std::string& suffix = "") {
  PickleBuilder p;
  p.proto(2).empty_dict().mark();
  for (int i = 0; i < count; ++i) {
    p.str("m" + std::to_string(i) + suffix).global("torch._utils", "_rebuild_meta_tensor_no_storage").mark();
    p.global("torch", "float32").ints({side, side}).ints({side, 1}).boolean(false).tuple().reduce();
  }
  p.setitems().stop();
  return ct::test::torch_zip(p.bytes(), {});
}

TEST(Hostile, TotalsThatWouldWrapAreRefused) {
  // Buffers (named so), whose element counts are summed with no bit product first: only the sum
  // of 4 x 2^62 = 2^64 elements can wrap.
  Outcome out = inspect_bytes(meta_tensors(4, std::int64_t{1} << 31, ".running_mean"));
  EXPECT_EQ(out.code, ErrorCode::kLimitExceeded) << out.message;
  EXPECT_NE(out.message.find("element count overflows"), std::string::npos) << out.message;  // a sum, no product
}

TEST(Hostile, TotalsAboveWhatJavaScriptHoldsAreRefused) {
  Outcome out = inspect_bytes(meta_tensors(1, std::int64_t{1} << 27));  // 2^54 elements
  EXPECT_EQ(out.code, ErrorCode::kLimitExceeded) << out.message;
  Outcome fits = inspect_bytes(meta_tensors(1, std::int64_t{1} << 24));  // 2^48 elements, 2^50 bytes
  ASSERT_TRUE(fits.ok) << fits.message;
  EXPECT_EQ(fits.info.num_parameters, std::uint64_t{1} << 48);
}

TEST(Hostile, StorageClaimedByTheDirectoryButNotInTheFileIsCorrupt) {
  PickleBuilder p;
  p.proto(2).empty_dict().str("w").tensor("0", 1u << 28, {1 << 14, 1 << 14}).setitem().stop();
  ZipBuilder zip;
  zip.add("archive/data.pkl", p.bytes()).add_lying("archive/data/0", "", 1ull << 30, 1ull << 30);
  Outcome out = inspect_bytes(zip.bytes());
  EXPECT_EQ(out.code, ErrorCode::kCorrupt) << out.message;
}

TEST(Hostile, Zip64EntryClaimingTwoToTheSixtyBytesIsCorrupt) {
  PickleBuilder p;
  p.proto(2).empty_dict().str("w").tensor("0", 16, {4, 4}).setitem().stop();
  ZipBuilder zip;
  zip.add("archive/data.pkl", p.bytes()).add_lying("archive/data/0", std::string(64, '\0'), 1ull << 60, 1ull << 60);
  Outcome out = inspect_bytes(zip.bytes());
  EXPECT_EQ(out.code, ErrorCode::kCorrupt) << out.message;
}

TEST(Hostile, StoredEntryWithTwoDifferentSizesIsCorrupt) {
  PickleBuilder p;
  p.proto(2).empty_dict().str("w").tensor("0", 16, {4, 4}).setitem().stop();
  ZipBuilder zip;
  zip.add("archive/data.pkl", p.bytes()).add_lying("archive/data/0", "", 0, 64);
  Outcome out = inspect_bytes(zip.bytes());
  EXPECT_EQ(out.code, ErrorCode::kCorrupt) << out.message;
}

// The legacy stream: magic, protocol, sys_info, the object, the keys, then per storage an int64
// element count and the bytes.
std::string legacy_file(const std::vector<std::string>& keys, const std::vector<std::uint64_t>& counts, const std::string& referenced) {
  std::string out("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15);
  out += std::string("\x80\x02M\xe9\x03.", 6);  // 1001
  out += std::string("\x80\x02}.", 4);         // sys_info
  PickleBuilder object;
  object.proto(2).empty_dict().str("w").global("torch._utils", "_rebuild_tensor_v2").mark();
  object.mark().str("storage").global("torch", "FloatStorage").str(referenced).str("cpu").integer(16).none().tuple().binpersid();
  object.integer(0).ints({4, 4}).ints({4, 1}).boolean(false).global("collections", "OrderedDict").empty_tuple().reduce();
  object.tuple().reduce().setitem().stop();
  out += object.bytes();
  PickleBuilder list;
  list.proto(2).mark();
  for (const std::string& k : keys) list.str(k);
  list.list().stop();
  out += list.bytes();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    for (int b = 0; b < 8; ++b) out += static_cast<char>((counts[i] >> (8 * b)) & 0xFF);
    out += std::string(counts[i] * 4, '\0');
  }
  return out;
}

TEST(Hostile, LegacyStorageWalkDoesNotStopAtAnUnreferencedKey) {
  ASSERT_TRUE(inspect_bytes(legacy_file({"1"}, {16}, "1")).ok);
  // Before: the walk stopped at "0" (its element size unknown) and never checked "1".
  Outcome out = inspect_bytes(legacy_file({"0", "1"}, {4, 2}, "1"));
  EXPECT_EQ(out.code, ErrorCode::kCorrupt) << out.message;
  Outcome small = inspect_bytes(legacy_file({"1"}, {2}, "1"));
  EXPECT_EQ(small.code, ErrorCode::kCorrupt) << small.message;
}

TEST(Hostile, UnknownRebuildFunctionMakesTheCountNotExactNeverSilent) {
  Outcome out = inspect_bytes(state_dict_zip([](PickleBuilder& p) {
    p.global("torch._utils", "_rebuild_device_tensor_from_numpy").mark().none().global("torch", "float32").str("cpu").boolean(false).tuple().reduce();
  }));
  ASSERT_TRUE(out.ok) << out.message;
  EXPECT_FALSE(out.info.exact);
  EXPECT_NE(out.info.exact_reason.find("hostile (torch._utils._rebuild_device_tensor_from_numpy)"), std::string::npos)
      << out.info.exact_reason;
  // One that torch does not allow at all is refused outright.
  Outcome refused = inspect_bytes(state_dict_zip([](PickleBuilder& p) {
    p.global("torch._utils", "_rebuild_xla_tensor").mark().none().tuple().reduce();
  }));
  EXPECT_EQ(refused.code, ErrorCode::kUnsafePickle) << refused.message;
}

// --- Safety by allow list, through every call path ---------------------------------------------

void expect_refused(const std::function<void(PickleBuilder&)>& value, const std::string& names) {
  SCOPED_TRACE(names);
  Outcome out = inspect_bytes(state_dict_zip(value));
  EXPECT_EQ(out.code, ErrorCode::kUnsafePickle) << names << ": " << out.message;
  EXPECT_NE(out.message.find(names), std::string::npos) << out.message;
}

TEST(Hostile, CallsOutsideTheAllowListAreRefusedNamingTheCallable) {
  expect_refused([](PickleBuilder& p) {  // list(map(eval, ['1+1']))
    p.global("builtins", "list").global("builtins", "map").global("builtins", "eval").mark().str("1+1").list().tuple2().reduce().tuple1().reduce();
  }, "builtins.map");
  expect_refused([](PickleBuilder& p) {  // functools.partial(exec, 'x')()
    p.global("functools", "partial").global("builtins", "exec").str("x").tuple2().reduce().empty_tuple().reduce();
  }, "functools.partial");
  expect_refused([](PickleBuilder& p) { p.global("timeit", "timeit").str("x").tuple1().reduce(); }, "timeit.timeit");
  expect_refused([](PickleBuilder& p) { p.global("cProfile", "run").str("x").tuple1().reduce(); }, "cProfile.run");
  expect_refused([](PickleBuilder& p) { p.global("io", "open").str("/etc/passwd").tuple1().reduce(); }, "io.open");
  expect_refused([](PickleBuilder& p) {
    p.global("pydoc", "pipepager").str("x").str("sh -c id").tuple2().reduce();
  }, "pydoc.pipepager");
}

TEST(Hostile, EveryCallPathIsChecked) {
  expect_refused([](PickleBuilder& p) { p.global("subprocess", "Popen").str("id").tuple1().newobj(); }, "subprocess.Popen");
  expect_refused([](PickleBuilder& p) { p.global("posix", "system").str("id").tuple1().empty_dict().newobj_ex(); }, "posix.system");
  expect_refused([](PickleBuilder& p) { p.mark().str("id").inst("os", "system"); }, "os.system");
  expect_refused([](PickleBuilder& p) { p.mark().global("builtins", "eval").str("1").obj(); }, "builtins.eval");
  expect_refused([](PickleBuilder& p) { p.global("torch", "Size").empty_dict().build(); }, "torch.Size");
  expect_refused([](PickleBuilder& p) {  // a call nested in an allowed call's arguments
    p.global("torch", "Size").global("builtins", "eval").str("1").tuple1().reduce().tuple1().tuple1().reduce();
  }, "builtins.eval");
  expect_refused([](PickleBuilder& p) {  // calling what a call returned
    p.global("torch", "device").str("cpu").tuple1().reduce().empty_tuple().reduce();
  }, "the result of calling torch.device");
  expect_refused([](PickleBuilder& p) {
    p.global("copy_reg", "_reconstructor").mark().global("mymod", "C").global("builtins", "str").str("x").tuple().reduce();
  }, "copyreg._reconstructor");
}

TEST(Hostile, AllowedConstructorsAndPlainObjectsAreNotRefused) {
  Outcome out = inspect_bytes(state_dict_zip([](PickleBuilder& p) {
    p.mark().global("torch", "device").str("cuda").tuple1().reduce();
    p.global("collections", "Counter").empty_tuple().reduce();
    p.global("argparse", "Namespace").empty_tuple().newobj().empty_dict().build();
    p.tuple();
  }));
  ASSERT_TRUE(out.ok) << out.message;
  EXPECT_EQ(out.info.classes_needed, std::vector<std::string>{"argparse.Namespace"});
}

// --- Attribute values, partials and legacy module ids: inert where torch's loader is ----------

TEST(Hostile, GetattrOfAClassIsAnInertAttributeValue) {
  // An enum member as Python 3.11.2 pickles it: getattr(Color, "RED").
  Outcome out = inspect_bytes(state_dict_zip([](PickleBuilder& p) {
    p.global("builtins", "getattr").global("mymod", "Color").str("RED").tuple2().reduce();
  }));
  ASSERT_TRUE(out.ok) << out.message;
  EXPECT_EQ(out.info.num_parameters, 16u);
  EXPECT_EQ(out.info.classes_needed, (std::vector<std::string>{"builtins.getattr", "mymod.Color"}));
}

TEST(Hostile, GetattrOfAnythingElseIsRefused) {
  expect_refused([](PickleBuilder& p) {  // a blocked module's attribute
    p.global("builtins", "getattr").global("os", "path").str("join").tuple2().reduce();
  }, "builtins.getattr on os.path");
  expect_refused([](PickleBuilder& p) {  // of a call's result
    p.global("builtins", "getattr").global("torch", "device").str("cpu").tuple1().reduce().str("type").tuple2().reduce();
  }, "builtins.getattr");
  expect_refused([](PickleBuilder& p) {  // a dunder: __subclasses__, __init__, __globals__ ...
    p.global("builtins", "getattr").global("mymod", "Color").str("__subclasses__").tuple2().reduce();
  }, "builtins.getattr on mymod.Color");
  expect_refused([](PickleBuilder& p) {  // of an attribute value
    p.global("builtins", "getattr").global("builtins", "getattr").global("mymod", "A").str("b").tuple2().reduce();
    p.str("c").tuple2().reduce();
  }, "builtins.getattr");
  expect_refused([](PickleBuilder& p) {  // calling the attribute value
    p.global("builtins", "getattr").global("mymod", "Tool").str("run").tuple2().reduce().str("x").tuple1().reduce();
  }, "the attribute mymod.Tool.run (read by getattr)");
  expect_refused([](PickleBuilder& p) {  // making an object of it
    p.global("builtins", "getattr").global("mymod", "Tool").str("Inner").tuple2().reduce().empty_tuple().newobj();
  }, "the attribute mymod.Tool.Inner (read by getattr)");
  expect_refused([](PickleBuilder& p) {  // setting its state
    p.global("builtins", "getattr").global("mymod", "Tool").str("Inner").tuple2().reduce().empty_dict().build();
  }, "BUILD on a global");
}

TEST(Hostile, PartialOfAnAllowedGlobalIsInertAndOfABlockedOneRefused) {
  Outcome out = inspect_bytes(state_dict_zip([](PickleBuilder& p) {  // torchvision ViT's norm_layer
    p.global("functools", "partial").global("torch.nn.modules.normalization", "LayerNorm").tuple1().reduce();
  }));
  ASSERT_TRUE(out.ok) << out.message;
  EXPECT_EQ(out.info.classes_needed, (std::vector<std::string>{"functools.partial", "torch.nn.modules.normalization.LayerNorm"}));
  expect_refused([](PickleBuilder& p) { p.global("functools", "partial").global("posix", "system").str("id").tuple2().reduce(); },
                 "functools.partial of posix.system");
  expect_refused([](PickleBuilder& p) {  // calling the partial
    p.global("functools", "partial").global("mymod", "f").tuple1().reduce().empty_tuple().reduce();
  }, "the result of calling functools.partial");
}

// ('module', <class>, <source file>, <source>) as a persistent id: the legacy format's module class.
void module_id(PickleBuilder& p, const std::string& module, const std::string& name) {
  p.mark().str("module").global(module, name).str("net.py").str("class Net: ...").tuple().binpersid();
}

TEST(Hostile, LegacyModuleIdsNameTheirClassOnlyInTheLegacyFormat) {
  // The class of a legacy whole module goes through the same checks as a zip's.
  std::string head("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.\x80\x02M\xe9\x03.\x80\x02}.", 25);
  auto legacy_module = [&](const std::string& module, const std::string& name) {
    PickleBuilder object;
    object.proto(2);
    module_id(object, module, name);
    object.empty_tuple().newobj().empty_dict().mark();
    object.str("_parameters").global("collections", "OrderedDict").empty_tuple().reduce();
    object.str("_buffers").global("collections", "OrderedDict").empty_tuple().reduce();
    object.str("_modules").global("collections", "OrderedDict").empty_tuple().reduce();
    object.setitems().build().stop();
    PickleBuilder keys;
    keys.proto(2).empty_list().stop();
    return head + object.bytes() + keys.bytes();
  };
  Outcome read = inspect_bytes(legacy_module("mymod", "Net"));
  ASSERT_TRUE(read.ok) << read.message;
  EXPECT_EQ(read.info.type, "Net");
  EXPECT_EQ(read.info.classes_needed, std::vector<std::string>{"mymod.Net"});
  Outcome blocked = inspect_bytes(legacy_module("subprocess", "Popen"));
  EXPECT_EQ(blocked.code, ErrorCode::kUnsafePickle) << blocked.message;
  EXPECT_NE(blocked.message.find("subprocess.Popen"), std::string::npos) << blocked.message;
  // torch's zip loader knows no 'module' persistent id: making an object of one is refused there.
  PickleBuilder zip_object;
  zip_object.proto(2);
  module_id(zip_object, "mymod", "Net");
  zip_object.empty_tuple().newobj().stop();
  Outcome in_zip = inspect_bytes(ct::test::torch_zip(zip_object.bytes(), {}));
  EXPECT_EQ(in_zip.code, ErrorCode::kUnsafePickle) << in_zip.message;
}

// --- Bytes that are not in the file, names that mean two things ---------------------------------

TEST(Hostile, LegacyTensorOfAStorageTheKeyListLeavesOutIsCorrupt) {
  // The key list is empty: storage "1" has no bytes in the file (torch.load would leave it
  // uninitialised). Before: counted 16 parameters from nothing.
  Outcome out = inspect_bytes(legacy_file({}, {}, "1"));
  EXPECT_EQ(out.code, ErrorCode::kCorrupt) << out.message;
  EXPECT_NE(out.message.find("storage 1"), std::string::npos) << out.message;
  Outcome other = inspect_bytes(legacy_file({"2"}, {16}, "1"));  // a key list naming another storage
  EXPECT_EQ(other.code, ErrorCode::kCorrupt) << other.message;
}

TEST(Hostile, ZipEntriesWithOneNameAreRefused) {
  PickleBuilder a;
  a.proto(2).empty_dict().str("w").tensor("0", 16, {4, 4}).setitem().stop();
  PickleBuilder b;
  b.proto(2).empty_dict().str("w").tensor("0", 4, {2, 2}).setitem().stop();
  ZipBuilder twice;  // one reader takes the first data.pkl, another the last
  twice.add("archive/data.pkl", a.bytes()).add("archive/data/0", std::string(64, '\0')).add("archive/data.pkl", b.bytes());
  Outcome out = inspect_bytes(twice.bytes());
  EXPECT_EQ(out.code, ErrorCode::kCorrupt) << out.message;
  EXPECT_NE(out.message.find("two entries named archive/data.pkl"), std::string::npos) << out.message;
  ZipBuilder storage_twice;  // each large enough: only the repeat is wrong
  storage_twice.add("archive/data.pkl", a.bytes()).add("archive/data/0", std::string(64, '\0')).add("archive/data/0", std::string(64, '\1'));
  Outcome storage = inspect_bytes(storage_twice.bytes());
  EXPECT_EQ(storage.code, ErrorCode::kCorrupt) << storage.message;
  EXPECT_NE(storage.message.find("two entries named archive/data/0"), std::string::npos) << storage.message;
  ZipBuilder version_twice;
  version_twice.add("archive/data.pkl", a.bytes()).add("archive/data/0", std::string(64, '\0')).add("archive/version", "3\n").add("archive/version", "3\n");
  EXPECT_EQ(inspect_bytes(version_twice.bytes()).code, ErrorCode::kCorrupt);
  ZipBuilder two_folders;  // which data.pkl a reader takes depends on the reader
  two_folders.add("a/data.pkl", a.bytes()).add("a/data/0", std::string(64, '\0')).add("b/data.pkl", b.bytes());
  Outcome folders = inspect_bytes(two_folders.bytes());
  EXPECT_EQ(folders.code, ErrorCode::kCorrupt) << folders.message;
  EXPECT_NE(folders.message.find("two data.pkl"), std::string::npos) << folders.message;
}

// --- torch.distributed.checkpoint's .metadata: its own loader's constructors, no others ---------

std::string dcp_metadata(const std::function<void(PickleBuilder&)>& extra) {
  PickleBuilder p;
  p.proto(4).global("torch.distributed.checkpoint.metadata", "Metadata").empty_tuple().newobj();
  p.empty_dict().mark().str("state_dict_metadata").empty_dict().str("w");
  p.global("torch.distributed.checkpoint.metadata", "TensorStorageMetadata").empty_tuple().newobj();
  p.empty_dict().mark().str("size").global("torch", "Size").ints({4, 4}).tuple1().reduce();
  p.str("properties").global("torch.distributed.checkpoint.metadata", "TensorProperties").empty_tuple().newobj();
  p.mark().global("torch", "float32").none().boolean(false);
  extra(p);  // the memory format
  p.boolean(false).tuple().build();
  p.setitems().build().setitem();
  p.str("storage_meta").global("pathlib", "PosixPath").str("/ckpt").str("step_1").tuple2().reduce();
  p.setitems().build().stop();
  return p.bytes();
}

ct::ModelInfo read_dcp(const std::string& bytes) {
  ct::MemorySource source(bytes);
  return ct::summarize(ct::read_distributed_metadata(source, {}));
}

TEST(Hostile, DistributedMetadataReadsItsEnumsAndPathsAndNothingElse) {
  // torch 2.13 on Python 3.11.7: _MEM_FORMAT_ENCODING(0); on 3.11.2: getattr(_MEM_FORMAT_ENCODING, "...").
  auto by_value = [](PickleBuilder& p) {
    p.global("torch.distributed.checkpoint.metadata", "_MEM_FORMAT_ENCODING").integer(0).tuple1().reduce();
  };
  auto by_name = [](PickleBuilder& p) {
    p.global("builtins", "getattr").global("torch.distributed.checkpoint.metadata", "_MEM_FORMAT_ENCODING");
    p.str("TORCH_CONTIGUOUS_FORMAT").tuple2().reduce();
  };
  EXPECT_EQ(read_dcp(dcp_metadata(by_value)).num_parameters, 16u);
  EXPECT_EQ(read_dcp(dcp_metadata(by_name)).num_parameters, 16u);
  for (auto call : std::vector<std::function<void(PickleBuilder&)>>{
           [](PickleBuilder& p) { p.global("posix", "system").str("id").tuple1().reduce(); },
           [](PickleBuilder& p) { p.global("torch.distributed.checkpoint.metadata", "Metadata").empty_tuple().reduce(); },
           [](PickleBuilder& p) { p.global("builtins", "getattr").global("os", "path").str("join").tuple2().reduce(); },
       }) {
    try {
      read_dcp(dcp_metadata(call));
      ADD_FAILURE() << "no error";
    } catch (const ct::CheckpointError& error) {
      EXPECT_EQ(error.code(), ErrorCode::kUnsafePickle) << error.what();
    }
  }
  // What DCP's loader allows is not allowed in a torch.save archive (pathlib is a blocked module).
  expect_refused([](PickleBuilder& p) { p.global("pathlib", "PosixPath").str("/x").tuple1().reduce(); }, "pathlib.PosixPath");
  expect_refused([](PickleBuilder& p) {
    p.global("torch.distributed.checkpoint.metadata", "_MEM_FORMAT_ENCODING").integer(0).tuple1().reduce();
  }, "_MEM_FORMAT_ENCODING");
}

TEST(Hostile, GlobalsCombinedFromMemoisedNamesAreBoundedInNumber) {
  // 64 x 64 module and class names of 1,000 bytes each, memoised once, combined by STACK_GLOBAL into
  // 4,096 distinct 2 KiB names: the list of globals outside the allow list stops at its limit.
  ct::PickleLimits limits;
  limits.max_classes_needed = 1000;
  std::optional<ErrorCode> code = machine_error([](PickleBuilder& p) {
    for (int i = 0; i < 128; ++i) p.str(std::string(1000, static_cast<char>('a' + i % 26)) + std::to_string(i)).put(i).pop_value();
    p.empty_list();
    for (int m = 0; m < 64; ++m) {
      for (int n = 64; n < 128; ++n) p.get(m).get(n).op('\x93').append();
    }
  }, limits);
  EXPECT_EQ(code, ErrorCode::kLimitExceeded);
}
