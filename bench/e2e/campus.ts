// bench:e2e's campus: N sockets in classrooms, named as load.mjs names its devices when given them (one id a
// line), so campus-power and the peer get byte-for-byte the same traffic. load.mjs draws each device's current
// between 0.1 and 17.9 A (device index mod 16, plus up to 1.9 A) at 215–224.9 V:
//   normal  rating 32 A: below 0.8 × rating throughout, no rule fires
//   storm   rating 0.1 A: every device is above its rating from its first reading, so `overload` opens for
//           every one of them once 60 s of event time have passed (CONTRACT §5), hundreds at once
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export type Band = "normal" | "storm";

export const RATING_A: Record<Band, number> = { normal: 32, storm: 0.1 };

export const deviceIds = (count: number) => Array.from({ length: count }, (_, i) => `dev-${String(i + 1).padStart(Math.max(4, String(count).length), "0")}`);

/** Writes the campus file and the id list load.mjs reads; returns their paths. */
export function writeCampus(dir: string, count: number, band: Band): { campusFile: string; idsFile: string } {
  const ids = deviceIds(count);
  const lines = [
    "site: { id: bench, name: Bench School, timezone: Asia/Shanghai, nominal_voltage_v: 220 }",
    "buildings:",
    ...Array.from({ length: 10 }, (_, b) => `  - { id: b${b}, name: Teaching ${b}, kind: classroom }`),
    "devices:",
    ...ids.map((id, i) => `  - { id: ${id}, kind: socket, building: b${i % 10}, room: "r${i % 100}", rating_a: ${RATING_A[band]} }`),
  ];
  const campusFile = join(dir, `campus-${band}.yaml`);
  const idsFile = join(dir, "ids.txt");
  writeFileSync(campusFile, `${lines.join("\n")}\n`);
  writeFileSync(idsFile, `${ids.join("\n")}\n`);
  return { campusFile, idsFile };
}
