// bench:reports's campus: one school of N devices wired as bench:district's schools are (per building of 100
// devices a 3-phase feeder meter, 33 room breakers under it and two sockets under each room breaker; the
// building kinds cycle through a boarding middle school's, so load shapes and occupied hours differ), with the
// demo campus's school calendar (config/demo-campus.yaml: two terms, the vacations, the public holidays and
// their make-up workdays), so the after-hours split judges holidays as the product does.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { schoolDocument } from "../district/school-files.js";

/** The demo campus, whose calendar every bench school takes. */
const DEMO_CAMPUS = new URL("../../config/demo-campus.yaml", import.meta.url);
/** The simulator's history step is 5 min whatever a device's interval; this is only the live one, s. */
const REPORT_INTERVAL_S = 60;

export interface BenchCampus {
  /** The campus file (CAMPUS_CONFIG). */
  file: string;
  /** The school's site id. */
  site: string;
}

/** Writes `dir/campus.yaml`: one school of `devices` devices in buildings of 100, with the demo calendar. */
export function writeBenchCampus(dir: string, devices: number): BenchCampus {
  const { id, document } = schoolDocument(0, devices, REPORT_INTERVAL_S);
  const { calendar } = parse(readFileSync(DEMO_CAMPUS, "utf8")) as { calendar: unknown };
  const file = join(dir, "campus.yaml");
  writeFileSync(file, stringify({ ...document, calendar }, { lineWidth: 0 }));
  return { file, site: id };
}
