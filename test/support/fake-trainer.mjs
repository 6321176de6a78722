// A stand-in trainer for the sweep tests: `node fake-trainer.mjs NAME MILLISECONDS [EXIT_CODE]`.
// Appends to $TRAINER_LOG one JSON line when it starts and one when it ends (or is signalled),
// with the CUDA_VISIBLE_DEVICES it was given, so tests can check who had which GPU when.
import { appendFileSync } from "node:fs";

const [name, milliseconds = "500", exitCode = "0"] = process.argv.slice(2);
const slurm = process.env.SLURM_ARRAY_JOB_ID === undefined ? {} : { array_job: process.env.SLURM_ARRAY_JOB_ID, task: process.env.SLURM_ARRAY_TASK_ID };
const log = (event, extra = {}) =>
  appendFileSync(
    process.env.TRAINER_LOG,
    `${JSON.stringify({ event, name, pid: process.pid, cvd: process.env.CUDA_VISIBLE_DEVICES ?? null, time: Date.now(), ...slurm, ...extra })}\n`,
  );
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    log("signal", { signal });
    process.exit(130);
  });
}
log("start");
console.log(JSON.stringify({ step: 1, loss: 1 }));
setTimeout(() => {
  log("end");
  if (exitCode !== "0") console.error(`${name}: failed on purpose (exit ${exitCode})`);
  process.exit(Number(exitCode));
}, Number(milliseconds));
