import { describe, expect, it } from "vitest";

import { ConfigTrackerError } from "../src/errors.js";
import { toJsonValue } from "../src/json-value.js";

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

  it("refuses absurd nesting instead of overflowing the stack", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 5000; i++) deep = [deep];
    expect(errorOf({ deep }).message).toMatch(/deeper than 1000/);
  });
});
