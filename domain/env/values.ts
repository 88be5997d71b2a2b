// The kinds of value an environment variable holds. Each turns the variable's text into a typed value
// in the unit the code uses (ms, bytes), or into problems that say what is wrong and what is expected.
import { parseDurationMs } from "../duration.js";
import type { Problem } from "../errors.js";
import { joinMqttUrls, parseMqttUrls } from "./mqtt-urls.js";

export type ValueResult<T> = { ok: true; value: T } | { ok: false; problems: Problem[] };

export interface ValueKind<T> {
  /** `name` is the variable's, for the problems' paths. */
  parse(text: string, name: string): ValueResult<T>;
}

const accept = <T>(value: T): ValueResult<T> => ({ ok: true, value });
const refuse = (name: string, message: string): ValueResult<never> => ({ ok: false, problems: [{ path: name, message }] });

/** Any text. */
export const text = (): ValueKind<string> => ({ parse: accept });

/** Text matching a pattern (e.g. an InfluxDB database name). */
export const textMatching = (pattern: RegExp, message: string): ValueKind<string> => ({
  parse: (raw, name) => (pattern.test(raw) ? accept(raw) : refuse(name, message)),
});

/** One of a list of words. */
export const oneOf = <Word extends string>(words: readonly Word[]): ValueKind<Word> => ({
  parse: (raw, name) => (words.includes(raw as Word) ? accept(raw as Word) : refuse(name, `must be one of ${words.join(", ")}`)),
});

/** A secret: empty (unset) or at least `minLength` characters. */
export const secret = (minLength = 0): ValueKind<string> => ({
  parse: (raw, name) => (raw === "" || raw.length >= minLength ? accept(raw) : refuse(name, `must be at least ${minLength} characters`)),
});

/** A URL (WHATWG URL Standard, as `new URL` reads it); trailing slashes dropped so paths can be appended. */
export const url = (): ValueKind<string> => ({
  parse(raw, name) {
    if (!URL.canParse(raw)) return refuse(name, `must be a URL (got "${raw}")`);
    return accept(raw.replace(/\/+$/, ""));
  },
});

/**
 * One MQTT broker's URL or several, comma separated (CONTRACT §12: a client uses whichever answers), each
 * an mqtt://, mqtts://, ws:// or wss:// URL with a host (./mqtt-urls.ts). The value is the text with blanks
 * around the entries and trailing slashes dropped; every bad entry is a problem that names it.
 */
export const mqttUrls = (): ValueKind<string> => ({
  parse(raw, name) {
    const read = parseMqttUrls(raw);
    return read.ok ? accept(joinMqttUrls(read.brokers)) : { ok: false, problems: read.problems.map((message) => ({ path: name, message })) };
  },
});

const HTTP_URL = /^https?:\/\/[^/]/;

/** An http(s) URL with a host. */
export const httpUrl = (): ValueKind<string> => ({
  parse: (raw, name) => (HTTP_URL.test(raw) ? accept(raw) : refuse(name, "must be an http(s) URL")),
});

/** An http(s) URL with a host, or null when unset. */
export const optionalHttpUrl = (): ValueKind<string | null> => ({
  parse: (raw, name) => (raw === "" ? accept(null) : HTTP_URL.test(raw) ? accept(raw) : refuse(name, "must be an http(s) URL")),
});

/**
 * A Redis server's URL (`redis://` or `rediss://`, a host, a password in the user info), or null when unset.
 * A refusal never repeats the text: it may hold a password.
 */
