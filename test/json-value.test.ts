import { describe, expect, it } from "vitest";

import { ConfigTrackerError } from "../src/errors.js";
import { convertJsonAsync, serializeJson, serializeJsonAsync, toJsonValue } from "../src/json-value.js";
import { stringifyPythonJson } from "../src/python-json.js";

function errorOf(value: unknown): ConfigTrackerError {
  try {
    toJsonValue(value, "config");
  } catch (error) {
    if (error instanceof ConfigTrackerError) return error;
    throw error;
  }
  throw new Error("expected an error");
}

describe("toJsonValue", () => {
  it("keeps JSON data as it is, Dates as ISO strings, NaN as a number", () => {
    const date = new Date("2024-05-01T12:00:00.000Z");
    expect(toJsonValue({ a: 1, b: [true, null, "x"], c: { d: NaN }, when: date }, "config")).toEqual({
      a: 1,
      b: [true, null, "x"],
      c: { d: NaN },
      when: "2024-05-01T12:00:00.000Z",
    });
  });

  it("drops undefined properties and nulls undefined array slots, like JSON.stringify", () => {
    expect(toJsonValue({ a: undefined, b: [1, undefined] }, "config")).toEqual({ b: [1, null] });
  });

  it("shared (non-circular) references are fine", () => {
    const shared = { lr: 1 };
    expect(toJsonValue({ a: shared, b: shared }, "config")).toEqual({ a: { lr: 1 }, b: { lr: 1 } });
  });

  it.each([
    [{ seed: 42n }, "config.seed", /BigInt 42n/],
    [{ schedule: () => 1 }, "config.schedule", /a function/],
    [{ tag: Symbol("x") }, "config.tag", /Symbol\(x\)/],
    [{ layers: [1, { act: Math.max }] }, "config.layers[1].act", /a function/],
    [{ "odd key": { x: 1n } }, 'config["odd key"].x', /BigInt/],
    [{ vocab: new Map([["a", 1]]) }, "config.vocab", /Map.*Object\.fromEntries/],
    [{ ids: new Set([1]) }, "config.ids", /Set/],
    [{ weights: new Float32Array(2) }, "config.weights", /Float32Array/],
    [{ when: new Date("nope") }, "config.when", /invalid Date/],
    [{ last_error: new TypeError("boom") }, "config.last_error", /an Error \("boom"\).*error\.message/],
    [{ scheduler: new (class CosineSchedule { get lr() { return 1; } })() }, "config.scheduler", /a CosineSchedule instance/],
    [{ opts: { [Symbol("secret")]: 1, a: 2 } }, "config.opts[Symbol(secret)]", /a Symbol key/],
    [{ pending: Promise.resolve(1) }, "config.pending", /a Promise/],
  ])("%o fails with INVALID_CONFIG at %s", (value, key, message) => {
    const error = errorOf(value);
    expect(error.code).toBe("INVALID_CONFIG");
    expect(error.key).toBe(key);
    expect(error.message).toMatch(message);
    expect(error.message.startsWith(`${key}:`)).toBe(true);
  });

  it("names the key where a circular reference closes", () => {
    const config: Record<string, unknown> = { model: { name: "gpt" } };
    (config.model as Record<string, unknown>).parent = config;
    const error = errorOf(config);
    expect(error.key).toBe("config.model.parent");
    expect(error.message).toMatch(/circular/);
  });

  it("boxed primitives unbox, objects with toJSON convert, null-prototype objects are plain", () => {
    const bare = Object.assign(Object.create(null) as object, { a: 1 });
    expect(toJsonValue({ n: new Number(3), s: new String("x"), b: new Boolean(false), bare }, "config")).toEqual({
      n: 3,
      s: "x",
      b: false,
      bare: { a: 1 },
    });
    expect(toJsonValue({ url: new URL("http://h/p") }, "config")).toEqual({ url: "http://h/p" });
  });

  it("refuses a value over 64 MiB as JSON with LIMIT_EXCEEDED", () => {
    const big = { rows: Array.from({ length: 70 }, () => "x".repeat(1024 * 1024)) };
    const error = errorOf(big);
    expect(error.code).toBe("LIMIT_EXCEEDED");
    expect(error.key).toBe("config");
  });

  it("refuses absurd nesting instead of overflowing the stack", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 5000; i++) deep = [deep];
    expect(errorOf({ deep }).message).toMatch(/deeper than 1000/);
  });
});

describe("the pausing converter and serializer", () => {
  const samples: unknown[] = [
    { a: 1, b: [true, null, "x\n\"q\"", { c: NaN, d: -Infinity, e: Infinity }], f: {}, g: [], h: -0, i: 1e-7, j: 1e21 },
    [[[]], [{}], "é\u2028", 0.1 + 0.2],
    "plain",
    NaN,
    { nested: { deeper: { list: Array.from({ length: 50 }, (_, i) => ({ i, v: i / 7 })) } } },
  ];

  it.each(samples.map((sample) => [sample]))("writes %j exactly as stringifyPythonJson does", (sample) => {
    const value = toJsonValue(sample, "config");
    expect(serializeJson(value)).toBe(stringifyPythonJson(value));
  });

  it("a large config (10 MB) comes out the same through the sliced path, with the loop free between slices", async () => {
    const config = {
      vocab: Array.from({ length: 200_000 }, (_, i) => `token_${i}`),
      table: Array.from({ length: 2_000 }, (_, i) => ({ id: i, w: Array.from({ length: 100 }, (_, j) => Math.sin(i * j)) })),
      diverged: NaN,
    };
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 1);
    const converted = await convertJsonAsync(config, "config");
    const pieces = await serializeJsonAsync(converted.value, converted.nodes, converted.nonFinite);
    expect(pieces.length).toBeGreaterThan(10); // written piece by piece, never as one 10 MB string
    const text = pieces.join("");
    clearInterval(timer);
    expect(converted.nodes).toBeGreaterThan(400_000);
    expect(converted.nonFinite).toBe(true);
    expect(text).toBe(stringifyPythonJson(config));
    expect(ticks).toBeGreaterThan(3); // timers ran while it worked
  });

  it("the async converter names the bad key as the sync one does", async () => {
    await expect(convertJsonAsync({ a: [1, { b: () => 0 }] }, "config")).rejects.toMatchObject({
      code: "INVALID_CONFIG",
      key: "config.a[1].b",
    });
  });
});
