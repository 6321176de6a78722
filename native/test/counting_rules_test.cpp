// The counting rules summarize applies to what a reader found: the table of buffer names with
// the tensors each rule must leave alone, `exact` never true where a name decided a role, and the
// architecture from key patterns (every family's convention, or null). The files torch wrote are
// checked in model_info_test.cpp and test/checkpoint-zoo.test.ts; these are the rules' edges.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "architecture.h"
#include "buffer_names.h"
#include "checkpoint_contents.h"
#include "model_info.h"

namespace {

struct Tensor {
  std::string name;
  std::vector<std::int64_t> shape;
  const char* dtype = "float32";
};

ct::CheckpointContents contents_of(const std::vector<Tensor>& tensors) {
  ct::CheckpointContents c;
  c.format = "torch-zip";
  for (const Tensor& t : tensors) {
    ct::TensorRecord& r = c.tensors.emplace_back();
    r.name = c.text.copy(t.name);
    r.identity = c.text.copy("id:" + t.name);
    r.dtype = t.dtype;
    r.element_bits = std::string(t.dtype) == "int64" ? 64 : std::string(t.dtype) == "bool" ? 8 : 32;
    r.numel = 1;
    for (std::int64_t d : t.shape) {
      r.shape.push_back(d);
      r.numel *= static_cast<std::uint64_t>(d);
    }
  }
  return c;
}

std::uint64_t buffer_elements(const std::vector<Tensor>& tensors) {
  return ct::summarize(contents_of(tensors)).num_buffer_elements;
}

TEST(CountingRules, BufferNamesAreReadWithTheirShapesDtypesAndNeighbours) {
  struct Case {
    std::vector<Tensor> tensors;
    std::uint64_t buffers;
  };
  const std::vector<Case> cases = {
      // GPT-2's causal mask (uint8 or bool, 1 x 1 x n x n) and masked_bias; a Linear named attn.
      {{{"h.0.attn.bias", {1, 1, 8, 8}, "uint8"}, {"h.0.attn.masked_bias", {}}}, 65},
      {{{"h.0.attn.bias", {1, 1, 8, 8}, "bool"}}, 64},
      {{{"h.0.attn.bias", {8, 8}, "bool"}}, 64},
      {{{"attn.weight", {8, 8}}, {"attn.bias", {8}}}, 0},
      {{{"h.0.attn.masked_bias", {4}}}, 0},
      // The lecture's tril; a 2-D tensor that is not square is not a mask.
      {{{"blocks.0.sa.heads.0.tril", {16, 16}}}, 256},
      {{{"blocks.0.sa.heads.0.tril", {16, 8}}}, 0},
      // mask / causal_mask / attn_mask: shaped as masks, or (windows, n, n) for Swin's.
      {{{"attn.mask", {1, 1, 4, 4}}, {"attn.causal_mask", {1, 1, 4, 4}}, {"blocks.1.attn_mask", {4, 9, 9}}}, 16 + 16 + 324},
      {{{"mask", {16, 16}}}, 0},
      // The tutorial's pe (max_len, 1, d) and The Annotated Transformer's (1, max_len, d); a
      // learned table (max_len, d) is a parameter.
      {{{"pos_encoder.pe", {50, 1, 4}}, {"pe", {1, 50, 4}}}, 400},
      {{{"pe", {50, 4}}}, 0},
      // inv_freq is 1-D; position_ids and relative_position_index are integers.
      {{{"rotary_emb.inv_freq", {8}}, {"embeddings.position_ids", {1, 32}, "int64"}}, 40},
      {{{"rotary_emb.inv_freq", {8, 2}}, {"embeddings.position_ids", {1, 32}}}, 0},
      {{{"attn.relative_position_index", {49}, "int64"}, {"attn.relative_position_bias_table", {169, 3}}}, 49},
      {{{"attn.relative_coords_table", {1, 13, 13, 2}}}, 338},
      // A quantized module's scale and zero point go together; a learned scale alone is a parameter.
      {{{"fc.scale", {}}, {"fc.zero_point", {}, "int64"}}, 2},
      {{{"norm.scale", {}}}, 0},
      {{{"fc.scale", {4}}, {"fc.zero_point", {4}, "int64"}}, 0},
      // BatchNorm: with num_batches_tracked its weight and bias are parameters; without it (as
      // torchvision's FrozenBatchNorm2d) all four are buffers.
      {{{"bn.weight", {8}}, {"bn.bias", {8}}, {"bn.running_mean", {8}}, {"bn.running_var", {8}}, {"bn.num_batches_tracked", {}, "int64"}}, 17},
      {{{"bn.weight", {8}}, {"bn.bias", {8}}, {"bn.running_mean", {8}}, {"bn.running_var", {8}}}, 32},
      {{{"bn.weight", {8}}, {"bn.bias", {8}}, {"other.running_mean", {8}}}, 8},
  };
  for (const Case& c : cases) {
    std::string names;
    for (const Tensor& t : c.tensors) names += t.name + " ";
    EXPECT_EQ(buffer_elements(c.tensors), c.buffers) << names;
  }
}

// docs/checkpoints.md lists the table for users: every rule, with its source word for word, on a
// row that names it.
TEST(CountingRules, TheDocumentedTableIsTheCodesTable) {
  std::ifstream in(std::string(FIXTURES_DIR) + "/../../docs/checkpoints.md");
  std::vector<std::string> rows;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("  | `", 0) == 0) rows.push_back(line);
  }
  ASSERT_GE(rows.size(), 10u);
  for (const ct::BufferRule& rule : ct::buffer_rules()) {
    bool documented = false;
    for (const std::string& row : rows) {
      documented = documented || (row.find("`" + std::string(rule.name) + "`") != std::string::npos &&
                                  row.find(std::string("| ") + rule.source + " |") != std::string::npos);
    }
    EXPECT_TRUE(documented) << rule.name << ": " << rule.source;
  }
}

