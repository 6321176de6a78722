/**
 * Looks at a Linux addon's ELF header before dlopen sees it. dlopen maps a file that was cut
 * short (a partial download or copy) and the process dies of SIGBUS on first touch, and it reports
 * a binary for another CPU as "No such file or directory". Reading the header and the program
 * headers (a few hundred bytes) turns both into a reason.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

/** ELF e_machine values -> Node's process.arch names. */
const MACHINES: Record<number, string> = { 3: "ia32", 40: "arm", 62: "x64", 183: "arm64", 243: "riscv64", 21: "ppc64", 22: "s390x" };

const PT_LOAD = 1;

/** Why the file cannot be this process's addon, or null when the header looks right. */
export function elfProblem(path: string, arch: string = process.arch): string | null {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return null; // dlopen reports it
  }
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(size, 4096));
    readSync(fd, head, 0, head.length, 0);
    if (head.length < 52 || head.readUInt32BE(0) !== 0x7f454c46) return "not an ELF binary: the file is damaged or not an addon";
    // e_machine sits at byte 18 in 32- and 64-bit files alike, in the file's own byte order.
    const littleEndian = head[5] === 1;
    const machine = littleEndian ? head.readUInt16LE(18) : head.readUInt16BE(18);
    const built = MACHINES[machine] ?? `machine ${machine}`;
    if (built !== arch) return `built for ${built}, this process is ${process.platform}-${arch}`;
    // The segment check reads 64-bit little-endian program headers; other layouts (ia32 and arm
    // are 32-bit, s390x big-endian) are left to dlopen.
    if (head[4] !== 2 || !littleEndian || head.length < 64) return null;
    const phoff = Number(head.readBigUInt64LE(32));
    const phentsize = head.readUInt16LE(54);
    const phnum = head.readUInt16LE(56);
    const table = Buffer.alloc(phentsize * phnum);
    if (phoff + table.length > size) return `cut short: ${size} bytes, less than its program headers need`;
    readSync(fd, table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) {
      const entry = i * phentsize;
      if (table.readUInt32LE(entry) !== PT_LOAD) continue;
      const end = Number(table.readBigUInt64LE(entry + 8)) + Number(table.readBigUInt64LE(entry + 32));
      if (end > size) return `cut short: ${size} bytes where its segments need ${end} (a partial download or copy)`;
    }
    return null;
  } finally {
    closeSync(fd);
  }
}
