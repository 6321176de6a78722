// Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe: JSON
// messages ended by a NUL byte, commands on fd 3, answers and events on fd 4), so the report
// test and the bench can open a page, hear its console errors, run script in it and take a
// screenshot with Debian's `chromium` and nothing else (no websocket library, no puppeteer).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const CANDIDATES = ["chromium", "chromium-browser", "google-chrome"];

/** The browser's path, or null with the reason it is missing. */
export function findChromium() {
  const wanted = process.env.CHROMIUM;
  for (const name of wanted ? [wanted] : CANDIDATES) {
    const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
    if (found.status === 0 && found.stdout.trim()) return { path: found.stdout.trim(), reason: null };
  }
  return { path: null, reason: "no chromium on PATH (apt-get install chromium; .ci/run installs it)" };
}

/**
 * Starts headless Chromium; resolves to a session with send(method, params), a list of console
 * errors and exceptions seen, and close(). `width` x `height` is the window.
 */
export async function launchChromium({ path, width = 1400, height = 1000 } = {}) {
  const profile = mkdtempSync(join(tmpdir(), "ct-chromium-"));
  const child = spawn(
    path,
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--no-default-browser-check",
      "--remote-debugging-pipe",
      `--user-data-dir=${profile}`,
      `--window-size=${width},${height}`,
      "about:blank",
    ],
    { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const input = child.stdio[3];
  const output = child.stdio[4];
  let nextId = 1;
  const pending = new Map();
  const listeners = new Set();
  let buffered = Buffer.alloc(0);
  output.on("data", (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (let end = buffered.indexOf(0); end !== -1; end = buffered.indexOf(0)) {
      const message = JSON.parse(buffered.subarray(0, end).toString("utf8"));
      buffered = buffered.subarray(end + 1);
      if (message.id !== undefined && pending.has(message.id)) {
        const { resolve, reject, method } = pending.get(message.id);
        pending.delete(message.id);
        if (message.error) reject(new Error(`${method}: ${message.error.message}`));
        else resolve(message.result);
      } else for (const listener of listeners) listener(message);
    }
  });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  exited.then(() => {
    for (const { reject, method } of pending.values()) reject(new Error(`${method}: chromium exited\n${stderr}`));
    pending.clear();
  });

  const send = (method, params = {}, sessionId) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject, method });
      input.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });

  // One page target, attached in flat mode: its commands carry its sessionId.
  const { targetId } = await send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
  const page = (method, params) => send(method, params, sessionId);
  const problems = [];
  const events = [];
  listeners.add((message) => {
    if (message.sessionId !== sessionId) return;
    events.push(message);
    if (message.method === "Runtime.exceptionThrown") {
      const details = message.params.exceptionDetails;
      problems.push(`exception: ${details.exception?.description ?? details.text}`);
    } else if (message.method === "Runtime.consoleAPICalled" && (message.params.type === "error" || message.params.type === "assert")) {
      problems.push(`console.${message.params.type}: ${message.params.args.map((arg) => arg.value ?? arg.description).join(" ")}`);
    } else if (message.method === "Log.entryAdded" && message.params.entry.level === "error") {
      problems.push(`log: ${message.params.entry.text} ${message.params.entry.url ?? ""}`.trim());
    }
  });
  await page("Runtime.enable");
  await page("Log.enable");
  await page("Page.enable");
  await page("Emulation.setDeviceMetricsOverride", { width, height, deviceScaleFactor: 1, mobile: false });

  const waitFor = (method, timeoutMs = 30_000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        listeners.delete(listener);
        reject(new Error(`timed out waiting for ${method}`));
      }, timeoutMs);
      const listener = (message) => {
        if (message.sessionId === sessionId && message.method === method) {
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(message.params);
        }
      };
      listeners.add(listener);
    });

  return {
    problems,
    events,
    /** Opens a URL and waits for its load event; resolves to the milliseconds it took. */
    async open(url) {
      const started = performance.now();
      const loaded = waitFor("Page.loadEventFired");
      await page("Page.navigate", { url });
      await loaded;
      return performance.now() - started;
    },
    /** Runs an expression in the page (awaiting a promise); resolves to its JSON value. */
    async evaluate(expression) {
      const { result, exceptionDetails } = await page("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
      if (exceptionDetails) throw new Error(`in the page: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
      return result.value;
    },
    /** Opens another tab on a URL (not driven: it loads and runs on its own); resolves to its target id. */
    async openTab(url) {
      const { targetId: id } = await send("Target.createTarget", { url });
      return id;
    },
    /** The browser's processes' ids (the benchmark reads their CPU time). */
    pid: child.pid,
    /** A PNG of the whole page (not just the window), as a Buffer. */
    async screenshot() {
      const { data } = await page("Page.captureScreenshot", { format: "png", captureBeyondViewport: true });
      return Buffer.from(data, "base64");
    },
    async close() {
      try {
        await Promise.race([send("Browser.close"), new Promise((resolve) => setTimeout(resolve, 3000))]);
      } catch {
        // already gone
      }
      if (child.exitCode === null) child.kill("SIGKILL");
      await exited;
      try {
        // Its helper processes may still be writing the profile for a moment after it exits.
        rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
      } catch {
        // a temporary folder left behind is no reason to fail
      }
    },
  };
}

/**
 * An expression for evaluate(): for each `figure.chart` under `scope`, its metric (data-metric),
 * its canvas's width, how many pixels are inked and in how many colours (to 4 bits a channel).
 */
export function chartInk(scope = "") {
  return `(() => [...document.querySelectorAll(${JSON.stringify(`${scope} figure.chart`.trim())})].map((figure) => {
    const canvas = figure.querySelector("canvas");
    if (!canvas) return { metric: figure.dataset.metric, width: 0, inked: 0, colours: 0 };
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    const colours = new Set();
    let inked = 0;
    for (let i = 0; i < pixels.length; i += 4) {
      if (pixels[i + 3] === 0) continue;
      inked++;
      colours.add((pixels[i] >> 4) + "," + (pixels[i + 1] >> 4) + "," + (pixels[i + 2] >> 4));
    }
    return { metric: figure.dataset.metric, width: canvas.width, inked, colours: colours.size };
  }))()`;
}

