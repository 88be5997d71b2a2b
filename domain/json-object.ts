// The one test of "a JSON object" (RFC 8259 §4: name/value pairs; an array or null is not one) for
// everything in domain/ that reads untrusted JSON: device payloads, internal messages, the campus file.

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value when it is a JSON object, else an empty one: for reading what a schema already refused. */
export function jsonObjectOrEmpty(value: unknown): JsonObject {
  return isJsonObject(value) ? value : {};
}