TEST(CountingRules, TheReasonSaysWhatTheNamesDecided) {
  std::vector<Tensor> lecture;
  for (int block = 0; block < 6; ++block) {
    for (int head = 0; head < 6; ++head) {
      lecture.push_back({"blocks." + std::to_string(block) + ".sa.heads." + std::to_string(head) + ".tril", {256, 256}});
    }
  }
  lecture.push_back({"lm_head.weight", {65, 384}});
  ct::ModelInfo info = ct::summarize(contents_of(lecture));
  EXPECT_FALSE(info.exact);
  EXPECT_NE(info.exact_reason.find("36 tensors named `tril` (256x256) counted as buffers by name"), std::string::npos)
      << info.exact_reason;
}

// With optimizer state for every trainable parameter, the roles are complete: `exact` then turns
// on whether a name decided any of them.
TEST(CountingRules, ExactNeedsRolesNoNameDecided) {
  auto with_adam = [](std::vector<Tensor> tensors, std::vector<std::vector<std::int64_t>> trained) {
    ct::CheckpointContents c = contents_of(tensors);
    ct::OptimizerFacts facts;
    facts.param_ids = trained.size();
    for (const auto& shape : trained) {
      ct::Shape s;
      for (std::int64_t d : shape) s.push_back(d);
      facts.trained_shapes.push_back(s);
    }
    c.optimizer = facts;
    return ct::summarize(std::move(c));
  };
  // Everything trained but a buffer named nothing known: nothing is frozen, so it is a buffer.
  ct::ModelInfo masked = with_adam({{"w.weight", {4, 4}}, {"w.bias", {4}}, {"lookup", {4, 4}}}, {{4, 4}, {4}});
  EXPECT_TRUE(masked.exact) << masked.exact_reason;
  EXPECT_EQ(masked.num_buffer_elements, 16u);
  // A FrozenBatchNorm2d group beside a trained head: its weight and bias are untrained and named
  // like parameters; the group rule makes all four buffers, and says so.
  ct::ModelInfo frozen_bn = with_adam({{"bn.weight", {8}}, {"bn.bias", {8}}, {"bn.running_mean", {8}}, {"bn.running_var", {8}},
                                       {"head.weight", {2, 8}}, {"head.bias", {2}}},
                                      {{2, 8}, {2}});
  EXPECT_EQ(frozen_bn.num_buffer_elements, 32u);
  EXPECT_EQ(frozen_bn.num_parameters, 18u);
  EXPECT_FALSE(frozen_bn.exact) << frozen_bn.exact_reason;
  EXPECT_NE(frozen_bn.exact_reason.find("without num_batches_tracked"), std::string::npos) << frozen_bn.exact_reason;
  // A frozen layer is a parameter by its name: not exact either.
  ct::ModelInfo frozen = with_adam({{"a.weight", {4, 4}}, {"b.weight", {2, 4}}}, {{2, 4}});
  EXPECT_EQ(frozen.num_trainable_parameters, 8u);
  EXPECT_EQ(frozen.num_parameters, 24u);
  EXPECT_FALSE(frozen.exact) << frozen.exact_reason;
}

