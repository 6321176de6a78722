"""Writes the checkpoints for `npm run bench`: two with the same structure, 240 tensors (a 24-block
transformer-like state dict) scaled to ~2 MiB and ~2 GiB, and one of 100,000 small tensors (~36 MiB).
Run by bench/checkpoints.js when they are missing: /usr/bin/python3 bench/make_checkpoints.py OUT_DIR"""
import collections
import os
import sys

import torch

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def state_dict(width):
    sd = collections.OrderedDict()
    sd["embed.weight"] = torch.zeros(64, width)
    for i in range(24):
        for name in ("q", "k", "v", "o", "up"):
            sd[f"blocks.{i}.{name}.weight"] = torch.zeros(width, width)
            sd[f"blocks.{i}.{name}.bias"] = torch.zeros(width)
    sd["head.weight"] = sd["embed.weight"]  # tied, as in GPT-2
    return sd


for name, width in (("small_2MiB.pt", 64), ("large_2GiB.pt", 2048)):
    path = os.path.join(out, name)
    if not os.path.exists(path):
        torch.save(state_dict(width), path)
    print(name, os.path.getsize(path))

# A state dict of 100,000 small tensors (MoE-scale tensor counts), 16 elements each.
many = os.path.join(out, "many_100k_tensors.pt")
if not os.path.exists(many):
    sd = collections.OrderedDict()
    for i in range(100_000):
        sd[f"layers.{i // 300}.experts.{i % 300}.weight"] = torch.zeros(4, 4)
    torch.save(sd, many)
print("many_100k_tensors.pt", os.path.getsize(many))
