// DEVICE_GROUP_KEY with several keys (CONTRACT §13): parsing, the signing key, and which key a password matches.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { devicePassword, hmacPassword, matchingFleetKey, signingKey } from "../../../domain/credentials.js";
import { readEnv } from "../../../domain/env.js";
import { CampusError, type Problem } from "../../../domain/errors.js";
import { parseFleetKeys } from "../../../domain/env/fleet-keys.js";

const OLD = "old-fleet-key-0123456789abcdef";
const NEW = "new-fleet-key-fedcba9876543210";

function problemsOf(text: string): Problem[] {
  const problems: Problem[] = [];
  parseFleetKeys(text, problems);
  return problems;
}

describe("DEVICE_GROUP_KEY: one key or id:key entries", () => {
  it("reads a key given alone as the key with id default", () => {
    expect(parseFleetKeys(OLD)).toEqual([{ id: "default", key: OLD }]);
  });

  it("reads id:key entries in order, the first being the signing key", () => {
    expect(parseFleetKeys(`k2026:${NEW},k2025:${OLD}`)).toEqual([{ id: "k2026", key: NEW }, { id: "k2025", key: OLD }]);
    expect(signingKey(`k2026:${NEW},k2025:${OLD}`)).toEqual({ id: "k2026", key: NEW });
  });

  it("keeps everything after an entry's first colon as its key", () => {
    expect(parseFleetKeys(`a:${OLD}:tail`)).toEqual([{ id: "a", key: `${OLD}:tail` }]);
  });

  it("reads nothing from empty text (the variable is unset)", () => {
    expect(parseFleetKeys("")).toEqual([]);
  });

  it("lists every malformed entry at its position, naming the problem and never the key", () => {
    const text = `a:${OLD},,:${NEW},${NEW},a:another-key-0123456789,b:,c:short,d:${OLD},bad id:${NEW}x`;
    const problems = problemsOf(text);
    expect(problems).toEqual([
      { path: "DEVICE_GROUP_KEY[1]", message: "is empty (two commas in a row, or one at an end)" },
      { path: "DEVICE_GROUP_KEY[2]", message: "has an empty id (write id:key)" },
      { path: "DEVICE_GROUP_KEY[3]", message: "has no id: with several keys each is written id:key" },
      { path: "DEVICE_GROUP_KEY[4]", message: 'repeats the id "a" of DEVICE_GROUP_KEY[0]: give each key its own id' },
      { path: "DEVICE_GROUP_KEY[5]", message: 'key "b" is empty' },
      { path: "DEVICE_GROUP_KEY[6]", message: 'key "c" must be at least 16 characters' },
      { path: "DEVICE_GROUP_KEY[7]", message: 'key "d" is the same key as DEVICE_GROUP_KEY[0]: list each key once' },
      { path: "DEVICE_GROUP_KEY[8]", message: "has an id that is not 1 to 64 letters, digits, '.', '_' or '-' (a key given alone cannot contain ':'; write default:KEY)" },
    ]);
    for (const secret of [OLD, NEW, "short", "another-key-0123456789", "bad id"]) {
      expect(JSON.stringify(problems)).not.toContain(secret);
    }
  });

  it("refuses a single key shorter than 16 characters as before", () => {
    expect(problemsOf("too-short")).toEqual([{ path: "DEVICE_GROUP_KEY", message: "must be at least 16 characters" }]);
  });

  it("stops the start with every problem listed, through readEnv", () => {
    let thrown: unknown;
    try {
      readEnv({ DEVICE_GROUP_KEY: `new:${NEW},new:${OLD},old:` }, ["DEVICE_GROUP_KEY"]);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CampusError);
    expect((thrown as CampusError).problems.map((p) => p.path)).toEqual(["DEVICE_GROUP_KEY[1]", "DEVICE_GROUP_KEY[2]"]);
    expect(readEnv({ DEVICE_GROUP_KEY: `new:${NEW},old:${OLD}` }).deviceGroupKey).toBe(`new:${NEW},old:${OLD}`);
  });
});

describe("device passwords with several fleet keys", () => {
  it("derives the password from the first key, as openssl does with that key", () => {
    const openssl = execFileSync("openssl", ["dgst", "-sha256", "-hmac", NEW], { input: "brk-d3-301" }).toString();
    expect(openssl.trim().endsWith(devicePassword("brk-d3-301", `next:${NEW},old:${OLD}`))).toBe(true);
    expect(devicePassword("brk-d3-301", OLD)).toBe(hmacPassword("brk-d3-301", OLD));
  });

  it("refuses to derive a password from a malformed list, naming no key", () => {
    expect(() => devicePassword("brk-d3-301", `a:${OLD},a:${NEW}`)).toThrow(CampusError);
    expect(() => devicePassword("brk-d3-301", `a:${OLD},`)).toThrow(CampusError);
  });

  it("tells which listed key a password derives from, or none", () => {
    const keys = parseFleetKeys(`next:${NEW},old:${OLD}`);
    expect(matchingFleetKey("brk-d3-301", hmacPassword("brk-d3-301", OLD), keys)).toBe("old");
    expect(matchingFleetKey("brk-d3-301", Buffer.from(hmacPassword("brk-d3-301", NEW)), keys)).toBe("next");
    expect(matchingFleetKey("brk-d3-301", hmacPassword("brk-d3-301", "a-third-key-0123456789"), keys)).toBeNull();
    // Another device's password is not this one's, whichever key made it.
    expect(matchingFleetKey("brk-d3-301", hmacPassword("brk-d3-302", OLD), keys)).toBeNull();
  });
});
