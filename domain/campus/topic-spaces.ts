// The topics each foreign device owns, by format (CONTRACT §3 and §10; what broker/acl.ts lets it publish
// and subscribe to, and where its commands go: domain/formats/commands.ts), and the check that no device's
// topics lie inside another's. A `source` is free text in the campus file: Shelly Gen2 sources "p" and
// "p/status/q" would put the second device's command topic (p/status/q/rpc) and its reports inside the
// first's p/status/…, which the first may publish to: it could switch the second and answer for it.
import type { Problem } from "../errors.js";
import type { JsonObject } from "../json-object.js";

/** A topic, or (`prefix`) every topic below it (`topic/…`, as an MQTT filter `topic/#` without the topic itself). */
interface Space {
  topic: string;
  prefix: boolean;
}

const exact = (topic: string): Space => ({ topic, prefix: false });
const below = (topic: string): Space => ({ topic, prefix: true });

/** The Zigbee2MQTT base topic: a bridge publishes anything below it (broker/acl.ts). */
const Z2M_BASE = "zigbee2mqtt";

/** What a device of this format with this source may publish or read, and its command topic. */
export function topicSpaces(format: string, source: string): Space[] {
  switch (format) {
    case "tasmota":
      // tele/<t>/…, stat/<t>/…; it subscribes to cmnd/<t>/# (its command topic is cmnd/<t>/POWER).
      return [below(`tele/${source}`), below(`stat/${source}`), below(`cmnd/${source}`)];
    case "shelly-gen1":
      return [below(`shellies/${source}`)];
    case "shelly-gen2":
      return [below(`${source}/status`), exact(`${source}/events/rpc`), exact(`${source}/online`), exact(`${source}/rpc`)];
    case "zigbee2mqtt":
      return [exact(`${Z2M_BASE}/${source}`), exact(`${Z2M_BASE}/${source}/availability`), exact(`${Z2M_BASE}/${source}/set`)];
    default:
      return [];
  }
}

/** The topics strictly above `topic` (`a/b/c` → `a`, `a/b`). */
function ancestors(topic: string): string[] {
  const levels = topic.split("/");
  return levels.slice(0, -1).map((_, i) => levels.slice(0, i + 1).join("/"));
}

interface Owner {
  index: number;
  label: string;
  format: string;
  source: string;
}

const shown = (space: Space) => (space.prefix ? `${space.topic}/…` : space.topic);

/**
 * Every foreign device whose topics lie inside another device's, or are the same (reported at the later of
 * the two); and, when the campus has Zigbee2MQTT bridges, a device of another format with topics below
 * `zigbee2mqtt/`, which any bridge may publish. Listed at the device whose topics are covered. Two devices
 * with the same format and source are a duplicate source, reported by the caller.
 */
export function checkNestedSources(devices: readonly JsonObject[], hasBridges: boolean): Problem[] {
  const prefixes = new Map<string, Owner[]>();
  const exacts = new Map<string, Owner[]>();
  const owned = devices.map((d, index) => {
    if (typeof d.source !== "string") return null;
    const owner: Owner = { index, label: `devices[${index}] (${String(d.id)})`, format: typeof d.format === "string" ? d.format : "native", source: d.source };
    const spaces = topicSpaces(owner.format, owner.source);
    for (const space of spaces) {
      const map = space.prefix ? prefixes : exacts;
      map.set(space.topic, [...(map.get(space.topic) ?? []), owner]);
    }
    return { owner, spaces };
  });
  const bridges: Owner = { index: -1, label: "the Zigbee2MQTT bridges", format: "zigbee2mqtt", source: "" };
  if (hasBridges) prefixes.set(Z2M_BASE, [...(prefixes.get(Z2M_BASE) ?? []), bridges]);

  const problems: Problem[] = [];
  for (const entry of owned) {
    if (entry === null) continue;
    const { owner, spaces } = entry;
    const reported = new Set<Owner>();
    const another = (o: Owner) => o.index !== owner.index && !(o.format === owner.format && o.source === owner.source) && !(o === bridges && owner.format === "zigbee2mqtt") && !reported.has(o);
    const report = (o: Owner, message: string) => {
      reported.add(o);
      problems.push({ path: `devices[${owner.index}].source`, message: `source "${owner.source}" ${message}; choose a source whose topics no other device's contain` });
    };
    for (const space of spaces) {
      for (const above of ancestors(space.topic)) {
        for (const o of (prefixes.get(above) ?? []).filter(another)) {
          report(o, `puts ${shown(space)} inside ${above}/… of ${o.label}, which may publish or read there, so it could send this device's commands or answer for it`);
        }
      }
      for (const o of ((space.prefix ? prefixes : exacts).get(space.topic) ?? []).filter((o) => another(o) && o.index < owner.index)) {
        report(o, `gives this device ${shown(space)}, which ${o.label} has too`);
      }
    }
  }
  return problems;
}
