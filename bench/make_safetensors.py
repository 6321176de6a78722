"""Writes the ~100,000-tensor safetensors file of the safetensors benchmark (bench/safetensors.js):
an MoE-shaped state dict (per layer: attention, norms, a router and 256 experts x 3 matrices) laid
out as safetensors' reference writer lays it out: header = u64 LE length + JSON (sorted by dtype
alignment then name, dense offsets, padded with spaces to 8 bytes), then the data: ~12 MB of
header and ~210 MB of zeros, written as a sparse file (only the header is read).
Prints {"path", "bytes", "header_bytes", "tensors", "parameters"} as JSON.

Run: /usr/bin/python3 bench/make_safetensors.py OUT_DIR
"""
import json
import os
import struct
import sys

EXPERTS = 256
LAYERS = 129  # 776 tensors a layer: 100,107 tensors in all
SIZES = {"BF16": 2, "F32": 4}


def names():
    # model.layers.L.{attention, norms, router, 256 experts x gate/up/down}: 776 tensors a layer.
    for layer in range(LAYERS):
        p = f"model.layers.{layer}."
        yield p + "input_layernorm.weight", "F32", [64]
        yield p + "post_attention_layernorm.weight", "F32", [64]
        for m in ("q_proj", "k_proj", "v_proj", "o_proj"):
            yield p + f"self_attn.{m}.weight", "BF16", [64, 64]
        yield p + "mlp.gate.weight", "BF16", [EXPERTS, 64]
        yield p + "mlp.gate.e_score_correction_bias", "F32", [EXPERTS]
        for e in range(EXPERTS):
            for m, shape in (("gate_proj", [16, 64]), ("up_proj", [16, 64]), ("down_proj", [64, 16])):
                yield p + f"mlp.experts.{e}.{m}.weight", "BF16", shape


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "moe_100k.safetensors")
    entries = [("model.embed_tokens.weight", "BF16", [1024, 64]), ("model.norm.weight", "F32", [64]),
               ("lm_head.weight", "BF16", [1024, 64])]
    entries += list(names())
    entries.sort(key=lambda e: (-SIZES[e[1]], e[0]))
    header, offset, params = {"__metadata__": {"format": "pt"}}, 0, 0
    for name, dtype, shape in entries:
        numel = 1
        for d in shape:
            numel *= d
        params += numel
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + numel * SIZES[dtype]]}
        offset += numel * SIZES[dtype]
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    if not os.path.exists(path) or os.path.getsize(path) != 8 + len(text) + offset:
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            f.truncate(8 + len(text) + offset)  # the data: zeros (sparse where the filesystem allows)
    print(json.dumps({"path": path, "bytes": 8 + len(text) + offset, "header_bytes": len(text),
                      "tensors": len(entries), "parameters": params}))


if __name__ == "__main__":
    main(sys.argv[1])
