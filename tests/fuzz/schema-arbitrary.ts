// Arbitraries derived from the API's own OpenAPI document (JSON Schema as @fastify/swagger writes it
// from the routes' TypeBox schemas): values a schema accepts, and values meant to break it.
import fc from "fast-check";

export type JsonSchema = {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  nullable?: boolean;
};

/** Strings that have broken parsers, path handling, log lines and queries elsewhere. */
export const NASTY_STRINGS = [
  "", " ", "../../etc/passwd", "%2e%2e%2f", "%00", "\u0000", "' OR '1'='1", '"; DROP MEASUREMENT electrical; --', "\\", "${jndi:ldap://x}", "<script>alert(1)</script>",
  "1e999", "-1", "NaN", "Infinity", "0x10", "9".repeat(400), "x".repeat(5_000), "\ud800", "🔌⚡", "\r\nX-Injected: 1", "2026-02-30T25:61:61Z", "2026-11-29T08:00:00", "1mo", "0m", "-1d", "99999999w",
  "__proto__", "constructor", "null", "true", "[]", "{}", "south-primary", "north-middle",
];
export const nastyString = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...NASTY_STRINGS) }, { weight: 1, arbitrary: fc.string({ maxLength: 30 }) }, { weight: 1, arbitrary: fc.fullUnicodeString({ maxLength: 10 }) });

/** A value the schema accepts; `hints` are known good values for a property or parameter by name (ids). */
export function validValue(schema: JsonSchema, resolve: (ref: string) => JsonSchema, hints: Record<string, readonly string[]> = {}, name = ""): fc.Arbitrary<unknown> {
  if (schema.$ref !== undefined) return validValue(resolve(schema.$ref), resolve, hints, name);
  if ("const" in schema) return fc.constant(schema.const);
  if (schema.enum !== undefined) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives !== undefined) return fc.oneof(...alternatives.map((s) => validValue(s, resolve, hints, name)));
  if (schema.allOf !== undefined) return validValue(schema.allOf[0]!, resolve, hints, name);
  switch (schema.type) {
    case "string": {
      const known = hints[name];
      const generated = stringFor(schema);
      return known !== undefined && known.length > 0 ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: generated }) : generated;
    }
    case "integer":
      return fc.integer({ min: schema.minimum ?? -1_000_000, max: schema.maximum ?? 1_000_000 });
    case "number":
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
    case "boolean":
      return fc.boolean();
    case "array":
      return fc.array(schema.items ? validValue(schema.items, resolve, hints, name) : fc.jsonValue(), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 4, 4) });
    case "object": {
      const properties = Object.fromEntries(Object.entries(schema.properties ?? {}).map(([key, s]) => [key, validValue(s, resolve, hints, key)]));
      return fc.record(properties, { requiredKeys: schema.required ?? [] });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function stringFor(schema: JsonSchema): fc.Arbitrary<string> {
  const maxLength = schema.maxLength ?? 40;
  if (schema.format === "date-time") return fc.date({ min: new Date("2020-01-01"), max: new Date("2030-01-01"), noInvalidDate: true }).map((d) => d.toISOString());
  if (schema.pattern !== undefined) return fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length >= (schema.minLength ?? 0) && s.length <= maxLength);
  return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(maxLength, 40) });
}

/** A value that likely breaks the schema: another type, out of range, too long, nasty text, or a valid one with a broken part. */
export function invalidValue(schema: JsonSchema, resolve: (ref: string) => JsonSchema): fc.Arbitrary<unknown> {
  const resolved = schema.$ref !== undefined ? resolve(schema.$ref) : schema;
  const broken: fc.Arbitrary<unknown>[] = [
    nastyString,
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom(null, -1, 0, 1e308, -1e308, 2 ** 53 + 1, true, [], {}, [[[[[]]]]], { __proto__: { x: 1 } }),
  ];
  if (resolved.type === "object" && resolved.properties !== undefined) {
    const keys = Object.keys(resolved.properties);
    // A valid object with one property replaced by junk, or one unknown property added.
    broken.push(
      fc.tuple(validValue(resolved, resolve), fc.constantFrom(...keys, "unexpected"), fc.oneof(nastyString, fc.jsonValue({ maxDepth: 2 }))).map(([value, key, junk]) => ({ ...(value as object), [key]: junk })),
    );
  }
  return fc.oneof(...broken);
}
