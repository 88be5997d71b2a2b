// bench:district's district: a district file and one campus file per school (CONTRACT §9), written into a
// folder, the way a bureau keeps them (each school its own file, the district file listing them by path).
// A school of N devices is wired as real ones are: per building of 100 devices, the building's 3-phase
// feeder meter (with the 300 mA fire-monitoring leakage sensor, GB 50116), 33 room breakers under it and
// two smart sockets under each room breaker (1 % meters, 33 % breakers, 66 % sockets). Every device reports
// every `intervalS` seconds. Ids carry the school's number so they stay unique across the district.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";

/** Devices per building: 1 feeder meter + 33 room breakers × (1 + 2 sockets). */
const PER_BUILDING = 100;
const ROOMS_PER_BUILDING = 33;
/** A school's buildings cycle through the kinds a boarding middle school has, so load shapes differ. */
const KINDS = ["classroom", "dormitory", "classroom", "lab", "dormitory", "office", "classroom", "canteen", "dormitory", "classroom"] as const;

export interface BenchDistrict {
  /** The district file (CAMPUS_CONFIG). */
  file: string;
  /** Site ids, in the district file's order. */
  schools: string[];
  /** Their names, in the same order. */
  names: string[];
  /** Devices in the whole district. */
  devices: number;
}

type DeviceEntry = Record<string, string | number>;

/** The devices of one building, parents first, cut to `count`. */
function buildingDevices(building: string, count: number, intervalS: number): DeviceEntry[] {
  const feeder = `${building}-feeder`;
  const devices: DeviceEntry[] = [{ id: feeder, kind: "meter", building, room: "1F board", phases: 3, rcd_ma: 300, report_interval_s: intervalS }];
  for (let room = 1; room <= ROOMS_PER_BUILDING; room++) {
    const roomName = String(100 * Math.ceil(room / 11) + (((room - 1) % 11) + 1)); // 101–111, 201–211, 301–311
    const breaker = `${building}-r${roomName}`;
    devices.push({ id: breaker, kind: "breaker", building, room: roomName, parent: feeder, rating_a: 16, curve: "C", rcd_ma: 30, report_interval_s: intervalS });
    for (const socket of ["a", "b"]) devices.push({ id: `${breaker}-${socket}`, kind: "socket", building, room: roomName, parent: breaker, rating_a: 10, report_interval_s: intervalS });
  }
  return devices.slice(0, count);
}

/** One school's campus document: `devices` devices in buildings of 100. */
export function schoolDocument(index: number, devices: number, intervalS: number): { id: string; document: Record<string, unknown> } {
  const { id, name } = schoolOf(index);
  const number = id.slice("school-".length);
  const buildings: Record<string, string>[] = [];
  const entries: DeviceEntry[] = [];
  for (let b = 0; entries.length < devices; b++) {
    const building = `s${number}-b${String(b + 1).padStart(2, "0")}`;
    const kind = KINDS[b % KINDS.length]!;
    buildings.push({ id: building, name: `Building ${b + 1} (${kind})`, kind });
    entries.push(...buildingDevices(building, Math.min(PER_BUILDING, devices - entries.length), intervalS));
  }
  const site = { id, name, timezone: "Asia/Shanghai", nominal_voltage_v: 220 };
  return { id, document: { site, buildings, devices: entries } };
}

/** The id and name of the school at `index`. */
export const schoolOf = (index: number) => {
  const number = String(index + 1).padStart(2, "0");
  return { id: `school-${number}`, name: `School ${number}` };
};

/** Writes `schools` school files under `dir/schools/` and the district file listing them (with `notify` routes, if any). */
export function writeBenchDistrict(dir: string, schools: number, devicesPerSchool: number, intervalS: number, notify: Record<string, unknown>[] = []): BenchDistrict {
  mkdirSync(join(dir, "schools"), { recursive: true });
  const paths: string[] = [];
  const ids: string[] = [];
  for (let i = 0; i < schools; i++) {
    const { id, document } = schoolDocument(i, devicesPerSchool, intervalS);
    const path = `schools/${id}.yaml`;
    writeFileSync(join(dir, path), stringify(document, { lineWidth: 0 }));
    paths.push(path);
    ids.push(id);
  }
  const file = join(dir, "district.yaml");
  const district = { district: { id: "bench", name: "Bench District Education Bureau" }, sites: paths, ...(notify.length > 0 ? { notify } : {}) };
  writeFileSync(file, stringify(district, { lineWidth: 0 }));
  return { file, schools: ids, names: ids.map((_, i) => schoolOf(i).name), devices: schools * devicesPerSchool };
}
