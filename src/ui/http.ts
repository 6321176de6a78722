/** Small HTTP helpers: JSON and error responses, request bodies with a size limit. */
import type { IncomingMessage, ServerResponse } from "node:http";

import { isConfigTrackerError, stringifyPythonJson } from "./views.js";

/** Headers on every response: no caching of data, no framing, no sniffing, no referrer (URLs may carry the token). */
export const BASE_HEADERS = {
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Resource-Policy": "same-origin",
};

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const STATUS_OF_CODE: Record<string, number> = {
  NOT_FOUND: 404,
  NOT_A_FOLDER: 404,
  INVALID_ARGUMENT: 400,
  CONFIG_EXISTS: 409,
  LIMIT_EXCEEDED: 413,
  INVALID_FILE: 422,
  PERMISSION_DENIED: 403,
};

export type JsonStyle = "python" | "strict" | "plain";

/**
 * A value as JSON text. "python": as the CLI's --json prints it (NaN, Infinity as bare tokens,
 * what Python's json module reads); "strict": those numbers as the strings "NaN", "Infinity",
 * "-Infinity", so JSON.parse reads it; "plain": JSON.stringify as it is (for values whose
 * numbers are all finite: much faster than a replacer over a large table).
 */
export function jsonText(value: unknown, style: JsonStyle): string {
  if (style === "python") return stringifyPythonJson(value, 0);
  if (style === "plain") return JSON.stringify(value); // the caller wrote non-finite numbers as strings already
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === "number" && !Number.isFinite(item) ? String(item) : item));
}

export function sendJson(response: ServerResponse, value: unknown, style: JsonStyle = "strict", status = 200): void {
  sendText(response, status, "application/json; charset=utf-8", jsonText(value, style));
}

export function sendText(response: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  response.writeHead(status, {
    ...BASE_HEADERS,
    "Content-Type": type,
    "Content-Length": String(Buffer.byteLength(body)),
    "Cache-Control": "no-store",
    ...headers,
  });
  response.end(body);
}

export function sendError(response: ServerResponse, error: unknown): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  if (error instanceof HttpError) {
    sendJson(response, { error: { code: error.code, message: error.message } }, "strict", error.status);
    return;
  }
  if (isConfigTrackerError(error)) {
    const body: Record<string, unknown> = { code: error.code, message: error.message };
    if (error.key !== undefined) body.key = error.key;
    sendJson(response, { error: body }, "strict", STATUS_OF_CODE[error.code] ?? 500);
    return;
  }
  sendJson(response, { error: { code: "INTERNAL", message: (error as Error)?.message ?? String(error) } }, "strict", 500);
}

/** The request's body as text, at most `limit` bytes (413 past it). */
export function readBody(request: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new HttpError(413, "LIMIT_EXCEEDED", `the body is larger than ${limit} bytes`));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}
