/**
 * Peak dense BF16 matrix throughput per GPU model (NVIDIA's tensor cores, AMD's matrix cores), the
 * denominator of MFU.
 *
 * MFU here = achieved model FLOP/s / (sum over the run's GPUs of peak dense BF16 FLOP/s).
 * See docs/mfu-table.md for the table, the sources and what is deliberately left out.
 *
 * Rules every figure follows:
 * - DENSE: no 2:4 structured sparsity. Where NVIDIA prints only the sparse figure (marked
 *   "*" or "²" and footnoted "With sparsity"), it is halved here and the note says so.
 * - BF16 inputs with FP32 accumulation, the only accumulator BF16 tensor-core MMA has and the
 *   one torch/cuBLAS use. GeForce cards run FP16/BF16 with FP32 accumulate at half their
 *   FP16-accumulate rate; their FP32-accumulate row is the one used, and the note says so.
 * - A figure is only listed when it has a source; a model without one is left out (it gets
 *   "unknown model" from peakBf16Flops), never given a neighbour's figure.
 *
 * `match` is tested against the device name NVML reports (nvmlDeviceGetName, which is what
 * `nvidia-smi --query-gpu=name` prints): "NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-80GB",
 * "NVIDIA GeForce RTX 4090", ... Drivers before about R465 printed the same names without the
 * "NVIDIA " prefix ("A100-SXM4-40GB", "GeForce RTX 3090", "Tesla V100-SXM2-16GB"), so every
 * pattern accepts it as optional. The first entry that matches wins: more specific patterns
 * come first ("H100 NVL" and "H100 PCIe" before the generic H100).
 *
 * MIG: NVML names a MIG device after its parent plus the profile, e.g.
 * "NVIDIA H100 80GB HBM3 MIG 1g.10gb" or "NVIDIA B200 MIG 1g.23gb". A MIG slice owns only a
 * fraction of the parent's SMs, so the parent's peak would be wrong by up to 7x. Such names get
 * no match at all (checked before the table), and peakBf16Flops says why.
 *
 * AMD: the name ROCm SMI reports (rsmi_dev_name_get: the board's product name, "AMD Instinct
 * MI300X", else the PCI ID database's, "Aqua Vanjaram [Instinct MI300X]"). The figure is per GPU
 * the runtime shows: an MI250X or MI250 is two GCDs, each its own GPU, so each gets half the
 * package's figure. A GPU split into compute partitions is named with its mode by the addon
 * ("AMD Instinct MI300X (CPX partition)"): like a MIG slice, no figure. AMD's CDNA 2 has no
 * sparsity and prints dense figures; CDNA 3 and 4 print dense and with-sparsity figures side by
 * side: the dense one is used.
 */

export interface GpuPeak {
  /** Human-readable model / form factor. */
  name: string;
  /** Peak dense BF16 tensor TFLOPS with FP32 accumulate; 0 for GPUs without BF16 tensor cores. */
  bf16DenseTflops: number;
  /** URL of the datasheet / whitepaper / spec page the figure comes from, plus its words. */
  source: string;
  note?: string;
}

type GpuPeakEntry = GpuPeak & { match: RegExp };

/** A MIG device name: "<parent name> MIG <profile>". */
const MIG_NAME = /\sMIG\s/i;
/** An AMD compute partition, as the addon names it: "<name> (CPX partition)". */
const PARTITION_NAME = /\(\w+ partition\)/i;
/** Names that stand for more than one model: the PCI ID database's name for device 0x740c. */
const AMBIGUOUS_NAME = /MI250X\/MI250\b/i;

const H100_DATASHEET =
  "https://www.nvidia.com/en-us/data-center/h100/ (H100 datasheet, also https://resources.nvidia.com/en-us-tensor-core/nvidia-tensor-core-gpu-datasheet)";
const H200_PAGE = "https://www.nvidia.com/en-us/data-center/h200/";
const A100_DATASHEET =
  "https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf";