TEST(CountingRules, PackedTensorsAreParametersTorchDoesNotTrain) {
  ct::CheckpointContents c = contents_of({{"fc._packed_params._packed_params.0", {3, 8}, "int64"},
                                          {"fc._packed_params._packed_params.1", {3}},
                                          {"embed.weight", {10, 8}}});
  c.tensors[0].packed = true;
  c.tensors[1].packed = true;
  ct::ModelInfo info = ct::summarize(std::move(c));
  EXPECT_EQ(info.num_parameters, 24u + 3u + 80u);
  EXPECT_EQ(info.num_trainable_parameters, 80u);
}

// --- Architecture from key patterns ---------------------------------------------------------------

ct::ArchitectureFields architecture_of(const std::vector<Tensor>& tensors) {
  return ct::summarize(contents_of(tensors)).architecture;
}

// torchvision's ResNet state dict names: BasicBlock (conv1, conv2) or Bottleneck (conv1..3).
std::vector<Tensor> resnet(const std::vector<int>& blocks, bool bottleneck, const std::string& prefix = "") {
  std::vector<Tensor> out = {{prefix + "conv1.weight", {64, 3, 7, 7}}, {prefix + "bn1.weight", {64}}};
  for (int stage = 0; stage < 4; ++stage) {
    for (int b = 0; b < blocks[stage]; ++b) {
      std::string block = prefix + "layer" + std::to_string(stage + 1) + "." + std::to_string(b) + ".";
      for (int conv = 1; conv <= (bottleneck ? 3 : 2); ++conv) {
        out.push_back({block + "conv" + std::to_string(conv) + ".weight", {64, 64, 3, 3}});
        out.push_back({block + "bn" + std::to_string(conv) + ".weight", {64}});
        out.push_back({block + "bn" + std::to_string(conv) + ".bias", {64}});
      }
      if (b == 0 && stage > 0) out.push_back({block + "downsample.0.weight", {64, 64, 1, 1}});
    }
  }
  out.push_back({prefix + "fc.weight", {1000, 512}});
  return out;
}

TEST(CountingRules, ResNetDepthFollowsTheFamilysConvention) {
  EXPECT_EQ(architecture_of(resnet({2, 2, 2, 2}, false)).num_layers, 18);
  EXPECT_EQ(architecture_of(resnet({3, 4, 6, 3}, false)).num_layers, 34);
  EXPECT_EQ(architecture_of(resnet({3, 4, 6, 3}, true)).num_layers, 50);
  EXPECT_EQ(architecture_of(resnet({3, 4, 23, 3}, true)).num_layers, 101);
  EXPECT_EQ(architecture_of(resnet({3, 8, 36, 3}, true)).num_layers, 152);
  // Under DataParallel's prefix too; inside a detection model it is a backbone, not the model.
  EXPECT_EQ(architecture_of(resnet({2, 2, 2, 2}, false, "module.")).num_layers, 18);
  EXPECT_EQ(architecture_of(resnet({2, 2, 2, 2}, false, "backbone.body.")).num_layers, std::nullopt);
  // Before: the one stage list whose blocks were alike (layer1: 2 blocks) gave "2 layers".
  std::vector<Tensor> no_stem = resnet({2, 2, 2, 2}, false);
  no_stem.erase(no_stem.begin());
  EXPECT_EQ(architecture_of(no_stem).num_layers, std::nullopt);
}

