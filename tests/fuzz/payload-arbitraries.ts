// Generated device payloads for every format of CONTRACT §3 (domain/formats/*): JSON text built token by
// token, so it can hold what JSON.stringify never writes (1e999, -0, 30-digit integers, NaN as a bare word),
// in the shapes each vendor sends (so the generator gets past the structure checks to the numbers) and as
// free trees of the vendors' keys. Also the physical ranges no stored value may leave (the test's oracle).
import fc from "fast-check";

/** A piece of JSON text, written as is. */
class Raw {
  constructor(readonly text: string) {}
}
type Tree = Raw | Tree[] | { [key: string]: Tree };

export function serialize(tree: Tree): string {
  if (tree instanceof Raw) return tree.text;
  if (Array.isArray(tree)) return `[${tree.map(serialize).join(",")}]`;
  return `{${Object.entries(tree).map(([k, v]) => `${JSON.stringify(k)}:${serialize(v)}`).join(",")}}`;
}

/** Numbers as devices (and attackers) spell them: out of range, non-finite, strings, wrong types. */
const NASTY_NUMBERS = [
  "1e300", "-1e300", "1e999", "-1e999", "1e-320", "-0", "0", "-1", "-250", "1001", "100001", "4.2", "230", "0.99", "99.5", "1.0000001",
  "123456789012345678901234567890", "9007199254740993", '"4.2"', '"NaN"', '"Infinity"', '"-Infinity"', '"1e999"', '""', "true", "false", "null",
  "[]", "{}", "[1e308,1e308]", "[-5,3]", "[1,\"2\"]", "[null]", '"0x10"', "NaN", "Infinity", "-Infinity",
];
export const numberToken: fc.Arbitrary<Raw> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_NUMBERS).map((t) => new Raw(t)) },
  { weight: 2, arbitrary: fc.double().map((d) => new Raw(Number.isFinite(d) ? String(d) : JSON.stringify(String(d)))) },
  { weight: 1, arbitrary: fc.integer({ min: -2_000_000, max: 2_000_000 }).map((n) => new Raw(String(n))) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: -9, max: 9 }), fc.integer({ min: -400, max: 400 })).map(([m, e]) => new Raw(`${m}e${e}`)) },
);
const word = (...words: string[]) => fc.constantFrom(...words).map((w) => new Raw(JSON.stringify(w)));
const anyString = fc.string({ maxLength: 40 }).map((s) => new Raw(JSON.stringify(s)));
const longString = fc.integer({ min: 1_000, max: 20_000 }).map((n) => new Raw(JSON.stringify("x".repeat(n))));
const timeToken = fc.oneof(
  numberToken,
  word("2023-05-19T20:52:56", "2023-05-19T20:52:56Z", "2023-13-45T99:99:99", "9999-12-31T23:59:59", "0000-01-01T00:00:00", "2023-05-19T20:52:56+25:00", "yesterday", ""),
  fc.date({ min: new Date("1970-01-01"), max: new Date("2100-01-01") }).map((d) => new Raw(JSON.stringify(Number.isNaN(d.getTime()) ? "x" : d.toISOString()))),
);
const valueToken: fc.Arbitrary<Tree> = fc.oneof({ weight: 4, arbitrary: numberToken }, { weight: 1, arbitrary: anyString }, { weight: 1, arbitrary: word("ON", "OFF", "on", "off", "online") });

/** A record whose keys are each present or not. */
const some = (fields: Record<string, fc.Arbitrary<Tree>>) => fc.record(fields, { requiredKeys: [] }) as fc.Arbitrary<{ [key: string]: Tree }>;

const NATIVE_FIELDS = ["voltage_v", "current_a", "power_w", "energy_kwh", "power_factor", "frequency_hz", "leakage_ma", "temperature_c"];
const phase = some({ voltage_v: numberToken, current_a: numberToken, power_w: numberToken, energy_kwh: numberToken, power_factor: numberToken });
const nativeReading = fc
  .tuple(some(Object.fromEntries(NATIVE_FIELDS.map((f) => [f, numberToken]))), some({ ts: timeToken, switch_on: fc.oneof(word("x"), fc.constantFrom(new Raw("true"), new Raw("false"), new Raw("1"))), phases: some({ L1: phase, L2: phase, L3: phase }) }))
  .map(([a, b]) => ({ ...a, ...b }));