const A100_WHITEPAPER =
  "https://images.nvidia.com/aem-dam/en-zz/Solutions/data-center/nvidia-ampere-architecture-whitepaper.pdf";
const GA102_WHITEPAPER = "https://www.nvidia.com/content/PDF/nvidia-ampere-ga-102-gpu-architecture-whitepaper-v2.pdf";
const ADA_WHITEPAPER = "https://images.nvidia.com/aem-dam/Solutions/geforce/ada/nvidia-ada-gpu-architecture.pdf";
const RTX_BLACKWELL_WHITEPAPER =
  "https://images.nvidia.com/aem-dam/Solutions/geforce/blackwell/nvidia-rtx-blackwell-gpu-architecture.pdf";
const L40_L40S_NOTE_SAME_DIE =
  "L40 and L40S are the same AD102 configuration (142 SMs); NVIDIA prints 181.05 for the L40 and 362.05 for the L40S.";

const HALVED = "NVIDIA prints only the with-sparsity figure here; halved to the dense figure.";
const CDNA2_WHITEPAPER = "https://www.amd.com/system/files/documents/amd-cdna2-white-paper.pdf";
const CDNA3_WHITEPAPER =
  "https://www.amd.com/content/dam/amd/en/documents/instinct-tech-docs/white-papers/amd-cdna-3-white-paper.pdf";
const CDNA4_WHITEPAPER =
  "https://www.amd.com/content/dam/amd/en/documents/instinct-tech-docs/white-papers/amd-cdna-4-architecture-whitepaper.pdf";
const PER_GCD =
  "Two GCDs per package, each a GPU of its own to ROCm and torch: the package's figure halved per GPU.";
const NO_BF16 = "No BF16 tensor cores";

