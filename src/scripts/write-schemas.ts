/** Build step: writes the JSON Schema files shipped in schema/ from the zod schemas. */
import { mkdir, writeFile } from "node:fs/promises";
import { z } from "zod";

import { configFileSchema, resultsFileSchema, statusFileSchema } from "../schema.js";

const outDir = new URL("../../schema/", import.meta.url);

const files: Array<[string, z.ZodType, string]> = [
  ["config.schema.json", configFileSchema, "config-tracker config.json"],
  ["results.schema.json", resultsFileSchema, "config-tracker results.json"],
  ["status.schema.json", statusFileSchema, "config-tracker status.json"],
];

await mkdir(outDir, { recursive: true });
for (const [name, schema, title] of files) {
  const jsonSchema = { ...z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }), title };
  await writeFile(new URL(name, outDir), `${JSON.stringify(jsonSchema, null, 2)}\n`);
}
