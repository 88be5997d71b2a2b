// DEVICE_GROUP_KEY (CONTRACT §3, §13): the fleet keys device passwords derive from. Either one key, as in
// stage 1, or several `id:key` entries, comma separated, so a fleet can move to a new key device by device:
// the first key signs the passwords `device-secret` prints, every listed key is accepted at login, and
// /metrics counts logins per key id (docs/security.md "Rotating the fleet key").
// A problem names the entry's position and its id, never the key.
import type { Problem } from "../errors.js";
import type { ValueKind } from "./values.js";

export interface FleetKey {
  /** Names the key in /metrics and logs (`campus_power_broker_fleet_key_logins_total{key="…"}`). */
  readonly id: string;
  /** The HMAC-SHA256 key (secret). */
  readonly key: string;
}

/** The id of a key given alone, without `id:` (stage 1's form). */
export const DEFAULT_FLEET_KEY_ID = "default";
/** 16 characters, as stage 1 required of the one key: random hex is 64 bits, beyond guessing online. */
export const MIN_FLEET_KEY_LENGTH = 16;
/** An id is a Prometheus label value and appears in logs: short, and no separator of the list. */
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

const NAME = "DEVICE_GROUP_KEY";

/**
 * Reads DEVICE_GROUP_KEY into its keys, first the signing one; every problem is pushed to `problems`
 * (an entry with a problem is left out). Empty text is no key at all (unset).
 * A key given alone cannot contain `:` (that would read as `id:key`); it may then be written `default:KEY`.
 */
export function parseFleetKeys(raw: string, problems: Problem[] = []): FleetKey[] {
  if (raw === "") return [];
  if (isSingleKey(raw)) {
    if (raw.length >= MIN_FLEET_KEY_LENGTH) return [{ id: DEFAULT_FLEET_KEY_ID, key: raw }];
    problems.push({ path: NAME, message: `must be at least ${MIN_FLEET_KEY_LENGTH} characters` });
    return [];
  }
  const entries = raw.split(",");
  const keys: FleetKey[] = [];
  const positionOfId = new Map<string, number>();
  const positionOfKey = new Map<string, number>();
  for (const [index, entry] of entries.entries()) {
    const path = `${NAME}[${index}]`;
    const separator = entry.indexOf(":");
    const id = separator < 0 ? "" : entry.slice(0, separator);
    const key = entry.slice(separator + 1);
    const problem = entryProblem(entry, separator, id, key, positionOfId, positionOfKey);
    if (problem !== null) {
      problems.push({ path, message: problem });
      continue;
    }
    positionOfId.set(id, index);
    positionOfKey.set(key, index);
    keys.push({ id, key });
  }
  return keys;
}

/** Stage 1's form: one key, no `id:`, no list. */
export const isSingleKey = (raw: string) => !raw.includes(":") && !raw.includes(",");

/** What is wrong with one `id:key` entry of a list, or null. Never quotes the key. */
function entryProblem(entry: string, separator: number, id: string, key: string, ids: ReadonlyMap<string, number>, keys: ReadonlyMap<string, number>): string | null {
  if (entry === "") return "is empty (two commas in a row, or one at an end)";
  if (separator < 0) return "has no id: with several keys each is written id:key";
  if (id === "") return "has an empty id (write id:key)";
  // Not repeated: text before a colon that is no id may be part of a key that contains a colon.
  if (!KEY_ID.test(id)) return "has an id that is not 1 to 64 letters, digits, '.', '_' or '-' (a key given alone cannot contain ':'; write default:KEY)";
  const sameId = ids.get(id);
  if (sameId !== undefined) return `repeats the id "${id}" of ${NAME}[${sameId}]: give each key its own id`;
  if (key === "") return `key "${id}" is empty`;
  if (key.length < MIN_FLEET_KEY_LENGTH) return `key "${id}" must be at least ${MIN_FLEET_KEY_LENGTH} characters`;
  const sameKey = keys.get(key);
  // The same key under two ids: which id a login counts for would be a guess.
  if (sameKey !== undefined) return `key "${id}" is the same key as ${NAME}[${sameKey}]: list each key once`;
  return null;
}

/** The variable's kind: the text itself once every entry is valid (consumers read it with parseFleetKeys). */
export const fleetKeyList = (): ValueKind<string> => ({
  parse(raw) {
    const problems: Problem[] = [];
    parseFleetKeys(raw, problems);
    return problems.length > 0 ? { ok: false, problems } : { ok: true, value: raw };
  },
});
