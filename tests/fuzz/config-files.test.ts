// Fuzz: generated campus and district files (CONTRACT §2, §9) into check-config's parsing: the real
// fixtures mutated (keys dropped, values replaced by junk, unknown keys, duplicated entries, parents
// rewired into cycles, sites that clash), YAML of the nastiest kinds (alias bombs, self-referencing
// anchors, tags, tabs, binary), and raw bytes. In process through parseConfigText (site files served from
// memory), then a few through the real `campus-power check-config`: each answer is a success or a list of
// problems with a path and a message, never a throw or a stack trace.
// Runtime: ~20 s (1,500 files in process, capped at 20 s: ~10 s; 6 through the CLI: ~10 s). Replay: FUZZ_SEED=<seed> npx vitest run tests/fuzz/config-files.test.ts
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { parse as parseYamlText, stringify } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import type { CampusResult } from "../../domain/campus.js";
import { parseConfigText } from "../../domain/district/parse.js";
import { runCli } from "../helpers/cli.js";
import { nastyString } from "./schema-arbitrary.js";
import { fuzzParameters, sampleOf, withSeed } from "./seed.js";

const FIXTURES = join(import.meta.dirname, "../fixtures");
const read = (path: string) => readFileSync(join(FIXTURES, path), "utf8");
const CAMPUS = parseYamlText(read("test-campus.yaml")) as unknown;
const DISTRICT = parseYamlText(read("district/district.yaml")) as unknown;
const SITES: Record<string, unknown> = Object.fromEntries(["north-middle.yaml", "south-primary.yaml", "west-kindergarten.yaml"].map((f) => [f, parseYamlText(read(`district/${f}`))]));
const STACK = /\n\s+at |\.ts:\d+|node_modules/;

type Json = unknown;
/** Every path into a document (arrays by index, objects by key). */
function pathsOf(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const here = [prefix];
  if (Array.isArray(value)) return here.concat(...value.map((v, i) => pathsOf(v, [...prefix, i])));
  if (typeof value === "object" && value !== null) return here.concat(...Object.entries(value).map(([k, v]) => pathsOf(v, [...prefix, k])));
  return here;
}
const junk: fc.Arbitrary<Json> = fc.oneof(nastyString, fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(null, -1, 0, 1e308, -1e308, 3.5, true, [], {}, "brk-d1-101", "dorm-1", "north-feeder", "south-primary.yaml", "../../../etc/passwd"));
type Mutation = { op: "drop" | "replace" | "add-key" | "duplicate"; at: number; junk: Json; key: string };
const mutation: fc.Arbitrary<Mutation> = fc.record({ op: fc.constantFrom("drop", "replace", "add-key", "duplicate"), at: fc.nat(), junk, key: fc.oneof(nastyString, fc.constantFrom("parent", "id", "site", "district", "sites", "notify", "bridge", "format", "source", "rating_a")) });

/** Applies mutations to a deep copy of the document. */
function mutate(document: Json, mutations: Mutation[]): Json {
  const root = { doc: structuredClone(document) } as Record<string, unknown>;
  for (const m of mutations) {
    const paths = pathsOf(root.doc, ["doc"]).map((p) => p);
    const path = paths[m.at % paths.length]!;
    const parent = path.slice(0, -1).reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], root) as Record<string | number, unknown> | unknown[];
    const key = path[path.length - 1]!;
    const target = (parent as Record<string | number, unknown>)[key];
    if (m.op === "drop" && path.length > 1) Array.isArray(parent) ? parent.splice(Number(key), 1) : delete (parent as Record<string, unknown>)[key];
    else if (m.op === "replace") (parent as Record<string | number, unknown>)[key] = m.junk;
    else if (m.op === "add-key" && typeof target === "object" && target !== null && !Array.isArray(target)) (target as Record<string, unknown>)[m.key] = m.junk;
    else if (m.op === "duplicate" && Array.isArray(target) && target.length > 0) target.push(structuredClone(target[0]));
  }
  return root.doc;
}

