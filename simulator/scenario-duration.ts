// Durations in scenario files: the product's one grammar (domain/duration.ts) with a unit required and a
// sign allowed (a clock skew of `-2h`), as a schema for the file and as ms for the run.
import { Type as T } from "@sinclair/typebox";
import { parseDurationMs } from "../domain/duration.js";

export const DurationSchema = T.String({ pattern: "^-?\\d+(\\.\\d+)?(ms|s|m|h|d)$" });

/** Parses `90s`, `10m`, `-2h`, … into ms. */
export const durationMs = (text: string): number => parseDurationMs(text, { unitRequired: true, signed: true });
