// The one duration grammar of the product: environment variables, command-line options and scenario files.

const DURATION_UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type DurationUnit = keyof typeof DURATION_UNITS_MS;
const DURATION = /^(-?)(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/;

export interface DurationGrammar {
  /** A bare number (ms) is refused: on a command line or in a scenario `90` is ambiguous. */
  unitRequired?: boolean;
  /** `-2h` is accepted (a scenario's clock skew runs behind). */
  signed?: boolean;
}

/** `1500`, `500ms`, `30s`, `15m`, `4h`, `1d` → ms (a bare number is ms unless a unit is required); NaN when unreadable. */
export function parseDurationMs(raw: string, grammar: DurationGrammar = {}): number {
  const match = DURATION.exec(raw.trim());
  if (!match || (match[1] === "-" && !grammar.signed) || (match[3] === undefined && grammar.unitRequired)) return Number.NaN;
  return (match[1] === "-" ? -1 : 1) * Number(match[2]) * DURATION_UNITS_MS[(match[3] ?? "ms") as DurationUnit];
}
