import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The readable summary for people, and a JSON report that .ci/run counts.
    reporters: ["default", ["json", { outputFile: "test-results/vitest.json" }]],
  },
});
