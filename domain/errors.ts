// One catalogue of coded errors. Expected per-message failures are values (`Refusal`);
// bad configuration and bugs throw `CampusError` with a code from this list.

export const ErrorCodes = {
  CONFIG_INVALID: "CONFIG_INVALID",
  ENV_INVALID: "ENV_INVALID",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  PAYLOAD_NOT_JSON: "PAYLOAD_NOT_JSON",
  PAYLOAD_INVALID: "PAYLOAD_INVALID",
  UNKNOWN_DEVICE: "UNKNOWN_DEVICE",
  UNKNOWN_TOPIC: "UNKNOWN_TOPIC",
  INFLUX_UNAVAILABLE: "INFLUX_UNAVAILABLE",
  INFLUX_REJECTED: "INFLUX_REJECTED",
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** A problem found in a config file or the environment: where, and why. */
export interface Problem {
  path: string;
  message: string;
}

export class CampusError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly problems: Problem[] = [],
  ) {
    super(message);
    this.name = "CampusError";
  }
}

/** Why one incoming message was refused (never thrown: returned and counted). */
export interface Refusal {
  code: ErrorCode;
  reason: string;
}

export function formatProblems(problems: Problem[]): string {
  return problems.map((p) => `  ${p.path || "(root)"}: ${p.message}`).join("\n");
}
