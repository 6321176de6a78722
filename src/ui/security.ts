/**
 * Who may ask the dashboard for what. It serves files from shared storage, so:
 *  - the Host header must name this server (the address it is bound to, localhost, or a name
 *    allowed with --allow-host): a page on another site whose name was pointed at this address
 *    (DNS rebinding) is refused;
 *  - bound to anything but loopback, every request needs the token: in the URL printed at start
 *    (then kept in a cookie, and the URL cleaned), in the cookie, or as `Authorization: Bearer`;
 *  - a write (notes and tags) needs the token in a header (the page has it from its own HTML, a
 *    script as Bearer) and, when the browser says where the request comes from (Origin), this
 *    server's own origin: a cross-site form or fetch cannot write.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import { hostname, networkInterfaces } from "node:os";

export const TOKEN_HEADER = "x-config-tracker-token";

export interface AccessOptions {
  /** The address the server is bound to. */
  host: string;
  port: number;
  token: string;
  /** Further host names accepted in the Host header (a DNS name of this machine). */
  allowHosts?: string[];
}

export type Verdict =
  | { ok: true; setCookie: string | null; cleanUrl: string | null }
  | { ok: false; status: number; code: string; message: string };

export function newToken(): string {
  return randomBytes(24).toString("base64url");
}

export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "");
  return bare === "localhost" || bare === "::1" || /^127\.\d+\.\d+\.\d+$/.test(bare);
}

function sameSecret(given: string | null | undefined, token: string): boolean {
  if (typeof given !== "string") return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class Access {
  readonly requireToken: boolean;
  readonly cookieName: string;
  readonly #names: Set<string>;

  constructor(readonly options: AccessOptions) {
    this.requireToken = !isLoopback(options.host);
    // Cookies do not tell ports apart: one name per port, so two dashboards on a host do not mix.
    this.cookieName = `config_tracker_${options.port}`;
    const names = new Set(["localhost", "127.0.0.1", "::1", options.host.replace(/^\[|\]$/g, "").toLowerCase()]);
    for (const name of options.allowHosts ?? []) names.add(name.toLowerCase());
    if (options.host === "0.0.0.0" || options.host === "::") {
      names.add(hostname().toLowerCase());
      for (const list of Object.values(networkInterfaces())) for (const address of list ?? []) names.add(address.address.toLowerCase());
    }
    this.#names = names;
  }

  /** Whether a Host header names this server. */
  hostAllowed(header: string | undefined): boolean {
    if (header === undefined || header === "") return false;
    let name = header.toLowerCase();
    if (name.startsWith("[")) name = name.slice(1, name.indexOf("]") === -1 ? undefined : name.indexOf("]"));
    else if (isIP(name) !== 6) name = name.replace(/:\d+$/, "");
    return this.#names.has(name);
  }

  #cookie(request: IncomingMessage): string | null {
    const header = request.headers.cookie;
    if (!header) return null;
    for (const part of header.split(";")) {
      const [name, ...value] = part.trim().split("=");
      if (name === this.cookieName) return value.join("=");
    }
    return null;
  }

  #bearer(request: IncomingMessage): string | null {
    const header = request.headers.authorization;
    return header?.startsWith("Bearer ") ? header.slice(7).trim() : null;
  }

  /** The checks every request passes before anything is read. */
  check(request: IncomingMessage, url: URL): Verdict {
    if (!this.hostAllowed(request.headers.host)) {
      return { ok: false, status: 403, code: "HOST_REFUSED", message: `Host ${JSON.stringify(request.headers.host ?? "")} is not this server's name (start it with --allow-host NAME to use that name)` };
    }
    const token = this.options.token;
    const fromUrl = url.searchParams.get("token");
    const urlToken = fromUrl !== null && sameSecret(fromUrl, token);
    const hasToken = urlToken || sameSecret(this.#cookie(request), token) || sameSecret(this.#bearer(request), token);
    if (this.requireToken && !hasToken) {
      return { ok: false, status: 401, code: "TOKEN_REQUIRED", message: "open the URL config-tracker ui printed (it carries the token), or send Authorization: Bearer <token>" };
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      const origin = request.headers.origin;
      if (origin !== undefined && origin !== `http://${request.headers.host}`) {
        return { ok: false, status: 403, code: "ORIGIN_REFUSED", message: `a write from ${origin}: only this dashboard's own pages may write` };
      }
      const given = request.headers[TOKEN_HEADER];
      if (!sameSecret(Array.isArray(given) ? given[0] : given, token) && !sameSecret(this.#bearer(request), token)) {
        return { ok: false, status: 403, code: "TOKEN_REQUIRED", message: `a write needs the token in the ${TOKEN_HEADER} header (or Authorization: Bearer)` };
      }
    }
    let cleanUrl: string | null = null;
    if (fromUrl !== null && urlToken && request.method === "GET") {
      const clean = new URL(url);
      clean.searchParams.delete("token");
      cleanUrl = `${clean.pathname}${clean.search}`;
    }
    const setCookie = urlToken ? `${this.cookieName}=${token}; HttpOnly; SameSite=Strict; Path=/` : null;
    return { ok: true, setCookie, cleanUrl };
  }
}
