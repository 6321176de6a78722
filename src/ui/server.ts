/**
 * startDashboard(options): the `config-tracker ui` server. It finds the runs under the roots,
 * serves the page (built into dist/ui/ at build time: no network needed), the API (api.ts) and
 * the live events, and keeps the runs current (live.ts). Nothing but the page's own three files
 * and the API is served: no path from a URL ever reaches the file system.
 */
import { readFileSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";

import { handleApi, type ApiContext } from "./api.js";
import { ColumnCache, userCacheDir, type CachePlace } from "./column-cache.js";
import { snapshotFile } from "./index-snapshot.js";
import { EventHub } from "./events.js";
import { BASE_HEADERS, sendError, sendText } from "./http.js";
import { LiveWatcher } from "./live.js";
import { LogStore } from "./log-store.js";
import { RunIndex } from "./run-index.js";
import { Roots } from "./safe-files.js";
import { Access, newToken } from "./security.js";
import { ConfigTrackerError } from "./views.js";
import { WorkerPool } from "./worker-pool.js";

export interface DashboardOptions {
  /** Folders whose runs are served (any depth). */
  roots: string[];
  /** Address to bind (default 127.0.0.1). Any other than loopback makes every request need the token. */
  host?: string;
  /** Port (default 6007, or the next free one up to 6016; 0: any free port). */
  port?: number;
  /** The token (default: a random one). */
  token?: string;
  /** More names the Host header may carry (this machine's DNS name, when bound to it). */
  allowHosts?: string[];
  /** Look for changes only by polling (no fs.watch), as on network file systems. */
  poll?: boolean;
  /** How often live runs are looked at, in ms (default 1000). */
  pollMs?: number;
  /** Where the column cache is kept (default "user": the user's cache folder). */
  cache?: CachePlace | "off";
  /** Read long logs in worker threads (default true). */
  workers?: boolean;
}

export interface Dashboard {
  /** The address to open (with the token when one is needed). */
  url: string;
  host: string;
  port: number;
  token: string;
  index: RunIndex;
  /** Resolves once every run has been read. */
  ready: Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_PORT = 6007;
const PORT_TRIES = 10;

interface PageFiles {
  js: Buffer;
  css: Buffer;
}

let pageFiles: PageFiles | undefined;
function page(): PageFiles {
  if (pageFiles === undefined) {
    const read = (name: string) => {
      try {
        return readFileSync(new URL(`./page/${name}`, import.meta.url));
      } catch {
        throw new ConfigTrackerError("NOT_FOUND", `the dashboard's page (dist/ui/page/${name}) is not built: run npm run build`);
      }
    };
    pageFiles = { js: read("page.js"), css: read("page.css") };
  }
  return pageFiles;
}

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

function html(token: string, title: string): string {
  // The token goes in a meta element for the page's writes; nothing else run-provided is in the HTML.
  // The runs table is asked for while the script loads (the page's first request is that one).
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="config-tracker-token" content="${token}">
<title>${title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/page.css">
<link rel="preload" href="/api/table" as="fetch" crossorigin="anonymous">
<script src="/assets/page.js" defer></script>
</head>
<body><noscript>The dashboard needs JavaScript.</noscript></body>
</html>
`;
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      reject(error);
    };
    const onListening = () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  if (options.roots.length === 0) throw new ConfigTrackerError("INVALID_ARGUMENT", "give a folder of runs");
  for (const root of options.roots) {
    const info = statSync(root, { throwIfNoEntry: false });
    if (info === undefined) throw new ConfigTrackerError("NOT_FOUND", `${root}: no such folder`, { path: root });
    if (!info.isDirectory()) throw new ConfigTrackerError("NOT_A_FOLDER", `${root}: not a folder`, { path: root });
  }
  page(); // a missing build is an error now, not at the first request
  const host = options.host ?? "127.0.0.1";
  const token = options.token ?? newToken();
  const roots = new Roots(options.roots);
  const cache = ColumnCache.create(roots, options.cache ?? "user");
  const cacheDir = userCacheDir();
  const index = new RunIndex(roots, options.cache === "off" || cacheDir === null ? null : snapshotFile(cacheDir, roots.real));
  const pool =
    options.workers === false ? null : new WorkerPool({ roots: roots.real, cache: cache === null ? null : { place: cache.place, userDir: cache.userDir } });
  const store = new LogStore(roots, cache, pool);
  const hub = new EventHub();
  const ready = index.load();
  let access: Access | null = null;
  let live: LiveWatcher | null = null;

  const context: ApiContext = {
    index,
    loaded: ready,
    store,
    hub,
    info: () => ({
      roots: roots.given,
      runs: index.runs.size,
      version: index.version,
      loaded: index.loadStats,
      watching: live?.watching ? "fs.watch and polling" : "polling",
      poll_ms: options.pollMs ?? 1000,
      cache: cache === null ? null : { place: cache.place, folder: cache.userDir },
      token_required: access?.requireToken ?? false,
      clients: hub.clients,
    }),
  };
  const title = `config-tracker: ${roots.given.join(", ")}`.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? "/", "http://dashboard");
    if (access === null) {
      sendText(response, 503, "text/plain; charset=utf-8", "starting\n");
      return;
    }
    const verdict = access.check(request, url);
    if (!verdict.ok) {
      sendText(response, verdict.status, "application/json; charset=utf-8", JSON.stringify({ error: { code: verdict.code, message: verdict.message } }));
      return;
    }
    if (verdict.setCookie) response.setHeader("Set-Cookie", verdict.setCookie);
    if (verdict.cleanUrl !== null && !url.pathname.startsWith("/api/")) {
      response.writeHead(303, { ...BASE_HEADERS, Location: verdict.cleanUrl, "Cache-Control": "no-store" });
      response.end();
      return;
    }
    if (url.pathname.startsWith("/api/")) return handleApi(context, request, response, url);
    if (request.method !== "GET" && request.method !== "HEAD") {
      sendText(response, 405, "text/plain; charset=utf-8", "method not allowed\n");
      return;
    }
    const files = page();
    switch (url.pathname) {
      case "/":
        return sendText(response, 200, "text/html; charset=utf-8", html(token, title), { "Content-Security-Policy": CSP });
      case "/assets/page.js":
        return sendText(response, 200, "text/javascript; charset=utf-8", files.js, { "Cache-Control": "no-cache" });
      case "/assets/page.css":
        return sendText(response, 200, "text/css; charset=utf-8", files.css, { "Cache-Control": "no-cache" });
    }
    sendText(response, 404, "text/plain; charset=utf-8", "not found\n");
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => sendError(response, error));
  });
  server.keepAliveTimeout = 30_000;

  let port: number;
  const wanted = options.port ?? DEFAULT_PORT;
  try {
    port = await listen(server, host, wanted);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EADDRINUSE" || options.port !== undefined) {
      throw new ConfigTrackerError("INVALID_ARGUMENT", `cannot listen on ${host}:${wanted}: ${code === "EADDRINUSE" ? "the port is in use (--port 0 takes any free one)" : (error as Error).message}`);
    }
    port = -1;
    for (let next = wanted + 1; next < wanted + PORT_TRIES && port === -1; next++) {
      try {
        port = await listen(server, host, next);
      } catch {
        // taken too
      }
    }
    if (port === -1) port = await listen(server, host, 0);
  }
  access = new Access({ host, port, token, ...(options.allowHosts ? { allowHosts: options.allowHosts } : {}) });
  live = new LiveWatcher(index, hub, { pollMs: options.pollMs ?? 1000, watch: options.poll !== true });
  const watcher = live;
  void ready.then(() => watcher.start());

  const shownHost = host === "0.0.0.0" || host === "::" ? hostname() : host.includes(":") ? `[${host}]` : host;
  const url = `http://${shownHost}:${port}/${access.requireToken ? `?token=${token}` : ""}`;
  return {
    url,
    host,
    port,
    token,
    index,
    ready,
    async close() {
      live?.close();
      index.close();
      hub.close();
      await pool?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