TEST(CountingRules, EmbeddingsAndBlocksOfTheMostCopiedModels) {
  // Karpathy's lecture: token_embedding_table / position_embedding_table, blocks.<i>.
  std::vector<Tensor> lecture = {{"token_embedding_table.weight", {65, 384}}, {"position_embedding_table.weight", {256, 384}}};
  for (int i = 0; i < 6; ++i) {
    for (const char* part : {"sa.proj.weight", "sa.proj.bias", "ffwd.net.0.weight", "ln1.weight", "ln2.weight"}) {
      lecture.push_back({"blocks." + std::to_string(i) + "." + part, {384}});
    }
  }
  ct::ArchitectureFields a = architecture_of(lecture);
  EXPECT_EQ(a.vocab_size, 65);
  EXPECT_EQ(a.d_model, 384);
  EXPECT_EQ(a.max_seq_len, 256);
  EXPECT_EQ(a.num_layers, 6);
  // PyTorch's transformer tutorial: the model's own embedding.weight; a codebook deeper down is not.
  std::vector<Tensor> tutorial = {{"embedding.weight", {28782, 200}}, {"linear.weight", {28782, 200}}};
  for (int i = 0; i < 2; ++i) {
    for (const char* part : {"self_attn.in_proj_weight", "self_attn.out_proj.weight", "linear1.weight", "norm1.weight"}) {
      tutorial.push_back({"transformer_encoder.layers." + std::to_string(i) + "." + part, {200}});
    }
  }
  a = architecture_of(tutorial);
  EXPECT_EQ(a.vocab_size, 28782);
  EXPECT_EQ(a.d_model, 200);
  EXPECT_EQ(a.num_layers, 2);
  EXPECT_EQ(architecture_of({{"quantizer.embedding.weight", {512, 64}}}).vocab_size, std::nullopt);
  // OPT's (and BART's) position table holds its context plus two rows: no context from it.
  a = architecture_of({{"model.decoder.embed_tokens.weight", {50272, 768}}, {"model.decoder.embed_positions.weight", {2050, 768}}});
  EXPECT_EQ(a.vocab_size, 50272);
  EXPECT_EQ(a.max_seq_len, std::nullopt);
  // torchvision's VisionTransformer: encoder_layer_<i>, class_token (1, 1, d_model).
  std::vector<Tensor> vit = {{"class_token", {1, 1, 768}}, {"encoder.pos_embedding", {1, 197, 768}}};
  for (int i = 0; i < 12; ++i) {
    for (const char* part : {"ln_1.weight", "self_attention.in_proj_weight", "mlp.0.weight", "ln_2.weight"}) {
      vit.push_back({"encoder.layers.encoder_layer_" + std::to_string(i) + "." + part, {768}});
    }
  }
  a = architecture_of(vit);
  EXPECT_EQ(a.d_model, 768);
  EXPECT_EQ(a.num_layers, 12);
  EXPECT_EQ(a.vocab_size, std::nullopt);
}

TEST(CountingRules, TwoListsOfBlocksLeaveTheLayerCountUnknown) {
  std::vector<Tensor> encoder_decoder;
  for (const char* side : {"encoder", "decoder"}) {
    for (int i = 0; i < 3; ++i) {
      for (const char* part : {"attn.q.weight", "attn.k.weight", "attn.v.weight", "ffn.weight"}) {
        encoder_decoder.push_back({std::string(side) + ".layers." + std::to_string(i) + "." + part, {8}});
      }
    }
  }
  EXPECT_EQ(architecture_of(encoder_decoder).num_layers, std::nullopt);
  encoder_decoder.resize(12);  // the encoder alone
  EXPECT_EQ(architecture_of(encoder_decoder).num_layers, 3);
}

}  // namespace
