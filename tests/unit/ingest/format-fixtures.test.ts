// One walker for every golden fixture folder under tests/fixtures/formats/<format>/<case>/:
//   topic          the MQTT topic the message arrives on
//   payload.json   the payload bytes as the device sends them (payload.txt when it is not JSON)
//   context.json   optional: {"receivedAt": ISO, "timeZone": IANA, "previous": the format's kept state}
//                  (default 2023-05-19T12:53:00Z, the campus zone, no previous state); a time zone
//                  moves the fixture campus's site there (a device's zone is its site's: CONTRACT §9)
//   expected.json  {readings, statuses, events, refusals, relays, lines}: timestamps as ISO, lines = line
//                  protocol, relays = the relay reports (CONTRACT §10); an absent key means none
// The messages go through the real router (tests/fixtures/formats/campus.yaml) and point mapping.
// UPDATE_GOLDEN=1 rewrites expected.json from the current output (review the diff before committing).
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseYaml, validateCampus } from "../../../domain/campus/parse.js";
import { jsonObjectOrEmpty } from "../../../domain/json-object.js";
import { toLine } from "../../../domain/line-protocol.js";
import { processMessage } from "../../../ingest/process-message.js";
import { buildRouter, type Router } from "../../../ingest/routing.js";

const ROOT = join(import.meta.dirname, "../../fixtures/formats");
const CAMPUS_TEXT = readFileSync(join(ROOT, "campus.yaml"), "utf8");

/** The router of the fixture campus, its site moved to `timeZone` when given. */
function routerFor(timeZone: string | undefined): Router {
  const parsed = parseYaml(CAMPUS_TEXT);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const doc = jsonObjectOrEmpty(parsed.value);
  const result = validateCampus(timeZone === undefined ? doc : { ...doc, site: { ...jsonObjectOrEmpty(doc.site), timezone: timeZone } });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return buildRouter(result.campus);
}
const DEFAULT_RECEIVED_AT = "2023-05-19T12:53:00.000Z";
const RAW_RETENTION_MS = 90 * 86_400_000;

const iso = (ts: number) => new Date(ts).toISOString();

function runCase(dir: string) {
  const topic = readFileSync(join(dir, "topic"), "utf8").trim();
  const payloadFile = existsSync(join(dir, "payload.json")) ? "payload.json" : "payload.txt";
  const payload = readFileSync(join(dir, payloadFile));
  const context = existsSync(join(dir, "context.json")) ? JSON.parse(readFileSync(join(dir, "context.json"), "utf8")) : {};
  const receivedAt = Date.parse(context.receivedAt ?? DEFAULT_RECEIVED_AT);
  const options = { receivedAt, maxAgeMs: RAW_RETENTION_MS };
  const previous: unknown = context.previous;

  const router = routerFor(context.timeZone);
  const routed = router.route(topic);
  const decoded = routed.ok
    ? routed.route.decode(payload, { device: routed.route.device.id, timeZone: routed.route.timeZone, ...options, ...(previous === undefined ? {} : { previous }) })
    : { readings: [], statuses: [], events: [], refusals: [routed.refusal], relays: [] };
  const effects = processMessage(router, topic, payload, { ...options, previousState: () => previous });
  return {
    readings: decoded.readings.map((r) => ({ ...r, ts: iso(r.ts) })),
    statuses: decoded.statuses.map((s) => ({ ...s, ts: iso(s.ts) })),
    events: decoded.events.map((e) => ({ ...e, ts: iso(e.ts) })),
    refusals: decoded.refusals,
    relays: decoded.relays.map((r) => ({ ...r, ts: iso(r.ts) })),
    lines: effects.points.map(toLine),
  };
}

for (const format of readdirSync(ROOT).filter((name) => statSync(join(ROOT, name)).isDirectory())) {
  describe(`the ${format} format`, () => {
    for (const name of readdirSync(join(ROOT, format)).sort()) {
      const dir = join(ROOT, format, name);
      it(`decodes the golden case "${name}" as expected`, () => {
        const actual = runCase(dir);
        const expectedFile = join(dir, "expected.json");
        if (process.env.UPDATE_GOLDEN === "1") writeFileSync(expectedFile, JSON.stringify(actual, null, 2) + "\n");
        const expected = JSON.parse(readFileSync(expectedFile, "utf8"));
        expect(actual).toEqual({ readings: [], statuses: [], events: [], refusals: [], relays: [], lines: [], ...expected });
      });
    }
  });
}
