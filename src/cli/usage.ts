export const USAGE = `Usage: config-tracker <command> [options]

Commands:
  run [options] -- <cmd>   run a training command and record it: config, output, metrics,
                           checkpoints, GPU and process samples, results (run --help)
  sweep --grid G -- <cmd>  run every combination of a grid as a \`run\`, on free GPUs or as a
                           SLURM job array (sweep --help)
  hardware [--json]        GPUs (NVML), driver and CUDA versions, CPU, memory, torch
  inspect <path> [--json]  parameter counts and architecture of a checkpoint file or folder
                           (torch.save zip or legacy, TorchScript, safetensors, sharded
                           *.index.json, Hugging Face folder, torch.distributed.checkpoint)
  help                     this text

Options:
  --json                   print JSON instead of the readable summary
  -h, --help               this text
  -v, --version            the package version

Environment:
  CUDA_VISIBLE_DEVICES          applied as CUDA applies it
  CONFIG_TRACKER_NVML_LIBRARY   path of libnvidia-ml.so.1 to load
  CONFIG_TRACKER_CUDA_LIBRARY   path of libcuda.so.1 to load
  CONFIG_TRACKER_ADDON          path of a built config_tracker.node
`;