export const GPU_PEAKS: ReadonlyArray<GpuPeakEntry> = [
  // ---- Hopper -------------------------------------------------------------------------------
  {
    name: "NVIDIA H100 NVL (PCIe card, 94 GB)",
    match: /^(?:NVIDIA )?H100 NVL\b/i,
    bf16DenseTflops: 835.5,
    source: `${H100_DATASHEET}: H100 NVL column, BFLOAT16 Tensor Core 1,671 teraFLOPS, footnoted as with sparsity`,
    note:
      `${HALVED} PyTorch Lightning's _CUDA_FLOPS["h100 nvl"] BF16 is 1978.8e12, exactly twice its H100 SXM ` +
      "figure (as are its other NVL figures), i.e. a two-board figure from when NVIDIA sold the NVL as a " +
      "pair; torchtitan uses 835e12.",
  },
  {
    name: "NVIDIA H100 PCIe (80 GB)",
    // "NVIDIA H100 PCIe"; Lambda's H100 PCIe instances report "NVIDIA H100 80GB HBM2e" (the PCIe
    // board is the HBM2e part, SXM5 is HBM3).
    match: /^(?:NVIDIA )?H100\b.*\b(?:PCIe|HBM2e)\b/i,
    bf16DenseTflops: 756.5,
    source:
      `${H100_DATASHEET}: 2022 revision, H100 PCIe column, "BFLOAT16 Tensor Core 1,513 TFLOPS*", ` +
      '"* Shown with sparsity. Specifications 1/2 lower without sparsity."',
    note:
      `${HALVED} The current page lists H100 SXM and H100 NVL only; the PCIe column is in the ` +
      "2022 datasheet (torchtitan: 756e12).",
  },
  {
    name: "NVIDIA H100 SXM5 (80 GB)",
    // "NVIDIA H100 80GB HBM3", and any other H100 name not caught above.
    match: /^(?:NVIDIA )?H100\b/i,
    bf16DenseTflops: 989.5,
    source:
      `${H100_DATASHEET}: H100 SXM column (2022 and current revisions), "BFLOAT16 Tensor Core 1,979 TFLOPS*", ` +
      '"* Shown with sparsity. Specifications 1/2 lower without sparsity."',
    note:
      `${HALVED} The H100 whitepaper prints 989.4 dense (at 1,830 MHz); 989.5 is the datasheet ` +
      "figure halved. Names not matched by the NVL/PCIe entries fall here, i.e. are assumed SXM5.",
  },
  {
    name: "NVIDIA H200 NVL (PCIe card, 141 GB)",
    match: /^(?:NVIDIA )?H200 NVL\b/i,
    bf16DenseTflops: 835.5,
    source: `${H200_PAGE}: H200 NVL column, BFLOAT16 Tensor Core 1,671 TFLOPS, footnoted as with sparsity`,
    note: HALVED,
  },
  {
    name: "NVIDIA H200 SXM (141 GB)",
    // "NVIDIA H200", "NVIDIA H200 141GB HBM3e". Does not match "NVIDIA H20" or "NVIDIA GH200 ...".
    match: /^(?:NVIDIA )?H200\b/i,
    bf16DenseTflops: 989.5,
    source: `${H200_PAGE}: H200 SXM column, BFLOAT16 Tensor Core 1,979 TFLOPS, footnoted as with sparsity`,
    note: `${HALVED} Same compute as H100 SXM5 (torchtitan: 989e12).`,
  },
  // ---- Blackwell ----------------------------------------------------------------------------
  {
    name: "NVIDIA GB200 (Blackwell GPU of a Grace Blackwell superchip)",
    // "NVIDIA GB200"
    match: /^(?:NVIDIA )?GB200\b/i,
    bf16DenseTflops: 2500,
    source:
      "https://www.nvidia.com/en-us/data-center/gb200-nvl72/: specifications table, Individual Blackwell GPU " +
      'Specifications, GB200 NVL72 column: "FP16/BF16 Tensor Core 5 PFLOPS" (a with-sparsity figure)',
    note:
      "NVIDIA's Blackwell Tensor Core figures are with sparsity: 5 PFLOPS per GPU halved to 2.5. " +
      "The GB200's GPU is configured up to 1,200 W, hence more than an HGX B200.",
  },
  {
    name: "NVIDIA B200 (HGX / DGX B200)",
    // "NVIDIA B200"
    match: /^(?:NVIDIA )?B200\b/i,
    bf16DenseTflops: 2250,
    source:
      "https://nvdam.widen.net/s/wwnsxrhm2w/blackwell-datasheet-3384703 (NVIDIA Blackwell datasheet) " +
      'and https://www.nvidia.com/en-us/data-center/hgx/: HGX B200 column, "FP16/BF16 Tensor Core 4.5 PFLOPS" per GPU (a with-sparsity figure)',
    note:
      "NVIDIA's Blackwell Tensor Core figures are with sparsity: 4.5 PFLOPS halved to 2.25 " +
      "(torchtitan: 2.25e15). HGX B200 is configured up to 1,000 W.",
  },
  // ---- Ampere data center -------------------------------------------------------------------
  {
    name: "NVIDIA A100 PCIe (40 GB / 80 GB)",
    // "NVIDIA A100-PCIE-40GB", "NVIDIA A100 80GB PCIe"
    match: /^(?:NVIDIA )?A100\b.*\bPCIe\b/i,
    bf16DenseTflops: 312,
    source: `${A100_DATASHEET}: "BFLOAT16 Tensor Core 312 TFLOPS | 624 TFLOPS*", "* With sparsity"`,
    note: "The datasheet prints the dense figure (312) beside the sparse one; PCIe and SXM columns are equal.",
  },
  {
    name: "NVIDIA A100 SXM4 (40 GB / 80 GB)",
    // "NVIDIA A100-SXM4-40GB", "NVIDIA A100-SXM4-80GB", and any other A100 name.
    match: /^(?:NVIDIA )?A100\b/i,
    bf16DenseTflops: 312,
    source: `${A100_DATASHEET}: "BFLOAT16 Tensor Core 312 TFLOPS | 624 TFLOPS*", "* With sparsity"`,
    note: "The datasheet prints the dense figure (312) beside the sparse one. Whitepaper: 312/624 at 1,410 MHz.",
  },
  {
    name: "NVIDIA A40",
    match: /^(?:NVIDIA )?A40$/i,
    bf16DenseTflops: 149.7,
    source:
      'https://images.nvidia.com/content/Solutions/data-center/a40/nvidia-a40-datasheet.pdf: ' +
      '"Peak BF16 Tensor TFLOPS with FP32 Accumulate 149.7 | 299.4*", "* With sparsity"',
    note: "Dense figure printed by NVIDIA, explicitly with FP32 accumulate.",
  },
  {
    name: "NVIDIA A10",
    match: /^(?:NVIDIA )?A10$/i,
    bf16DenseTflops: 125,
    source:
      'https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a10/pdf/a10-datasheet.pdf: ' +
      '"BFLOAT16 Tensor Core 125 TF | 250 TF*", "* With sparsity"',
    note: "Dense figure printed by NVIDIA. Not the A10G (AWS), which is a different, slower part.",
  },
  {
    name: "NVIDIA A10G (AWS EC2 G5)",
    match: /^(?:NVIDIA )?A10G$/i,
    bf16DenseTflops: 70,
    source:
      "https://d1.awsstatic.com/product-marketing/ec2/NVIDIA_AWS_A10G_DataSheet_FINAL_02_17_2022.pdf " +
      "(NVIDIA A10G datasheet hosted by AWS): BF16 tensor 70 TF dense, 140 TF with sparsity",
    note:
      "Dense figure printed in the datasheet (80 SMs at 1.71 GHz x 512 BF16 FLOP/clk/SM = 70). " +
      "PyTorch Lightning and others use the A10's 125 for the A10G, which overstates it 1.8x.",
  },
  {
    name: "NVIDIA RTX A6000",
    match: /^(?:NVIDIA )?RTX A6000$/i,
    bf16DenseTflops: 154.8,
    source: `${GA102_WHITEPAPER}: Table 3 (RTX A6000), "Peak BF16 Tensor TFLOPS with FP32 Accumulate 154.8/309.6"`,
    note:
      "Dense/sparse pair printed by NVIDIA, FP32 accumulate (the RTX A6000 datasheet only prints " +
      '"Tensor Performance 309.7 TFLOPS", a sparse figure).',
  },
  // ---- Ada Lovelace data center ---------------------------------------------------------------
  {
    name: "NVIDIA L40S",
    match: /^(?:NVIDIA )?L40S$/i,
    bf16DenseTflops: 362.05,
    source:
      "https://resources.nvidia.com/en-us-l40s/l40s-datasheet-28413 (and https://www.nvidia.com/en-us/data-center/l40s/): " +
      '"BFLOAT16 Tensor Core TFLOPS 362.05 | 733*", "* With Sparsity"',
    note:
      "Dense figure as printed. The datasheet is inconsistent: 733/2 = 366.5, and 362.05 is 142 SMs at " +
      "the L40's 2.49 GHz, not the L40S's 2.52 GHz. It does not say which accumulator; " +
      `${L40_L40S_NOTE_SAME_DIE} If NVIDIA's L40S figure were the FP16-accumulate rate, the FP32-accumulate ` +
      "peak would be about 183 and MFU here would read low by 2x. torchtitan uses 362e12.",
  },
  {
    name: "NVIDIA L40",
    match: /^(?:NVIDIA )?L40$/i,
    bf16DenseTflops: 181.05,
    source:
      "https://images.nvidia.com/content/Solutions/data-center/vgpu-L40-datasheet.pdf: " +
      '"BFLOAT16 Tensor Core TFLOPS 181.05 | 362.1*", "* With Sparsity"',
    note: `Dense figure as printed (142 SMs x 2.49 GHz x 512 FLOP/clk/SM, i.e. the FP32-accumulate rate). ${L40_L40S_NOTE_SAME_DIE}`,
  },
  {
    name: "NVIDIA L4",
    match: /^(?:NVIDIA )?L4$/i,
    bf16DenseTflops: 121,
    source:
      "https://www.nvidia.com/en-us/data-center/l4/ (datasheet: https://resources.nvidia.com/en-us-data-center-overview-mc/en-us-data-center-overview/l4-gpu-datasheet): " +
      '"BFLOAT16 Tensor Core 242 teraFLOPS*", "* Shown with sparsity. Specifications are one-half lower without sparsity."',
    note:
      `${HALVED} The datasheet does not say which accumulator; a public torch BF16 matmul benchmark ` +
      "measured ~71 TFLOPS on an L4, above the 60.5 a half-rate FP32 accumulate would allow, so 121 is kept.",
  },
  // ---- GeForce ------------------------------------------------------------------------------
  {
    name: "NVIDIA GeForce RTX 5090",
    match: /^(?:NVIDIA )?GeForce RTX 5090$/i,
    bf16DenseTflops: 209.5,
    source:
      `${RTX_BLACKWELL_WHITEPAPER}: appendix, GeForce RTX 5090 specifications, "Peak FP16 Tensor TFLOPS with FP32 Accumulate" ` +
      "209.5/419, BF16 with FP32 accumulate the same (dense/sparse)",
    note:
      "FP32-accumulate row used (dense/sparse); GeForce cards run FP16 with FP16 accumulate at twice this " +
      "rate (419 dense), which BF16 training cannot use. Excludes the 5090 D and Laptop GPU.",
  },
  {
    name: "NVIDIA GeForce RTX 4090",
    match: /^(?:NVIDIA )?GeForce RTX 4090$/i,
    bf16DenseTflops: 165.2,
    source: `${ADA_WHITEPAPER}: Appendix A (GeForce RTX 4090), "Peak BF16 Tensor TFLOPS with FP32 Accumulate 165.2/330.4"`,
    note:
      "FP32-accumulate row used (dense/sparse); FP16 with FP16 accumulate is 330.3 dense, not reachable by BF16. " +
      "PyTorch Lightning's 82.6e12 for the 4090 is the non-tensor FP32 rate. Excludes the 4090 D and Laptop GPU.",
  },
  {
    name: "NVIDIA GeForce RTX 3090",
    match: /^(?:NVIDIA )?GeForce RTX 3090$/i,
    bf16DenseTflops: 71,
    source:
      `${GA102_WHITEPAPER}: Appendix A (GeForce RTX 3090), "Peak FP16 Tensor TFLOPS with FP32 Accumulate 71/142", ` +
      "BF16 with FP32 accumulate the same (dense/sparse)",
    note:
      "FP32-accumulate row used (dense/sparse); FP16 with FP16 accumulate is 142 dense, not reachable by BF16. " +
      "Excludes the 3090 Ti.",
  },
  // ---- AMD Instinct ---------------------------------------------------------------------------
  {
    name: "AMD Instinct MI355X",
    match: /\bMI355X\b/i,
    bf16DenseTflops: 2516.6,
    source:
      `${CDNA4_WHITEPAPER} and https://www.amd.com/en/products/accelerators/instinct/mi350/mi355x.html: ` +
      "peak bfloat16 2.5 PFLOPS dense (5.0 with structured sparsity); 256 CUs x 2,400 MHz peak engine clock x " +
      "4,096 dense BF16 FLOPs per clock per CU = 2,516.6 TFLOPS",
    note:
      "AMD prints 2.5 PFLOPS; the exact figure follows AMD's own method (CUs x peak engine clock x FLOPs per " +
      "clock per CU, the CDNA 3 whitepaper's endnote MI325-019), with CDNA 4 doubling CDNA 3's 2,048 per CU.",
  },
  {
    name: "AMD Instinct MI325X",
    match: /\bMI325X\b/i,
    bf16DenseTflops: 1307.4,
    source: `${CDNA3_WHITEPAPER}: Table 2, MI325X GPU, "BF16 | BF16 (SPARSITY) 1,307.4 TF | 2,614.9 TF"`,
    note: "Dense figure printed by AMD beside the with-sparsity one; same compute as the MI300X.",
  },
  {
    name: "AMD Instinct MI300X",
    match: /\bMI300X\b/i,
    bf16DenseTflops: 1307.4,
    source: `${CDNA3_WHITEPAPER}: Table 2, MI300X GPU, "BF16 | BF16 (SPARSITY) 1,307.4 TF | 2,614.9 TF"; endnote MI300-11`,
    note: "Dense figure printed by AMD beside the with-sparsity one (304 CUs at 2,100 MHz).",
  },
  {
    name: "AMD Instinct MI300A",
    match: /\bMI300A\b/i,
    bf16DenseTflops: 980.6,
    source: `${CDNA3_WHITEPAPER}: Table 2, MI300A APU, "BF16 | BF16 (SPARSITY) 980.6 TF | 1,961.2"`,
    note: "Dense figure printed by AMD beside the with-sparsity one (228 CUs at 2,100 MHz).",
  },
  {
    name: "AMD Instinct MI250X (one GCD)",
    match: /\bMI250X\b/i,
    bf16DenseTflops: 191.5,
    source: `${CDNA2_WHITEPAPER}: Table 1, MI250X, "Peak FP16/BF16 383.0 TF", 2 GCDs, 220 CUs`,
    note: `${PER_GCD} CDNA 2 has no sparsity: the figure is dense.`,
  },
  {
    name: "AMD Instinct MI250 (one GCD)",
    match: /\bMI250\b/i,
    bf16DenseTflops: 181.05,
    source: `${CDNA2_WHITEPAPER}: Table 1, MI250, "Peak FP16/BF16 362.1 TF", 2 GCDs, 208 CUs`,
    note: `${PER_GCD} CDNA 2 has no sparsity: the figure is dense.`,
  },
  {
    name: "AMD Instinct MI210",
    match: /\bMI210\b/i,
    bf16DenseTflops: 181,
    source: `${CDNA2_WHITEPAPER}: Table 1, MI210, "Peak FP16/BF16 181.0 TF", 1 GCD, 104 CUs`,
    note: "CDNA 2 has no sparsity: the figure is dense.",
  },
  // ---- No BF16 tensor cores (listed so the reason is precise, figure 0) ------------------------
  {
    name: "NVIDIA V100 / V100S (Volta)",
    // "Tesla V100-SXM2-16GB", "Tesla V100-PCIE-32GB", "Tesla V100S-PCIE-32GB", ...
    match: /^(?:NVIDIA )?(?:Tesla )?V100S?\b/i,
    bf16DenseTflops: 0,
    source: `${A100_WHITEPAPER}: comparison table (P100 / V100 / A100), "Peak BF16 Tensor TFLOPS with FP32 Accumulate" NA for V100`,
    note: `${NO_BF16}: Volta (sm_70) tensor cores take FP16 only; BF16 runs on CUDA cores or is emulated.`,
  },
  {
    name: "NVIDIA TITAN V (Volta)",
    match: /^(?:NVIDIA )?TITAN V$/i,
    bf16DenseTflops: 0,
    source: `${A100_WHITEPAPER}: V100 column (the same Volta tensor core), "Peak BF16 Tensor TFLOPS with FP32 Accumulate" NA`,
    note: `${NO_BF16}: Volta (sm_70) tensor cores take FP16 only.`,
  },
  {
    name: "NVIDIA T4 (Turing)",
    // "Tesla T4"
    match: /^(?:NVIDIA )?(?:Tesla )?T4$/i,
    bf16DenseTflops: 0,
    source:
      "https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/tesla-t4/t4-tensor-core-datasheet-951643.pdf " +
      "(tensor figures for FP16/FP32 mixed precision, INT8 and INT4 only; no BF16) and " +
      "https://docs.nvidia.com/cuda/cuda-programming-guide/05-appendices/compute-capabilities.html (compute capability 7.5 tensor inputs: FP16, INT8, INT4)",
    note: `${NO_BF16}: Turing (sm_75) tensor cores take FP16, INT8, INT4.`,
  },
  {
    name: "NVIDIA Turing GeForce RTX 20xx / TITAN RTX / Quadro RTX",
    match: /^(?:NVIDIA )?(?:GeForce RTX 20[0-9]0\b|TITAN RTX$|Quadro RTX [0-9]{4}\b)/i,
    bf16DenseTflops: 0,
    source:
      "https://images.nvidia.com/aem-dam/en-zz/Solutions/design-visualization/technologies/turing-architecture/NVIDIA-Turing-Architecture-Whitepaper.pdf " +
      "(Turing tensor cores: FP16, INT8, INT4) and https://docs.nvidia.com/cuda/cuda-programming-guide/05-appendices/compute-capabilities.html",
    note: `${NO_BF16}: Turing (sm_75) tensor cores take FP16, INT8, INT4.`,
  },
  {
    name: "NVIDIA P100 (Pascal)",
    // "Tesla P100-PCIE-16GB", "Tesla P100-SXM2-16GB"
    match: /^(?:NVIDIA )?(?:Tesla )?P100\b/i,
    bf16DenseTflops: 0,
    source: `${A100_WHITEPAPER}: comparison table (P100 / V100 / A100), "Tensor Cores / GPU" NA for P100`,
    note: `${NO_BF16}: Pascal has no tensor cores at all.`,
  },
];

