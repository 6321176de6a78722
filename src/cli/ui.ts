/**
 * `config-tracker ui [ROOT...] [--host H] [--port N] [--open]`: the live dashboard of the runs
 * under ROOT (default runs/). Prints its URL as the first line; Ctrl-C (or SIGTERM) stops it.
 */
import { spawn } from "node:child_process";

import { startDashboard } from "../ui/server.js";
import { commandLine, print, printError, say, UsageError, warn } from "./shared.js";

export async function uiCommand(argv: string[]): Promise<number> {
  const args = commandLine("ui", argv);
  const portText = args.string("port");
  let port: number | undefined;
  if (portText !== undefined) {
    port = Number(portText);
    if (!/^\d+$/.test(portText) || port > 65535) throw new UsageError(`--port: a port number from 0 to 65535 (got ${portText})`);
  }
  const pollText = args.string("poll-interval");
  let pollMs: number | undefined;
  if (pollText !== undefined) {
    pollMs = Number(pollText) * 1000;
    if (!(pollMs >= 100 && pollMs <= 60_000)) throw new UsageError(`--poll-interval: seconds from 0.1 to 60 (got ${pollText})`);
  }
  const cache = args.string("cache") ?? "user";
  if (cache !== "user" && cache !== "beside" && cache !== "off") throw new UsageError(`--cache: user, beside or off (got ${cache})`);
  const allowHosts = args.strings("allow-host");
  const dashboard = await startDashboard({
    roots: args.positionals.length > 0 ? args.positionals : ["runs"],
    host: args.string("host") ?? "127.0.0.1",
    ...(port !== undefined ? { port } : {}),
    ...(pollMs !== undefined ? { pollMs } : {}),
    poll: args.flag("poll"),
    cache,
    ...(allowHosts.length > 0 ? { allowHosts } : {}),
    ...(process.env.CONFIG_TRACKER_UI_TOKEN ? { token: process.env.CONFIG_TRACKER_UI_TOKEN } : {}),
  });
  print(`${dashboard.url}\n`);
  dashboard.ready.then(
    () => {
      const problems = dashboard.index.problems.size;
      printError(`serving ${dashboard.index.runs.size} runs${problems ? ` (${problems} unreadable)` : ""}; Ctrl-C stops\n`);
    },
    (error: unknown) => say("ui", (error as Error).message),
  );
  if (args.flag("open")) {
    const opener = process.platform === "darwin" ? "open" : "xdg-open";
    const child = spawn(opener, [dashboard.url], { stdio: "ignore", detached: true });
    child.on("error", () => warn("ui", `could not start ${opener}: open ${dashboard.url} yourself`));
    child.unref();
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  await dashboard.close();
  printError(`stopped (${signal})\n`);
  return 0;
}
