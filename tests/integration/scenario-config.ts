// The demo's campus files copied for the scenario tests, their schedules moved so that none runs during a
// test by chance (a schedule running mid-scenario would switch what no scenario expects): every schedule
// twelve hours from now, except one a test names, put at the coming minute on every day of the week
// (a school-days-only schedule would not run on a weekend or in the vacation, when CI may well run).
import { cpSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { wallClock } from "../../domain/time-zone.js";

const EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

const yamlFiles = (root: string): string[] =>
  readdirSync(root).flatMap((name) => {
    const path = join(root, name);
    return statSync(path).isDirectory() ? yamlFiles(path) : name.endsWith(".yaml") ? [path] : [];
  });

const hhmm = (instant: number, timeZone: string) => {
  const local = wallClock(instant, timeZone);
  return `${String(local.hour).padStart(2, "0")}:${String(local.minute).padStart(2, "0")}`;
};

/** Copies config/ into `dir`; `meeting`: the schedule to put at `atMs`'s minute, every day. */
export function copyDemoConfig(dir: string, meeting?: { schedule: string; atMs: number }): void {
  cpSync("config", dir, { recursive: true });
  for (const file of yamlFiles(dir)) {
    const doc = parseDocument(readFileSync(file, "utf8"));
    const schedules = doc.get("schedules") as { items: { get(key: string): unknown }[] } | undefined;
    if (!schedules) continue;
    const zone = String(doc.getIn(["site", "timezone"]));
    schedules.items.forEach((schedule, i) => {
      if (meeting !== undefined && schedule.get("id") === meeting.schedule) {
        doc.setIn(["schedules", i, "at"], hhmm(meeting.atMs, zone));
        doc.setIn(["schedules", i, "days"], doc.createNode(EVERY_DAY, { flow: true }));
        doc.setIn(["schedules", i, "school_days_only"], false);
      } else {
        doc.setIn(["schedules", i, "at"], hhmm(Date.now() + 12 * 3_600_000, zone));
      }
    });
    writeFileSync(file, doc.toString());
  }
}
