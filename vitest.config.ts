import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // One real influxd for the whole run (tests/helpers/global-setup.ts); each test file uses its own database.
    globalSetup: ["tests/helpers/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // One file at a time: the integration files start whole stacks (influxd, broker, ingest, alerts,
    // API, sometimes Chromium) with event-time and watchdog timing; two such stacks at once on a 2-core
    // machine starved each other into flaky timeouts. Sequential costs a few minutes and removes that.
    fileParallelism: false,
    // Under CI a JSON report too, from which .ci/run prints a plain "N passed, N failed" line.
    reporters: process.env.CI ? ["default", ["json", { outputFile: ".tmp/vitest-report.json" }]] : ["default"],
  },
});