function publicEntry(entry: GpuPeakEntry): GpuPeak {
  const peak: GpuPeak = { name: entry.name, bf16DenseTflops: entry.bf16DenseTflops, source: entry.source };
  if (entry.note !== undefined) peak.note = entry.note;
  return peak;
}

/**
 * Peak dense BF16 FLOP/s (TFLOPS * 1e12) of one GPU, from the name its vendor's library reports.
 *
 * Returns `{ flops: null, reason }` when there is no name, when the name is a MIG slice or a
 * compute partition, when it stands for more than one model, when the model is not in GPU_PEAKS
 * (the reason names it), or when the model has no BF16 tensor cores.
 */
export function peakBf16Flops(
  gpuName: string | null,
): { flops: number; entry: GpuPeak } | { flops: null; reason: string } {
  const name = (gpuName ?? "").trim();
  if (name === "") return { flops: null, reason: "no GPU name" };
  if (MIG_NAME.test(name)) {
    return {
      flops: null,
      reason:
        `"${name}" is a MIG slice: it has only a fraction of its parent GPU's SMs, ` +
        "so the parent's peak does not apply and no peak is given",
    };
  }
  if (PARTITION_NAME.test(name)) {
    return {
      flops: null,
      reason: `"${name}" is a compute partition: it has only a fraction of the GPU's CUs, so the GPU's peak does not apply`,
    };
  }
  if (AMBIGUOUS_NAME.test(name)) {
    return { flops: null, reason: `"${name}" names more than one model (MI250X or MI250): no peak is given` };
  }
  const hit = GPU_PEAKS.find((entry) => entry.match.test(name));
  if (hit === undefined) {
    return { flops: null, reason: `unknown GPU model "${name}": no sourced peak dense BF16 figure for it` };
  }
  if (!(hit.bf16DenseTflops > 0)) {
    return { flops: null, reason: `"${name}" (${hit.name}) has no BF16 tensor cores: ${hit.note ?? NO_BF16}` };
  }
  return { flops: Math.round(hit.bf16DenseTflops * 1e12), entry: publicEntry(hit) };
}
