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
  ls [ROOT]                one line per run under ROOT (default runs/, any depth): status,
                           start, duration, git, GPUs, parameters, final metrics
                           [--sort KEY] [--sort=-KEY] [--metrics a,b] [--json]
  show <run> [--json]      one run: status, times, git, hardware, model, dataset, metrics,
                           resumes, ranks and nodes, GPU summary, checkpoints
  diff <a> <b>             what differs (config, hardware, git, model, dataset, final
                           metrics) as dotted keys [--all] [--json]; exit 0 same, 1 different
  compare <run|ROOT>...    the runs side by side: differing config keys, metrics, GPU, git
                           [--html report.html] (one self-contained page with charts)
                           [--metrics a,b] [--json]
  ui [ROOT...]             a live dashboard of the runs under ROOT (default runs/) in the
                           browser: table, filters, charts, run pages, notes and tags
                           [--host 127.0.0.1] [--port 6007] [--open] [--poll]
  help                     this text

Options:
  --json                   print JSON instead of the readable summary
  -h, --help               this text
  -v, --version            the package version

Environment:
  CUDA_VISIBLE_DEVICES          applied as CUDA applies it (and HIP, on AMD GPUs)
  ROCR_VISIBLE_DEVICES, HIP_VISIBLE_DEVICES
                                applied as ROCm applies them
  CONFIG_TRACKER_NVML_LIBRARY   path of libnvidia-ml.so.1 to load
  CONFIG_TRACKER_CUDA_LIBRARY   path of libcuda.so.1 to load
  CONFIG_TRACKER_ROCM_SMI_LIBRARY
                                path of librocm_smi64 to load (ROCm SMI)
  CONFIG_TRACKER_HIP_LIBRARY    path of libamdhip64 to read the HIP version from
  CONFIG_TRACKER_ADDON          path of a built config_tracker.node
`;
