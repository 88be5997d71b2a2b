// Structured logs (pino). Secrets are redacted wherever they might appear in a logged object.
import { pino, type Logger } from "pino";

export type { Logger };

export const REDACTED_PATHS = [
  "password",
  "*.password",
  "token",
  "*.token",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "req.headers.authorization",
  "deviceGroupKey",
  "*.deviceGroupKey",
  "servicePassword",
  "*.servicePassword",
  "apiTokens",
  "*.apiTokens",
];

export function createLogger(level: string, name = "campus-power"): Logger {
  return pino({ name, level, redact: { paths: REDACTED_PATHS, censor: "[redacted]" } });
}
