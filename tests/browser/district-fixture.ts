// The district the district browser test runs (CONTRACT §9): three schools of very different sizes, with
// inline sites. Not the demo district: the test needs a school of 2,000 devices (the campus view must
// stay usable at that size, issue 12 §7) and decides itself which school needs attention first.
// Every device reports hourly (`report_interval_s`), so no offline watchdog (3 × the interval) fires
// during the test: a device is online only when the test says so.
import { writeFileSync } from "node:fs";
import { join } from "node:path";

interface FixtureDevice {
  id: string;
  kind: "breaker" | "meter";
  building: string;
  room?: string;
  parent?: string;
  rating_a?: number;
  curve?: "C";
  report_interval_s: number;
}

const HOURLY_S = 3600;

/** A building's feeder meter and `rooms` room breakers fed from it, rooms numbered by floor (101…120, 201…). */
function building(prefix: string, id: string, rooms: number): FixtureDevice[] {
  const feeder: FixtureDevice = { id: `${prefix}-feeder`, kind: "meter", building: id, report_interval_s: HOURLY_S };
  const breakers = Array.from({ length: rooms }, (_, i): FixtureDevice => {
    const room = String((1 + Math.floor(i / 20)) * 100 + 1 + (i % 20));
    return { id: `${prefix}-r${room}`, kind: "breaker", building: id, room, parent: feeder.id, rating_a: 16, curve: "C", report_interval_s: HOURLY_S };
  });
  return [feeder, ...breakers];
}

const site = (id: string, name: string) => ({ id, name, timezone: "Asia/Shanghai", nominal_voltage_v: 220 });

/** The boarding middle school: 20 buildings of a feeder and 99 rooms each, 2,000 devices. */
const XINWU_BUILDINGS = Array.from({ length: 20 }, (_, i) => {
  const n = String(i + 1).padStart(2, "0");
  return { id: `xm-b${n}`, name: `${i % 2 === 0 ? "Dormitory" : "Teaching Building"} ${i + 1}`, kind: i % 2 === 0 ? "dormitory" : "classroom" };
});

export const DISTRICT = {
  district: { id: "test-district", name: "Test District Education Bureau" },
  sites: [
    {
      site: site("xinwu-middle", "Xinwu Experimental Middle School"),
      buildings: XINWU_BUILDINGS,
      devices: XINWU_BUILDINGS.flatMap((b) => building(b.id, b.id, 99)),
    },
    {
      site: site("meicun-primary", "Meicun Primary School"),
      buildings: [
        { id: "mc-class", name: "Classroom Block", kind: "classroom" },
        { id: "mc-office", name: "Office Building", kind: "office" },
      ],
      devices: [...building("mc-c1", "mc-class", 5), ...building("mc-o1", "mc-office", 5)],
    },
    {
      site: site("sunflower-kg", "Sunflower Kindergarten"),
      buildings: [{ id: "sf-main", name: "Main Building", kind: "classroom" }],
      devices: building("sf-m1", "sf-main", 5),
    },
  ],
};

/** Every device id of a site of the fixture. */
export const deviceIdsOf = (siteId: string): string[] => DISTRICT.sites.find((s) => s.site.id === siteId)!.devices.map((d) => d.id);

/** Writes the district file (JSON is YAML) into `dir`; its path. */
export function writeDistrictFile(dir: string): string {
  const file = join(dir, "district.yaml");
  writeFileSync(file, JSON.stringify(DISTRICT, null, 1));
  return file;
}
