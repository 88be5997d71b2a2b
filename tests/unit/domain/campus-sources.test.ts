// A foreign device's `source` must not spell the system's topics nor put the device's topics inside another
// device's (CONTRACT §10: each device reads its own commands and answers for itself only).
import { describe, expect, it } from "vitest";
import { parseCampusText } from "../../../domain/campus.js";

/** A campus with these devices (YAML flow mappings, one a line) and, when asked, a Zigbee2MQTT bridge. */
function problemsOf(devices: string[], bridge = false) {
  const text = `
site: { id: s, name: School, timezone: Asia/Shanghai }
buildings: [ { id: b, name: B, kind: office } ]
${bridge ? "bridges: [ { id: z2m-bridge, format: zigbee2mqtt } ]\n" : ""}devices:
${devices.map((d, i) => `  - { id: d${i}, kind: socket, building: b, rating_a: 10, ${d} }`).join("\n")}
`;
  const result = parseCampusText(text);
  return result.ok ? [] : result.problems;
}
const gen2 = (source: string) => `format: shelly-gen2, source: "${source}"`;
const tasmota = (source: string) => `format: tasmota, source: "${source}"`;
const z2m = (source: string) => `format: zigbee2mqtt, source: "${source}"`;

describe("foreign sources", () => {
  it("refuses a source that is or starts with campus-power/, where Shelly Gen2 devices answer commands", () => {
    const message = 'a source may not be "campus-power" or start with "campus-power/" (where Shelly Gen2 devices answer the system\'s commands, campus-power/{device id}/rpc)';
    expect(problemsOf([gen2("campus-power"), gen2("campus-power/d9"), tasmota("campus-power/x")])).toEqual([
      { path: "devices[0].source", message },
      { path: "devices[1].source", message },
      { path: "devices[2].source", message },
    ]);
  });

  it("accepts sources that merely begin with the same letters", () => {
    expect(problemsOf([gen2("campus-powerful"), gen2("p"), gen2("p/q"), gen2("pq")])).toEqual([]);
  });

  it("refuses a Shelly Gen2 source nested in another's status topics, in either order, at the nested one", () => {
    const expected = (nested: number, outer: number) => ({
      path: `devices[${nested}].source`,
      message:
        `source "p/status/q" puts p/status/q/status/… inside p/status/… of devices[${outer}] (d${outer}), which may publish or read there, ` +
        "so it could send this device's commands or answer for it; choose a source whose topics no other device's contain",
    });
    expect(problemsOf([gen2("p"), gen2("p/status/q")])).toEqual([expected(1, 0)]);
    expect(problemsOf([gen2("p/status/q"), gen2("p")])).toEqual([expected(0, 1)]);
  });

  it("refuses nested Tasmota topics and a Shelly Gen2 source inside a Tasmota device's", () => {
    const problems = problemsOf([tasmota("x"), tasmota("x/y"), gen2("tele/x")]);
    expect(problems.map((p) => p.path)).toEqual(["devices[1].source", "devices[2].source"]);
    expect(problems[0]!.message).toMatch(/^source "x\/y" puts tele\/x\/y\/… inside tele\/x\/… of devices\[0\] \(d0\)/);
    expect(problems[1]!.message).toMatch(/^source "tele\/x" puts tele\/x\/status\/… inside tele\/x\/… of devices\[0\] \(d0\)/);
  });

  it("accepts Zigbee2MQTT friendly names with a slash (a device account publishes exact topics only)", () => {
    expect(problemsOf([z2m("room"), z2m("room/lamp")])).toEqual([]);
  });

  it("refuses a device of another format below zigbee2mqtt/ when bridges, which publish anything there, exist", () => {
    expect(problemsOf([gen2("zigbee2mqtt/x")])).toEqual([]);
    const problems = problemsOf([gen2("zigbee2mqtt/x"), z2m("y")], true);
    expect(problems).toEqual([
      {
        path: "devices[0].source",
        message:
          'source "zigbee2mqtt/x" puts zigbee2mqtt/x/status/… inside zigbee2mqtt/… of the Zigbee2MQTT bridges, which may publish or read there, ' +
          "so it could send this device's commands or answer for it; choose a source whose topics no other device's contain",
      },
    ]);
  });

  it("reports the same source of one format once, as a duplicate", () => {
    expect(problemsOf([gen2("p"), gen2("p")])).toEqual([{ path: "devices[1].source", message: 'source "p" is already used by devices[0]' }]);
  });
});
