"""What a user would otherwise run: the Python ConfigTracker's save_config, as the original did it
(import torch for the hardware facts, git through subprocess, json.dump). Used by bench/run.js."""
import datetime
import json
import os
import platform
import subprocess
import sys

import torch

out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)
try:
    git_hash = subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], stderr=subprocess.DEVNULL).decode().strip()
except Exception:
    git_hash = None
hardware = {
    "platform": platform.platform(),
    "python_version": platform.python_version(),
    "torch_version": torch.__version__,
    "gpu_available": torch.cuda.is_available(),
    "gpu_count": torch.cuda.device_count(),
    "gpu_model": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    "cuda_version": torch.version.cuda,
}
record = {
    "experiment_id": os.path.basename(out_dir),
    "timestamp": datetime.datetime.now().isoformat(),
    "git_hash": git_hash,
    "config": {"lr": 3e-4, "batch_size": 64},
    "hardware": hardware,
}
with open(os.path.join(out_dir, "config.json"), "w") as f:
    json.dump(record, f, indent=2)
