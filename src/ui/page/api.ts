/** Talking to the dashboard's server: GETs of JSON, and writes carrying the token from the page's HTML. */
const token = (document.querySelector('meta[name="config-tracker-token"]') as HTMLMetaElement | null)?.content ?? "";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function parse<T>(response: Response): Promise<T> {
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError(response.status, "BAD_RESPONSE", `${response.status}: ${text.slice(0, 200)}`);
  }
  if (!response.ok) {
    const error = (body as { error?: { code?: string; message?: string } }).error;
    throw new ApiError(response.status, error?.code ?? "ERROR", error?.message ?? `HTTP ${response.status}`);
  }
  return body as T;
}

export function query(path: string, params: Record<string, string | number | string[] | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) for (const item of value) search.append(key, item);
    else search.append(key, String(value));
  }
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}

export async function get<T>(path: string, params: Record<string, string | number | string[] | undefined | null> = {}, signal?: AbortSignal): Promise<T> {
  return parse<T>(await fetch(query(path, params), { credentials: "same-origin", ...(signal ? { signal } : {}) }));
}

export async function put<T>(path: string, params: Record<string, string>, body: unknown): Promise<T> {
  return parse<T>(
    await fetch(query(path, params), {
      method: "PUT",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-Config-Tracker-Token": token },
      body: JSON.stringify(body),
    }),
  );
}
