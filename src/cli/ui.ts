/**
 * `config-tracker ui [ROOT...] [--host H] [--port N] [--open]`: the live dashboard of the runs
 * under ROOT (default runs/). Prints its URL as the first line; Ctrl-C (or SIGTERM) stops it.
 */
import { spawn } from "node:child_process";

import { startDashboard } from "../ui/server.js";
import { parseCommandArgs, printError, usageError } from "./shared.js";

export async function uiCommand(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(argv, {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
    open: { type: "boolean", default: false },
    poll: { type: "boolean", default: false },
    "poll-interval": { type: "string" },
    "allow-host": { type: "string", multiple: true },
    cache: { type: "string", default: "user" },
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) return usageError(`--port: a port number from 0 to 65535 (got ${values.port})`);
  }
  let pollMs: number | undefined;
  if (values["poll-interval"] !== undefined) {
    pollMs = Number(values["poll-interval"]) * 1000;
    if (!(pollMs >= 100 && pollMs <= 60_000)) return usageError("--poll-interval: seconds from 0.1 to 60");
  }
  const cache = values.cache;
  if (cache !== "user" && cache !== "beside" && cache !== "off") return usageError(`--cache: user, beside or off (got ${cache})`);
  const dashboard = await startDashboard({
    roots: positionals.length > 0 ? positionals : ["runs"],
    host: values.host,
    ...(port !== undefined ? { port } : {}),
    ...(pollMs !== undefined ? { pollMs } : {}),
    poll: values.poll,
    cache,
    ...(values["allow-host"] ? { allowHosts: values["allow-host"] } : {}),
    ...(process.env.CONFIG_TRACKER_UI_TOKEN ? { token: process.env.CONFIG_TRACKER_UI_TOKEN } : {}),
  });
  process.stdout.write(`${dashboard.url}\n`);
  dashboard.ready.then(
    () => {
      const problems = dashboard.index.problems.size;
      process.stderr.write(`serving ${dashboard.index.runs.size} runs${problems ? ` (${problems} unreadable)` : ""}; Ctrl-C stops\n`);
    },
    (error: unknown) => printError(`error: ${(error as Error).message}\n`),
  );
  if (values.open) {
    const opener = process.platform === "darwin" ? "open" : "xdg-open";
    const child = spawn(opener, [dashboard.url], { stdio: "ignore", detached: true });
    child.on("error", () => process.stderr.write(`could not start ${opener}: open ${dashboard.url} yourself\n`));
    child.unref();
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  await dashboard.close();
  process.stderr.write(`stopped (${signal})\n`);
  return 0;
}