const codes = fc.array(fc.oneof(word("overpower", "overtemp", "short_circuit", "leakage_current", "clear"), anyString, longString), { maxLength: 30 });
const gen2Status = some({
  apower: numberToken, voltage: numberToken, current: numberToken, pf: numberToken, freq: numberToken, output: fc.oneof(word("x"), fc.constant(new Raw("true"))),
  aenergy: some({ total: numberToken }), temperature: fc.oneof(numberToken, some({ tC: numberToken })), errors: codes,
});

/** One payload shaped like what the topic's format expects, by the topic's last part. */
export const shapedPayloads: Record<string, fc.Arbitrary<Tree>> = {
  telemetry: fc.oneof(nativeReading, fc.array(nativeReading, { minLength: 1, maxLength: 5 })),
  events: some({ ts: timeToken, type: word("trip", "arc", "switch", "fault", "boom"), reason: word("overload", "remote", "command refused", "x"), detail: fc.oneof(anyString, longString, numberToken) }),
  SENSOR: some({ Time: timeToken, ENERGY: some({ Voltage: numberToken, Current: numberToken, Power: numberToken, Factor: numberToken, Total: numberToken, Frequency: numberToken }) }),
  MARGINS: some({ Time: timeToken, MARGINS: some({ PowerHigh: word("ON", "OFF"), VoltageLow: word("ON"), CurrentHigh: valueToken }) }),
  WARNING: some({ Time: timeToken, MaxPowerReached: fc.oneof(numberToken, longString) }),
  RESULT: some({ POWER: valueToken }),
  STATE: some({ Time: timeToken, POWER: valueToken }),
  "switch:0": gen2Status,
  rpc: fc.oneof(
    some({ method: word("NotifyStatus", "NotifyFullStatus", "NotifyEvent"), params: some({ ts: numberToken, "switch:0": gen2Status }) }),
    some({ id: numberToken, result: some({ was_on: valueToken }), error: some({ code: numberToken, message: fc.oneof(anyString, longString) }) }),
  ),
  zigbee2mqtt: some({
    power: numberToken, voltage: numberToken, current: numberToken, energy: numberToken, ac_frequency: numberToken, temperature: numberToken, device_temperature: numberToken,
    power_factor: numberToken, state: valueToken, power_a: numberToken, current_b: numberToken, voltage_c: numberToken, energy_a: numberToken, faults: codes, fault: fc.oneof(anyString, longString),
  }),
};

const VENDOR_KEYS = [
  ...NATIVE_FIELDS, "ts", "phases", "L1", "switch_on", "ENERGY", "Voltage", "Current", "Power", "Total", "Factor", "Time", "POWER", "MARGINS", "PowerHigh",
  "apower", "voltage", "current", "pf", "aenergy", "total", "temperature", "tC", "output", "errors", "method", "params", "switch:0", "power", "energy",
  "power_factor", "state", "power_a", "faults", "fault", "id", "result", "error", "type", "reason", "detail", "__proto__", "constructor",
];
/** A free tree of the vendors' keys and nasty values. */
export const freeTree: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    valueToken,
    fc.dictionary(fc.constantFrom(...VENDOR_KEYS), tie("tree"), { maxKeys: 6 }),
    fc.array(tie("tree"), { maxLength: 4 }),
  ),
})).tree;

/** Bytes that are not JSON at all: text numbers (Shelly Gen1's topics), words, garbage, invalid UTF-8. */
export const rawBytes: fc.Arbitrary<Buffer> = fc.oneof(
  numberToken.map((t) => Buffer.from(t.text)),
  fc.constantFrom(" 42 ", "on", "off", "overpower", "Online", "Offline", "true", "false", "0", "1", "", "{", '{"a":', "\u0000", "online\n").map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  fc.constant(Buffer.from([0xc3, 0x28, 0xff, 0xfe])),
);

/**
 * The physical ranges a stored value must lie in (CONTRACT §3/§4 and the ingest's plausibility rules,
 * domain/reading.ts): a value outside is a broken device or a unit mix-up and must never reach InfluxDB.
 */
export const PHYSICAL_RANGES: Record<string, readonly [number, number]> = {
  voltage_v: [0, 1000],
  current_a: [-10_000, 10_000],
  power_w: [-10_000_000, 10_000_000],
  energy_kwh: [0, 1e12],
  power_factor: [-1, 1],
  frequency_hz: [0, 100],
  leakage_ma: [0, 100_000],
  temperature_c: [-60, 400],
  // Written by the ingest from positive counter deltas (ingest/durable-sink.ts): never negative, never above a counter's range.
  energy_delta_kwh: [0, 1e12],
};
