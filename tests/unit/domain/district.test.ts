// The district file (CONTRACT §9): sites by path or inline, each checked as a campus file, ids unique across
// the district with both places named, a plain campus file a district of one.
import { describe, expect, it } from "vitest";
import { parseConfigText, type ReadSiteFile } from "../../../domain/district/parse.js";

const school = (site: string, building: string, devices: string[], extra = "") => `
site: { id: ${site}, name: School ${site}, timezone: Asia/Shanghai }
buildings: [ { id: ${building}, name: B, kind: classroom } ]
devices:
${devices.map((d) => `  - { id: ${d}, kind: breaker, building: ${building}, rating_a: 16 }`).join("\n")}
${extra}`;

/** Site files as a map; a missing one reads as "no such file". */
const reader = (files: Record<string, string>): ReadSiteFile => (path) => (path in files ? { ok: true, text: files[path]! } : { ok: false, message: "no such file" });

const district = (sites: string[], notify = "") => `district: { id: xinwu, name: Xinwu District }\nsites:\n${sites.map((s) => `  - ${s}`).join("\n")}\n${notify}`;

describe("district file", () => {
  it("merges its sites, by path and inline, and knows each device's and building's site", () => {
    const inline = `{ site: { id: c, name: C, timezone: Europe/Berlin }, buildings: [ { id: bc, name: B, kind: office } ], devices: [ { id: dc, kind: meter, building: bc } ] }`;
    const result = parseConfigText(district(["schools/a.yaml", "schools/b.yaml", inline]), "district.yaml", reader({ "schools/a.yaml": school("a", "ba", ["da1", "da2"]), "schools/b.yaml": school("b", "bb", ["db1"]) }));
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const { campus } = result;
    expect(campus.district).toEqual({ id: "xinwu", name: "Xinwu District" });
    expect(campus.sites.map((s) => s.site.id)).toEqual(["a", "b", "c"]);
    expect(campus.devices.map((d) => [d.id, d.site])).toEqual([["da1", "a"], ["da2", "a"], ["db1", "b"], ["dc", "c"]]);
    expect(campus.siteOfDevice.get("dc")?.site.timezone).toBe("Europe/Berlin");
    expect(campus.siteOfBuilding.get("bb")?.site.id).toBe("b");
    expect(campus.deviceById.get("db1")?.building).toBe("bb");
    // Each site is a whole campus of its own: its devices only, and itself as its only site.
    expect(campus.sites[1]!.devices.map((d) => d.id)).toEqual(["db1"]);
    expect(campus.sites[1]!.sites).toEqual([campus.sites[1]]);
  });

  it("is a district of one for a plain campus file", () => {
    const result = parseConfigText(school("a", "ba", ["da1"]), "campus.yaml", reader({}));
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.campus.district).toEqual({ id: "a", name: "School a" });
    expect(result.campus.sites).toEqual([result.campus]);
    expect(result.campus.siteOfDevice.get("da1")).toBe(result.campus);
    expect(result.campus.devices[0]!.site).toBe("a");
    expect(result.campus.notify).toEqual([]);
  });

  it("names both files of a site, device, bridge or building id used twice in the district", () => {
    const lightsOut = 'schedules: [ { id: lights-out, name: L, action: switch_off, at: "23:00", days: [mon], buildings: [shared], kinds: [breaker] } ]';
    const b = school("a", "shared", ["dup", "db2"], `bridges: [ { id: z2m, format: zigbee2mqtt } ]\n${lightsOut}`);
    const a = school("a", "shared", ["dup", "z2m"], lightsOut);
    const result = parseConfigText(district(["a.yaml", "b.yaml"]), "d.yaml", reader({ "a.yaml": a, "b.yaml": b }));
    expect(result.ok ? [] : result.problems).toEqual([
      { path: "b.yaml: site.id", message: 'site id "a" is also at a.yaml: site.id: site ids are unique across the district' },
      { path: "b.yaml: devices[0].id", message: 'device id "dup" is also at a.yaml: devices[0].id: device ids are unique across the district' },
      { path: "b.yaml: bridges[0].id", message: 'device id "z2m" is also at a.yaml: devices[1].id: device ids are unique across the district' },
      { path: "b.yaml: buildings[0].id", message: 'building id "shared" is also at a.yaml: buildings[0].id: building ids are unique across the district' },
      { path: "b.yaml: schedules[0].id", message: 'schedule id "lights-out" is also at a.yaml: schedules[0].id: schedule ids are unique across the district' },
    ]);
  });

  it("lists every site's own problems with its file, a missing file, a site without a time zone and a route to an unknown site", () => {
    const noZone = "site: { id: n, name: N }\nbuildings: [ { id: bn, name: B, kind: office } ]\ndevices: []\n";
    const notify = "notify:\n  - { site: nowhere, url: https://hooks.example/a, secret_env: HOOK_A }\n";
    const result = parseConfigText(district(["a.yaml", "missing.yaml", "n.yaml", "a.yaml"], notify), "d.yaml", reader({ "a.yaml": school("a", "ba", ["da"]).replace("rating_a: 16", "rating_a: -1"), "n.yaml": noZone }));
    expect(result.ok ? [] : result.problems).toEqual([
      { path: "d.yaml: sites[3]", message: "a.yaml is already listed at sites[0]" },
      { path: "d.yaml: sites[1]", message: "cannot read site file missing.yaml: no such file" },
      { path: "a.yaml: devices[0].rating_a", message: "expected number to be greater than 0" },
      { path: "n.yaml: site.timezone", message: "is required" },
      { path: "d.yaml: notify[0].site", message: 'unknown site "nowhere"' },
    ]);
  });

  it("refuses a district file of the wrong shape before reading any site", () => {
    const read: ReadSiteFile = () => {
      throw new Error("must not read");
    };
    const result = parseConfigText("district: { id: X Y }\nsites: []\nextra: 1\n", "d.yaml", read);
    expect(result.ok ? [] : result.problems.map((p) => p.path).sort()).toEqual(["d.yaml: district.id", "d.yaml: district.name", "d.yaml: extra", "d.yaml: sites"]);
  });

  it("refuses a device whose topics are, or sit inside, another school's device's", () => {
    const tasmota = (site: string, id: string, source: string) =>
      `site: { id: ${site}, name: S, timezone: Asia/Shanghai }\nbuildings: [ { id: b${site}, name: B, kind: office } ]\ndevices:\n  - { id: ${id}, kind: socket, building: b${site}, rating_a: 10, format: tasmota, source: "${source}" }\n`;
    const result = parseConfigText(district(["a.yaml", "b.yaml"]), "d.yaml", reader({ "a.yaml": tasmota("a", "pa", "plug_1"), "b.yaml": tasmota("b", "pb", "plug_1") }));
    expect(result.ok ? [] : result.problems).toEqual([
      { path: "b.yaml: devices[0].source", message: 'format/source "tasmota/plug_1" is also at a.yaml: devices[0].source: format/sources are unique across the district' },
    ]);
    // Tasmota "x" owns tele/x/…; Tasmota "x/y" in another school would publish inside it.
    const nested = parseConfigText(district(["a.yaml", "b.yaml"]), "d.yaml", reader({ "a.yaml": tasmota("a", "pa", "x"), "b.yaml": tasmota("b", "pb", "x/y") }));
    expect(nested.ok ? [] : nested.problems.map((p) => p.message)).toEqual([expect.stringMatching(/^source "x\/y" puts tele\/x\/y\/… inside tele\/x\/… of a\.yaml: devices\[0\] \(pa\)/)]);
  });
});
