/**
 * The two files of an experiment folder, as zod schemas. They accept what the Python
 * ConfigTracker wrote (timestamps without a zone, a smaller hardware dict, extra keys) and
 * describe what this package writes; scripts/write-schemas turns them into the JSON Schema files
 * shipped in schema/.
 */
import { z } from "zod";

const count = z.number().int().nonnegative();
const nullableCount = count.nullable();

/** ISO 8601 date-time. This package writes UTC with `Z`; Python's isoformat() has no zone. */
export const isoTimestampSchema = z.iso.datetime({ offset: true, local: true });

export const gpuDeviceSchema = z.object({
  index: count.describe("the runtime's ordinal in this process (CUDA's, or HIP's for AMD), after the visibility variables"),
  nvml_index: count.describe("physical index, as nvidia-smi (or rocm-smi for AMD) numbers GPUs"),
  vendor: z.string().optional().describe('"nvidia" or "amd" (absent in files written before AMD GPUs were read)'),
  name: z.string().nullable(),
  uuid: z.string().nullable(),
  memory_total_bytes: nullableCount,
  compute_capability: z.string().nullable().describe('"9.0" (NVIDIA)'),
  pci_bus_id: z.string().nullable(),
  serial: z.string().nullable().optional().describe("AMD: the board's serial number"),
  vbios_version: z.string().nullable().optional().describe("AMD: the VBIOS version"),
  mig_mode: z.boolean().nullable(),
  mig_parent_uuid: z.string().nullable().describe("MIG devices: the physical GPU's UUID"),
  error: z.string().nullable().describe("why the vendor's library could not read this device"),
});

export const hardwareInfoSchema = z.object({
  platform: z.string(),
  arch: z.string(),
  os_release: z.string(),
  node_version: z.string(),
  cpu_count: count,
  cpu_model: z.string().nullable(),
  memory_total_bytes: count,
  gpu_available: z.boolean(),
  gpu_count: count.describe("GPUs this process may use"),
  host_gpu_count: count.describe("GPUs the host has"),
  gpu_vendor: z
    .string()
    .nullable()
    .optional()
    .describe('"nvidia", "amd", or "nvidia+amd" when the process may use both; null without a GPU'),
  gpu_model: z.string().nullable(),
  cuda_version: z.string().nullable().describe("the driver's CUDA version"),
  rocm_version: z
    .string()
    .nullable()
    .optional()
    .describe("the HIP runtime's version, from libamdhip64's file name (6.2.60200: HIP 6.2 of ROCm 6.2.0)"),
  driver_version: z.string().nullable().describe("the NVIDIA driver's version, or the amdgpu kernel driver's"),
  cuda_visible_devices: z.string().nullable(),
  hip_visible_devices: z.string().nullable().optional(),
  rocr_visible_devices: z.string().nullable().optional(),
  gpus: z.array(gpuDeviceSchema),
  gpu_unavailable_reason: z.string().nullable(),
  gpu_unavailable_code: z.string().nullable(),
  torch_version: z.string().nullable(),
  torch_cuda_version: z.string().nullable().describe("the CUDA toolkit torch was built with"),
  torch_hip_version: z.string().nullable().optional().describe("the HIP torch was built with (ROCm builds: torch.version.hip)"),
  python_version: z.string().nullable().describe("the trainer's Python (platform.python_version())"),
  python_executable: z.string().nullable().describe("the trainer's interpreter (sys.executable)"),
});

export const gitInfoSchema = z.object({
  commit: z.string().nullable(),
  short_hash: z.string().nullable(),
  branch: z.string().nullable().describe("null when HEAD is detached"),
  dirty: z.boolean().nullable().describe("tracked files differ from HEAD; null when not checked"),
  remote_url: z.string().nullable().describe("origin's URL, credentials removed"),
  error: z.string().nullable(),
});

export const environmentInfoSchema = z.object({
  node_version: z.string(),
  argv: z.array(z.string()),
  cwd: z.string(),
  hostname: z.string(),
  user: z.string().nullable(),
  pid: count,
  distributed: z.record(z.string(), z.string()).describe("RANK, WORLD_SIZE, SLURM_* ... when set"),
  python_variables: z
    .record(z.string(), z.string())
    .optional()
    .describe("the trainer's PYTHONPATH, VIRTUAL_ENV, ... when set"),
});

/** The original keys every tool reads, plus the checkpoint reader's detail when it made them. */
export const modelInfoSchema = z.looseObject({
  type: z.string(),
  num_parameters: count,
  num_trainable_parameters: count,
  d_model: count.nullable().optional(),
  num_layers: count.nullable().optional(),
  num_heads: count.nullable().optional(),
});

