"""A real torch.save file over 4 GiB (entries past the 4 GiB mark need ZIP64 offsets), and the
counts torch computes for it. Run by `npm run bench -- --zip64`:
    /usr/bin/python3 bench/make_zip64.py OUT_DIR  ->  prints {"path", "bytes", "num_parameters", ...}"""
import collections
import json
import os
import sys

import torch

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
path = os.path.join(out, "over_4GiB.pt")
sd = collections.OrderedDict()
for i in range(300):
    sd[f"layers.{i}.weight"] = torch.zeros(2048, 2048)
sd["head.weight"] = sd["layers.0.weight"]
if not os.path.exists(path):
    torch.save(sd, path)
distinct = {id(t): t for t in sd.values()}
print(json.dumps({"path": path, "bytes": os.path.getsize(path),
                  "num_parameters": sum(t.numel() for t in distinct.values()), "num_tensors": len(distinct)}))
