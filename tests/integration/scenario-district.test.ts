// Every bundled scenario on the demo district file (issue 12 item 8), against the real stack running the
// whole district: nine here; overload, remote-switch-off and flapping (through `scenario run --check`) in
// scenario-any-campus.test.ts, which checks more of what those three picked.
import { afterEach, describe, it } from "vitest";
import type { RunningService } from "../../infra/service.js";
import { listScenarios } from "../../simulator/index.js";
import { runElsewhere } from "./scenario-elsewhere.js";

const DISTRICT = "config/demo-district.yaml";
const CHECKED_IN_ANY_CAMPUS = ["overload", "remote-switch-off", "flapping"];

let running: Pick<RunningService, "stop">[] = [];
afterEach(async () => {
  for (const service of running.reverse()) await service.stop();
  running = [];
});

describe(`bundled scenarios on ${DISTRICT}, against the real stack`, () => {
  it.each(listScenarios().filter((name) => !CHECKED_IN_ANY_CAMPUS.includes(name)))("%s passes its check on the devices it picked", { timeout: 90_000 }, async (name) => {
    await runElsewhere(name, DISTRICT, running);
  });
});