export const optionalRedisUrl = (): ValueKind<string | null> => ({
  parse(raw, name) {
    if (raw === "") return accept(null);
    const parsed = URL.canParse(raw) ? new URL(raw) : null;
    if (parsed === null || (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") || parsed.hostname === "") {
      return refuse(name, "must be a redis:// or rediss:// URL with a host, e.g. redis://:password@10.0.0.5:6379/0 (the value is not repeated here: it may hold a password)");
    }
    return accept(raw);
  },
});

/**
 * An SMTP server's URL (`smtp://` or `smtps://`, a host, credentials in the user info), or null when unset.
 * A refusal never repeats the text: it may hold a password.
 */
export const optionalSmtpUrl = (): ValueKind<string | null> => ({
  parse(raw, name) {
    if (raw === "") return accept(null);
    const parsed = URL.canParse(raw) ? new URL(raw) : null;
    if (parsed === null || (parsed.protocol !== "smtp:" && parsed.protocol !== "smtps:") || parsed.hostname === "") {
      return refuse(name, "must be an smtp:// or smtps:// URL with a host, e.g. smtps://user:password@smtp.example.edu.cn:465 (the value is not repeated here: it may hold a password)");
    }
    return accept(raw);
  },
});

/** An address of RFC 5322's `addr-spec` shape, bare or as a mailbox `Name <addr>`, or null when unset. */
export const optionalMailbox = (): ValueKind<string | null> => ({
  parse: (raw, name) =>
    raw === "" ? accept(null) : /^([^<>]*<[^@\s<>]+@[^@\s<>]+>|[^@\s<>]+@[^@\s<>]+)$/.test(raw.trim()) ? accept(raw.trim()) : refuse(name, `must be an e-mail address, or "Name <address>" (got "${raw}")`),
});

/** Decimal digits with an optional fraction: no sign, exponent, hex or blank (which `Number` would read as 0). */
const DECIMAL = /^\s*\d+(\.\d+)?\s*$/;
const WHOLE = /^\s*\d+\s*$/;

/** A TCP port; 0 asks the system for a free one (RFC 6335 §6: ports are 16-bit, 0–65535). */
export const port = (): ValueKind<number> => ({
  parse(raw, name) {
    const value = Number(raw);
    return WHOLE.test(raw) && value <= 65535 ? accept(value) : refuse(name, `must be a port number 0..65535 (got "${raw}")`);
  },
});

/** A TCP port, or null when unset (the listener is off). */
export const optionalPort = (): ValueKind<number | null> => {
  const number = port();
  return { parse: (raw, name) => (raw === "" ? accept(null) : number.parse(raw, name)) };
};

/** A bound of a number, in the text's unit; `shown` when the number itself reads badly (1/24). */
export interface Limit {
  value: number;
  shown?: string;
  why: string;
}

export interface PositiveNumberOptions {
  /** What one unit of the text is called in messages ("days", "MB"). */
  unit: string;
  /** Factor from the text's unit to the value's (days → ms: 86,400,000). */
  scale: number;
  /** Smallest and largest accepted, in the text's unit. */
  min?: Limit;
  max: Limit;
}

/** A positive number of some unit, fractions allowed, scaled to the unit the code uses. */
export const positiveNumber = (options: PositiveNumberOptions): ValueKind<number> => ({
  parse(raw, name) {
    const value = Number(raw);
    if (!DECIMAL.test(raw) || value <= 0) return refuse(name, `must be a positive number of ${options.unit} (got "${raw}")`);
    const { min, max, unit } = options;
    if (min && value < min.value) return refuse(name, `must be at least ${min.shown ?? min.value} ${unit}: ${min.why} (got "${raw}")`);
    if (value > max.value) return refuse(name, `must be at most ${max.shown ?? max.value} ${unit}: ${max.why} (got "${raw}")`);
    return accept(value * options.scale);
  },
});


/**
 * Node's timers hold a delay as a signed 32-bit count of ms: a longer one fires after 1 ms instead
 * (with a TimeoutOverflowWarning). A duration that ends up in setTimeout or AbortSignal.timeout stays below.
 */
export const LONGEST_TIMER_MS = 2 ** 31 - 1;
/** ECMAScript time values reach ±8.64e15 ms (ECMA-262 §21.4.1.1): `now + duration` must stay one. */
export const LONGEST_CLOCK_SPAN_MS = 8.64e15;

export interface DurationOptions {
  /** Whether 0 is meaningful (e.g. "no grouping"); otherwise it is refused. */
  zero: "allowed" | "refused";
  max: { ms: number; why: string };
}

const DURATION_EXAMPLE = "a duration such as 500ms, 30s, 15m, 4h";

/** Checks one duration's text; a message when it is not acceptable. */
function durationProblem(raw: string, options: DurationOptions): { ms: number } | { message: string } {
  const ms = parseDurationMs(raw);
  if (Number.isNaN(ms)) return { message: `must be ${DURATION_EXAMPLE} (got "${raw}")` };
  if (ms === 0 && options.zero === "refused") return { message: `must be longer than zero (got "${raw}")` };
  if (ms > options.max.ms) return { message: `must be at most ${options.max.ms} ms: ${options.max.why} (got "${raw}")` };
  return { ms };
}

/** A duration → ms. */
export const duration = (options: DurationOptions): ValueKind<number> => ({
  parse(raw, name) {
    const checked = durationProblem(raw, options);
    return "ms" in checked ? accept(checked.ms) : refuse(name, checked.message);
  },
});

/**
 * `critical:15m,major:30m` → ms per severity. A severity left out has no duration (`leftOut` says what
 * that means), so a zero is refused rather than read as "never" or as "at once".
 */
export const durationsPerSeverity = <Severity extends string>(
  severities: readonly Severity[],
  options: DurationOptions & { leftOut: string },
): ValueKind<Partial<Record<Severity, number>>> => ({
  parse(raw, name) {
    const out: Partial<Record<Severity, number>> = {};
    const problems: Problem[] = [];
    for (const pair of raw.split(",").filter((x) => x.trim() !== "")) {
      const [severity = "", value = ""] = pair.split(":").map((x) => x.trim());
      const checked = durationProblem(value, options);
      if (!pair.includes(":") || !severities.includes(severity as Severity)) {
        problems.push({ path: name, message: `must be severity:duration pairs with a severity of ${severities.join(", ")}, e.g. critical:15m,major:30m (got "${pair}")` });
      } else if ("message" in checked) problems.push({ path: name, message: `${severity}: ${checked.message}; ${options.leftOut}` });
      else out[severity as Severity] = checked.ms;
    }
    return problems.length > 0 ? { ok: false, problems } : accept(out);
  },
});
