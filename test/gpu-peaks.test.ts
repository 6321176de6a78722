import { describe, expect, it } from "vitest";

import { GPU_PEAKS, peakBf16Flops } from "../src/system/gpu-peaks.js";

/** The table entry's name a real NVML device name resolves to, or the null reason. */
function resolve(name: string | null): { name: string; tflops: number } | { reason: string } {
  const result = peakBf16Flops(name);
  if (result.flops === null) return { reason: result.reason };
  return { name: result.entry.name, tflops: result.flops / 1e12 };
}

describe("peakBf16Flops: real NVML names", () => {
  it.each([
    // Hopper: SXM5 vs PCIe vs NVL
    ["NVIDIA H100 80GB HBM3", "NVIDIA H100 SXM5 (80 GB)", 989.5],
    ["NVIDIA H100 PCIe", "NVIDIA H100 PCIe (80 GB)", 756.5],
    ["NVIDIA H100 80GB HBM2e", "NVIDIA H100 PCIe (80 GB)", 756.5],
    ["NVIDIA H100 NVL", "NVIDIA H100 NVL (PCIe card, 94 GB)", 835.5],
    ["NVIDIA H200", "NVIDIA H200 SXM (141 GB)", 989.5],
    ["NVIDIA H200 141GB HBM3e", "NVIDIA H200 SXM (141 GB)", 989.5],
    ["NVIDIA H200 NVL", "NVIDIA H200 NVL (PCIe card, 141 GB)", 835.5],
    // Blackwell
    ["NVIDIA B200", "NVIDIA B200 (HGX / DGX B200)", 2250],
    ["NVIDIA GB200", "NVIDIA GB200 (Blackwell GPU of a Grace Blackwell superchip)", 2500],
    // Ampere A100 variants, with and without the "NVIDIA " prefix older drivers left out
    ["NVIDIA A100-SXM4-80GB", "NVIDIA A100 SXM4 (40 GB / 80 GB)", 312],
    ["NVIDIA A100-SXM4-40GB", "NVIDIA A100 SXM4 (40 GB / 80 GB)", 312],
    ["A100-SXM4-40GB", "NVIDIA A100 SXM4 (40 GB / 80 GB)", 312],
    ["NVIDIA A100-PCIE-40GB", "NVIDIA A100 PCIe (40 GB / 80 GB)", 312],
    ["NVIDIA A100 80GB PCIe", "NVIDIA A100 PCIe (40 GB / 80 GB)", 312],
    // the rest of the table
    ["NVIDIA L40S", "NVIDIA L40S", 362.05],
    ["NVIDIA L40", "NVIDIA L40", 181.05],
    ["NVIDIA L4", "NVIDIA L4", 121],
    ["NVIDIA A10", "NVIDIA A10", 125],
    ["NVIDIA A10G", "NVIDIA A10G (AWS EC2 G5)", 70],
    ["NVIDIA A40", "NVIDIA A40", 149.7],
    ["NVIDIA RTX A6000", "NVIDIA RTX A6000", 154.8],
    ["NVIDIA GeForce RTX 5090", "NVIDIA GeForce RTX 5090", 209.5],
    ["NVIDIA GeForce RTX 4090", "NVIDIA GeForce RTX 4090", 165.2],
    ["NVIDIA GeForce RTX 3090", "NVIDIA GeForce RTX 3090", 71],
    ["GeForce RTX 3090", "NVIDIA GeForce RTX 3090", 71],
  ])("%s -> %s", (nvmlName, entryName, tflops) => {
    expect(resolve(nvmlName)).toEqual({ name: entryName, tflops });
  });

  // Names as ROCm SMI reports them: the PCI ID database's (rocm-smi's "Device Name", gdb's agent
  // names), or the board's product name.
  it.each([
    ["Aqua Vanjaram [Instinct MI300X]", "AMD Instinct MI300X", 1307.4],
    ["Aqua Vanjaram [Instinct MI300X VF]", "AMD Instinct MI300X", 1307.4], // an SR-IOV VF has all 304 CUs
    ["AMD Instinct MI300X", "AMD Instinct MI300X", 1307.4],
    ["AMD Instinct MI300A", "AMD Instinct MI300A", 980.6],
    ["Aqua Vanjaram [Instinct MI325X]", "AMD Instinct MI325X", 1307.4],
    ["AMD Instinct MI355X", "AMD Instinct MI355X", 2516.6],
    ["Aldebaran/MI200 [Instinct MI250X]", "AMD Instinct MI250X (one GCD)", 191.5],
    ["AMD Instinct MI250", "AMD Instinct MI250 (one GCD)", 181.05],
    ["Aldebaran/MI200 [Instinct MI210]", "AMD Instinct MI210", 181],
  ])("%s -> %s", (rocmName, entryName, tflops) => {
    expect(resolve(rocmName)).toEqual({ name: entryName, tflops });
  });

  it("returns FLOP/s, not TFLOPS", () => {
    const result = peakBf16Flops("NVIDIA H100 80GB HBM3");
    expect(result.flops).toBe(989.5e12);
    const l40s = peakBf16Flops("NVIDIA L40S");
    expect(l40s.flops).toBe(362_050_000_000_000);
  });

  it("returns the entry without its pattern", () => {
    const result = peakBf16Flops("NVIDIA A100-SXM4-80GB");
    expect(result.flops).not.toBeNull();
    if (result.flops !== null) {
      expect(result.entry).not.toHaveProperty("match");
      expect(result.entry.source).toMatch(/^https:\/\//);
    }
  });

  it("does not confuse names that are prefixes of one another", () => {
    // L4 / L40 / L40S, A10 / A10G / A100, H20 / H200 / GH200
    expect(resolve("NVIDIA L4")).toMatchObject({ name: "NVIDIA L4" });
    expect(resolve("NVIDIA L40")).toMatchObject({ name: "NVIDIA L40" });
    expect(resolve("NVIDIA A10")).toMatchObject({ name: "NVIDIA A10" });
    expect(resolve("NVIDIA H20")).toMatchObject({ reason: expect.stringContaining('unknown GPU model "NVIDIA H20"') });
    expect(resolve("NVIDIA GH200 480GB")).toMatchObject({ reason: expect.stringContaining("unknown GPU model") });
    // laptop, Ti and D variants are different parts
    expect(resolve("NVIDIA GeForce RTX 4090 Laptop GPU")).toHaveProperty("reason");
    expect(resolve("NVIDIA GeForce RTX 4090 D")).toHaveProperty("reason");
    expect(resolve("NVIDIA GeForce RTX 3090 Ti")).toHaveProperty("reason");
  });
});

describe("peakBf16Flops: no figure", () => {
  it("gives a reason for no name", () => {
    expect(peakBf16Flops(null)).toEqual({ flops: null, reason: "no GPU name" });
    expect(peakBf16Flops("   ")).toEqual({ flops: null, reason: "no GPU name" });
  });

  it.each(["NVIDIA H100 80GB HBM3 MIG 1g.10gb", "NVIDIA A100-SXM4-40GB MIG 3g.20gb", "NVIDIA B200 MIG 1g.23gb"])(
    "refuses the MIG slice %s",
    (name) => {
      const result = peakBf16Flops(name);
      expect(result.flops).toBeNull();
      if (result.flops === null) {
        expect(result.reason).toContain(name);
        expect(result.reason).toContain("MIG slice");
      }
    },
  );

  it("refuses an AMD compute partition and a name that stands for two models", () => {
    expect(resolve("AMD Instinct MI300X (CPX partition)")).toEqual({
      reason:
        '"AMD Instinct MI300X (CPX partition)" is a compute partition: it has only a fraction of the GPU\'s CUs, so the GPU\'s peak does not apply',
    });
    expect(resolve("Aldebaran/MI200 [Instinct MI250X/MI250]")).toEqual({
      reason: '"Aldebaran/MI200 [Instinct MI250X/MI250]" names more than one model (MI250X or MI250): no peak is given',
    });
    expect(resolve("AMD INSTINCT MI200 (MCM) OAM AC MBA")).toHaveProperty("reason");
  });

  it("names an unknown model", () => {
    expect(peakBf16Flops("NVIDIA Quantum Widget 9000")).toEqual({
      flops: null,
      reason: 'unknown GPU model "NVIDIA Quantum Widget 9000": no sourced peak dense BF16 figure for it',
    });
  });

  it.each(["Tesla V100-SXM2-16GB", "Tesla V100-SXM2-32GB", "Tesla V100S-PCIE-32GB", "Tesla T4", "NVIDIA GeForce RTX 2080 Ti", "Tesla P100-PCIE-16GB"])(
    "says %s has no BF16 tensor cores",
    (name) => {
      const result = peakBf16Flops(name);
      expect(result.flops).toBeNull();
      if (result.flops === null) {
        expect(result.reason).toContain(name);
        expect(result.reason).toContain("no BF16 tensor cores");
      }
    },
  );
});

describe("GPU_PEAKS", () => {
  it("every entry has an https source and a positive figure or a no-BF16 note", () => {
    for (const entry of GPU_PEAKS) {
      expect(entry.source, entry.name).toMatch(/^https:\/\/\S+/);
      if (entry.bf16DenseTflops > 0) {
        expect(Number.isFinite(entry.bf16DenseTflops), entry.name).toBe(true);
      } else {
        expect(entry.bf16DenseTflops, entry.name).toBe(0);
        expect(entry.note, entry.name).toMatch(/No BF16 tensor cores/);
      }
    }
  });

  it("has unique names and stateless patterns", () => {
    const names = GPU_PEAKS.map((entry) => entry.name);
    expect(new Set(names).size).toBe(names.length);
    for (const entry of GPU_PEAKS) {
      // a /g or /y pattern would keep lastIndex between test() calls
      expect(entry.match.global || entry.match.sticky, entry.name).toBe(false);
    }
  });

  it("every entry is reachable: its own name-like sample is not shadowed by an earlier entry", () => {
    const samples: Record<string, string> = {
      "NVIDIA H100 NVL (PCIe card, 94 GB)": "NVIDIA H100 NVL",
      "NVIDIA H100 PCIe (80 GB)": "NVIDIA H100 PCIe",
      "NVIDIA H100 SXM5 (80 GB)": "NVIDIA H100 80GB HBM3",
      "NVIDIA H200 NVL (PCIe card, 141 GB)": "NVIDIA H200 NVL",
      "NVIDIA H200 SXM (141 GB)": "NVIDIA H200",
      "NVIDIA GB200 (Blackwell GPU of a Grace Blackwell superchip)": "NVIDIA GB200",
      "NVIDIA B200 (HGX / DGX B200)": "NVIDIA B200",
      "NVIDIA A100 PCIe (40 GB / 80 GB)": "NVIDIA A100 80GB PCIe",
      "NVIDIA A100 SXM4 (40 GB / 80 GB)": "NVIDIA A100-SXM4-80GB",
      "NVIDIA A40": "NVIDIA A40",
      "NVIDIA A10": "NVIDIA A10",
      "NVIDIA A10G (AWS EC2 G5)": "NVIDIA A10G",
      "NVIDIA RTX A6000": "NVIDIA RTX A6000",
      "NVIDIA L40S": "NVIDIA L40S",
      "NVIDIA L40": "NVIDIA L40",
      "NVIDIA L4": "NVIDIA L4",
      "NVIDIA GeForce RTX 5090": "NVIDIA GeForce RTX 5090",
      "NVIDIA GeForce RTX 4090": "NVIDIA GeForce RTX 4090",
      "NVIDIA GeForce RTX 3090": "NVIDIA GeForce RTX 3090",
      "NVIDIA V100 / V100S (Volta)": "Tesla V100-SXM2-16GB",
      "NVIDIA TITAN V (Volta)": "NVIDIA TITAN V",
      "NVIDIA T4 (Turing)": "Tesla T4",
      "NVIDIA Turing GeForce RTX 20xx / TITAN RTX / Quadro RTX": "Quadro RTX 8000",
      "NVIDIA P100 (Pascal)": "Tesla P100-PCIE-16GB",
      "AMD Instinct MI355X": "AMD Instinct MI355X",
      "AMD Instinct MI325X": "Aqua Vanjaram [Instinct MI325X]",
      "AMD Instinct MI300X": "Aqua Vanjaram [Instinct MI300X]",
      "AMD Instinct MI300A": "AMD Instinct MI300A",
      "AMD Instinct MI250X (one GCD)": "Aldebaran/MI200 [Instinct MI250X]",
      "AMD Instinct MI250 (one GCD)": "AMD Instinct MI250",
      "AMD Instinct MI210": "Aldebaran/MI200 [Instinct MI210]",
    };
    expect(Object.keys(samples).sort()).toEqual(GPU_PEAKS.map((entry) => entry.name).sort());
    for (const [entryName, sample] of Object.entries(samples)) {
      expect(GPU_PEAKS.find((entry) => entry.match.test(sample))?.name, sample).toBe(entryName);
    }
  });
});