/** YAML that hurts parsers: alias bombs, self-reference, tags, tabs, a BOM, deep nesting, binary. */
const NASTY_YAML = [
  ["a: &a [x,x,x,x,x,x,x,x,x]", "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]", "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]", "d: [*c,*c,*c,*c,*c,*c,*c,*c,*c]"].join("\n"),
  "site: &s {id: x, name: y, timezone: Asia/Shanghai, self: *s}\nbuildings: []\ndevices: []",
  "site: !!binary aGVsbG8=\nbuildings: !!set {a, b}\ndevices: !!omap [a: 1]",
  "site:\n\t id: x",
  "\ufeffsite: {id: x}",
  "district: {id: d, name: D}\nsites: [" + "[".repeat(200) + "]".repeat(200) + "]",
  "district: {id: d, name: D}\nsites: [/etc/passwd, /dev/zero, ., '', 'district.yaml']",
  "--- a\n--- b",
  "? [a, b]\n: c",
  "site: {id: x, timezone: Not/AZone, nominal_voltage_v: .nan}",
];

/** A config file as text and the site files it may name. */
const configFile: fc.Arbitrary<{ text: string; sites: Record<string, string> }> = fc.oneof(
  { weight: 4, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 4 }).map((ms) => ({ text: stringify(mutate(CAMPUS, ms)), sites: {} })) },
  {
    weight: 4,
    arbitrary: fc.tuple(fc.array(mutation, { maxLength: 3 }), fc.constantFrom(...Object.keys(SITES)), fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([districtMutations, site, siteMutations]) => ({
      text: stringify(mutate(DISTRICT, districtMutations)),
      sites: Object.fromEntries(Object.entries(SITES).map(([name, doc]) => [name, stringify(name === site ? mutate(doc, siteMutations) : doc)])),
    })),
  },
  { weight: 1, arbitrary: fc.constantFrom(...NASTY_YAML).map((text) => ({ text, sites: {} })) },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString("latin1"))).map((text) => ({ text, sites: {} })) },
);

function checkResult(result: CampusResult) {
  if (result.ok) return;
  expect(result.problems.length).toBeGreaterThan(0);
  for (const problem of result.problems) {
    expect(typeof problem.path).toBe("string");
    expect(typeof problem.message === "string" && problem.message.length > 0).toBe(true);
    expect(STACK.test(problem.message)).toBe(false);
  }
}

describe("fuzzing campus and district files", () => {
  it("lists problems or accepts, never throws, for every generated file", () => {
    fc.assert(
      fc.property(configFile, ({ text, sites }) => {
        const result = parseConfigText(text, "config.yaml", (path) => (Object.hasOwn(sites, path) ? { ok: true, text: sites[path]! } : { ok: false, message: "no such file" }));
        checkResult(result);
      }),
      fuzzParameters(1_500, 20_000),
    );
  }, 60_000);

  const dir = mkdtempSync(join(tmpdir(), "campus-fuzz-config-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("answers through the real check-config with exit 0 or 1 and no stack trace", async () => {
    const files = [...sampleOf(configFile, 4), { text: NASTY_YAML[0]!, sites: {} }, { text: NASTY_YAML[1]!, sites: {} }];
    await withSeed("check-config on generated files", () => {
      files.forEach(({ text, sites }, i) => {
        const file = join(dir, `config-${i}.yaml`);
        writeFileSync(file, text);
        for (const [name, siteText] of Object.entries(sites)) writeFileSync(join(dir, name), siteText);
        const { status, stdout, stderr } = runCli(["check-config", file]);
        const context = `${text.slice(0, 300)}\n→ ${status}\n${stdout}${stderr}`;
        expect([0, 1], context).toContain(status);
        expect(stdout, context).toMatch(/: valid|: \d+ problems?\b/);
        expect(STACK.test(stdout + stderr), context).toBe(false);
      });
    });
  }, 90_000);
});

// Cases the fuzzing found, kept as regular tests.
describe("what the config fuzzing found", () => {
  it("lists a YAML alias bomb as a problem instead of throwing (check-config printed a stack trace)", () => {
    const result = parseConfigText(NASTY_YAML[0]!, "bomb.yaml", () => ({ ok: false, message: "no such file" }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems[0]!.message).toMatch(/alias/i);
  });
});
