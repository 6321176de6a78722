/**
 * results.json's `throughput`: tokens per second, the model FLOPs each token costs, and MFU
 * (model FLOPs utilisation) against the GPUs' peak dense BF16 throughput (gpu-peaks.ts).
 *
 * FLOPs per token, training (forward + backward), as in the PaLM paper's appendix B and
 * nanoGPT's estimate_mfu: 6N for the weights' matmuls (N parameters: 2 FLOPs per multiply-add,
 * forward once and backward twice), plus 12 * layers * d_model * seq_len for attention's scores
 * and weighted sum when the architecture and the sequence length are known. Embedding lookups,
 * norms, softmax and the optimizer are not counted (MFU counts model FLOPs, not hardware FLOPs:
 * recomputation does not raise it).
 */
import { checkOptions, optionNames } from "../options.js";
import { peakBf16Flops } from "./gpu-peaks.js";

export interface ThroughputInput {
  tokensPerSecond: number | null;
  /** Parameters N (the model's; config.json's model or a recorded checkpoint). */
  parameters: number | null;
  layers: number | null;
  dModel: number | null;
  seqLen: number | null;
  /** Every GPU the run used, by name (all nodes). */
  gpuNames: Array<string | null>;
}

export interface Throughput {
  tokens_per_second: number | null;
  num_parameters: number | null;
  flops_per_token: number | null;
  flops_per_token_formula: string | null;
  achieved_flops_per_second: number | null;
  gpu_count: number;
  peak_flops_per_second: number | null;
  peak_source: string[];
  mfu: number | null;
  mfu_unavailable_reason: string | null;
}

/** The sequence length a config names (nanoGPT block_size, HF max_seq_length, ...). */
export function sequenceLengthFrom(config: Record<string, unknown>, modelMaxSeqLen: number | null): number | null {
  for (const key of ["seq_len", "sequence_length", "max_seq_length", "max_seq_len", "block_size", "context_length", "n_ctx"]) {
    const value = config[key];
    if (typeof value === "number" && Number.isSafeInteger(value) && value > 0) return value;
  }
  return modelMaxSeqLen;
}

const THROUGHPUT_INPUT = optionNames<ThroughputInput>({ tokensPerSecond: true, parameters: true, layers: true, dModel: true, seqLen: true, gpuNames: true });

export function computeThroughput(input: ThroughputInput): Throughput {
  checkOptions("computeThroughput(input)", input, THROUGHPUT_INPUT);
  const { tokensPerSecond, parameters, layers, dModel, seqLen, gpuNames } = input;
  const out: Throughput = {
    tokens_per_second: tokensPerSecond,
    num_parameters: parameters,
    flops_per_token: null,
    flops_per_token_formula: null,
    achieved_flops_per_second: null,
    gpu_count: gpuNames.length,
    peak_flops_per_second: null,
    peak_source: [],
    mfu: null,
    mfu_unavailable_reason: null,
  };
  if (parameters !== null && parameters > 0) {
    const attention = layers !== null && dModel !== null && seqLen !== null ? 12 * layers * dModel * seqLen : 0;
    out.flops_per_token = 6 * parameters + attention;
    out.flops_per_token_formula =
      attention > 0 ? `6N + 12*layers*d_model*seq_len = 6*${parameters} + 12*${layers}*${dModel}*${seqLen}` : `6N = 6*${parameters}`;
  }
  if (tokensPerSecond !== null && out.flops_per_token !== null) {
    out.achieved_flops_per_second = tokensPerSecond * out.flops_per_token;
  }

  let peak = 0;
  const unknown: string[] = [];
  const sources = new Set<string>();
  for (const name of gpuNames) {
    const found = peakBf16Flops(name);
    if (found.flops === null) unknown.push(found.reason);
    else {
      peak += found.flops;
      sources.add(`${found.entry.name}: ${found.entry.bf16DenseTflops} TFLOPS (${found.entry.source.split(" ")[0]})`);
    }
  }
  out.peak_source = [...sources];
  if (gpuNames.length === 0) out.mfu_unavailable_reason = "no GPU was used";
  else if (unknown.length > 0) out.mfu_unavailable_reason = [...new Set(unknown)].join("; ");
  else out.peak_flops_per_second = peak;

  if (out.mfu_unavailable_reason === null) {
    if (tokensPerSecond === null) {
      out.mfu_unavailable_reason = "no tokens logged (log `tokens` per record, `num_input_tokens_seen`, or `tokens_per_second`)";
    } else if (out.flops_per_token === null) {
      out.mfu_unavailable_reason = "the parameter count is unknown (record a checkpoint or give the config's model)";
    } else {
      out.mfu = Math.round(((out.achieved_flops_per_second as number) / peak) * 1e6) / 1e6;
    }
  }
  return out;
}
