// Every bundled scenario that fits a primary school, on that school's own campus file from the demo
// district (issue 12 item 8: "runs on any school's campus file"), against the real stack: other device
// names, no dormitory, its own schedules and calendar. The two that need a dormitory are refused there,
// naming what is missing (scenario-any-campus.test.ts), and run on the district (scenario-district.test.ts).
import { afterEach, describe, it } from "vitest";
import type { RunningService } from "../../infra/service.js";
import { listScenarios } from "../../simulator/index.js";
import { runElsewhere } from "./scenario-elsewhere.js";

const SCHOOL = "config/demo-schools/meicun-primary.yaml";
const NEEDS_A_DORMITORY = ["dorm-heater-cutoff", "malignant-load"];

let running: Pick<RunningService, "stop">[] = [];
afterEach(async () => {
  for (const service of running.reverse()) await service.stop();
  running = [];
});

describe(`bundled scenarios on ${SCHOOL}, against the real stack`, () => {
  it.each(listScenarios().filter((name) => !NEEDS_A_DORMITORY.includes(name)))("%s passes its check on the devices it picked", { timeout: 90_000 }, async (name) => {
    await runElsewhere(name, SCHOOL, running);
  });
});
