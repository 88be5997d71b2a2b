// The one way a route asks the alerts service something (an acknowledgement, a silence to create or
// end) and answers HTTP with the outcome: its answer when it agreed; 503 ALERTS_UNAVAILABLE when it
// did not answer in time; otherwise the API error its refusal code maps to.
import { AckTimeoutError, type AlertsServiceAnswer } from "./deps.js";
import { type ApiErrorCode, apiError } from "./errors.js";

export type { AlertsServiceAnswer } from "./deps.js";

/** The API error of each refusal code the alerts service sends; `otherwise` for any other code. */
export type RefusalErrors = Partial<Record<string, ApiErrorCode>> & { otherwise: ApiErrorCode };

export async function askAlertsService<T>(send: () => Promise<AlertsServiceAnswer<T>>, refusals: RefusalErrors): Promise<T> {
  let answer: AlertsServiceAnswer<T>;
  try {
    answer = await send();
  } catch (error) {
    if (error instanceof AckTimeoutError) throw apiError("ALERTS_UNAVAILABLE", error.message);
    throw error;
  }
  if (answer.ok) return answer;
  throw apiError(refusals[answer.code] ?? refusals.otherwise, answer.message, answer.devices);
}