/** One entry of config.json's `resumes`: a later process that carried on with the run. */
export const resumeEntrySchema = z.looseObject({
  timestamp: isoTimestampSchema,
  pid: count.optional(),
  host: z.string().optional(),
  git_hash: z.string().nullable().optional(),
  from_checkpoint: z.string().optional(),
  from_step: count.optional(),
  hardware: z.record(z.string(), z.unknown()).optional().describe("the hardware summary, when it changed"),
  changes: z
    .array(z.looseObject({ key: z.string(), from: z.unknown().optional(), to: z.unknown().optional() }))
    .optional()
    .describe("config keys changed by a { mode: 'resume' } save"),
});

/**
 * The user's settings: any JSON object. Checked as an object without visiting each key (zod's
 * record would copy a config of a million keys to check that its keys are strings, which JSON's
 * always are).
 */
const userConfigSchema = z
  .custom<Record<string, unknown>>((value) => typeof value === "object" && value !== null && !Array.isArray(value), {
    message: "expected an object",
  })
  .meta({ type: "object", description: "the user's settings, as given" });

export const configFileSchema = z.looseObject({
  experiment_id: z.string().min(1),
  timestamp: isoTimestampSchema,
  git_hash: z.string().nullable(),
  config: userConfigSchema,
  hardware: hardwareInfoSchema.partial().loose(),
  // Python writes None for what it was not given: null is read as absent.
  model: modelInfoSchema.nullable().optional(),
  dataset: z.unknown().optional(),
  git: gitInfoSchema.nullable().optional(),
  environment: environmentInfoSchema.nullable().optional(),
  resumes: z.array(resumeEntrySchema).nullable().optional(),
});

/** A metric value: any number, NaN and ±Infinity included (a diverged loss is a result too). */
export const metricValueSchema = z
  .custom<number>((value) => typeof value === "number", { message: "expected a number" })
  .meta({ type: "number", description: "a number; NaN / Infinity / -Infinity as Python's json writes them" });

export const metricSummarySchema = z.object({
  last: metricValueSchema,
  min: metricValueSchema.nullable(),
  max: metricValueSchema.nullable(),
  count: count,
  last_step: z.number(),
});

export const resultsFileSchema = z.looseObject({
  experiment_id: z.string().min(1),
  timestamp: isoTimestampSchema,
  final_metrics: z.record(z.string(), z.unknown()),
  best_checkpoint: z.string().nullable(),
  generation_samples: z.array(z.unknown()).nullable(),
  summary: z.record(z.string(), metricSummarySchema).optional().describe("per metric of metrics.jsonl"),
  warnings: z.array(z.string()).optional(),
});

export const statusFileSchema = z.looseObject({
  status: z.enum(["running", "finished", "failed", "interrupted"]),
  started_at: isoTimestampSchema,
  updated_at: isoTimestampSchema,
  ended_at: isoTimestampSchema.nullable(),
  pid: count,
  host: z.string(),
  boot_id: z.string().nullable().optional(),
  last_step: count.nullable(),
  error: z.string().nullable(),
  signal: z.string().optional(),
  exit_code: z.number().int().optional(),
});

export type GpuDevice = z.infer<typeof gpuDeviceSchema>;
export type HardwareInfo = z.infer<typeof hardwareInfoSchema>;
export type GitInfo = z.infer<typeof gitInfoSchema>;
export type EnvironmentInfo = z.infer<typeof environmentInfoSchema>;
export type ModelSummary = z.infer<typeof modelInfoSchema>;
export type ConfigFile = z.infer<typeof configFileSchema>;
export type ResultsFile = z.infer<typeof resultsFileSchema>;
export type StatusFile = z.infer<typeof statusFileSchema>;
export type ResumeEntry = z.infer<typeof resumeEntrySchema>;

/** The first problem zod found, as a dotted key path and a sentence. */
export function firstIssue(error: z.ZodError): { key: string; message: string } {
  const issue = error.issues[0];
  if (!issue) return { key: "", message: "invalid" };
  const key = issue.path
    .map((part, index) => (typeof part === "number" ? `[${part}]` : `${index === 0 ? "" : "."}${String(part)}`))
    .join("");
  const missing = issue.code === "invalid_type" && issue.message.includes("received undefined");
  return { key, message: missing ? "is missing" : issue.message.replace(/^Invalid input: /, "") };
}
