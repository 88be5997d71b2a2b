// The messages the device-payload fuzz tests send: every topic the ingest reads for the formats campus
// (tests/fixtures/formats/campus.yaml: one device of each format), a generated payload for each, and the
// oracle of what may be stored (pointProblem).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { parseYaml, validateCampus } from "../../domain/campus/parse.js";
import { FORMATS, topicFor } from "../../domain/formats/index.js";
import { toLine, type Point } from "../../domain/line-protocol.js";
import { buildRouter } from "../../ingest/routing.js";
import { PHYSICAL_RANGES, freeTree, rawBytes, serialize, shapedPayloads } from "./payload-arbitraries.js";

const CAMPUS_FILE = join(import.meta.dirname, "../fixtures/formats/campus.yaml");
const parsed = parseYaml(readFileSync(CAMPUS_FILE, "utf8"));
if (!parsed.ok) throw new Error("the formats campus must parse");
const validated = validateCampus(parsed.value);
if (!validated.ok) throw new Error("the formats campus must be valid");
export const campus = validated.campus;
export const router = buildRouter(campus);

/** Every topic the ingest reads for the campus: the native ones of every device and each device's own format's. */
export const TOPICS: string[] = campus.devices.flatMap((device) => {
  const native = FORMATS.native!.topics.map((rule) => topicFor(rule, { id: device.id }));
  const format = device.format !== "native" && device.source !== undefined ? FORMATS[device.format] : undefined;
  return [...native, ...(format?.topics.map((rule) => topicFor(rule, device)) ?? [])];
});

/** The shaped generator a topic's messages follow, by the topic's last part (zigbee2mqtt/<name> by its prefix). */
function shapeOf(topic: string) {
  const last = topic.slice(topic.lastIndexOf("/") + 1);
  if (topic.startsWith("zigbee2mqtt/") && last !== "availability") return shapedPayloads.zigbee2mqtt;
  return shapedPayloads[last];
}

/** A payload for a topic: shaped like its format, a free tree of vendor keys, or raw bytes. */
export const payloadFor = (topic: string): fc.Arbitrary<Buffer> => {
  const shaped = shapeOf(topic);
  const trees = shaped ? fc.oneof({ weight: 3, arbitrary: shaped }, { weight: 1, arbitrary: freeTree }) : freeTree;
  return fc.oneof({ weight: 4, arbitrary: trees.map((t) => Buffer.from(serialize(t))) }, { weight: 1, arbitrary: rawBytes });
};
export const message = fc.constantFrom(...TOPICS).chain((topic) => payloadFor(topic).map((payload) => ({ topic, payload })));

export const RECEIVED_AT = Date.parse("2026-11-29T08:00:00Z");
export const RAW_RETENTION_MS = 90 * 86_400_000;
/** CONTRACT §3 bounds a native event's detail to 1,024 characters; a vendor's must not be longer. */
export const MAX_DETAIL_CHARS = 1024;

/** Why a point must not be stored, or null. */
export function pointProblem(point: Point): string | null {
  if (!Number.isSafeInteger(point.ts) || point.ts <= 0) return `timestamp ${point.ts}`;
  if (toLine(point) === null) return "a point with no field";
  for (const [field, value] of Object.entries(point.fields)) {
    const range = PHYSICAL_RANGES[field];
    if (range !== undefined) {
      if (typeof value !== "number" || !Number.isFinite(value) || value < range[0] || value > range[1]) return `${field} = ${String(value)} outside ${range[0]}..${range[1]}`;
    } else if (field === "switch_on" || field === "online") {
      if (typeof value !== "boolean") return `${field} = ${String(value)} is not a boolean`;
    } else if (typeof value === "string") {
      if (value.length > MAX_DETAIL_CHARS) return `${field} of ${value.length} characters`;
    } else return `unexpected field ${field} = ${String(value)}`;
  }
  return null;
}
