// A device's own site in a district (CONTRACT §9). The deployment's one Campus holds every school's devices,
// but its `site` and `alerts` are the first school's only: whatever concerns one device — its time zone,
// nominal voltage, the `alerts:` section its rules are tuned by, the schedules that switch it — comes from
// the campus of its own site.
import type { Campus } from "../domain/campus.js";

/** The campus of the device's site; throws for a device in no site (a bug: every input is checked against the campus first). */
export function siteOf(campus: Campus, deviceId: string): Campus {
  const site = campus.siteOfDevice.get(deviceId);
  if (site === undefined) throw new Error(`device "${deviceId}" is in no site of the campus`);
  return site;
}
