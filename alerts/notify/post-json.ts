// The one way notifications POST to a receiver's address (the signed webhook, the robots, notify-test).
// A receiver is not trusted (docs/security.md "A malicious webhook receiver"): it may answer with a
// redirect to an address inside the school's network, which fetch would follow with the signed alert as its
// body (307/308 keep method and body), or with an endless answer. So redirects are refused (a failed
// delivery, retried and logged like any other) and at most MAX_ANSWER_BYTES of the answer are read.
/** Enough for any vendor's JSON answer (`{"errcode":310000,"errmsg":"sign not match, …"}`) or an error page's start. */
export const MAX_ANSWER_BYTES = 4_096;

export interface PostAnswer {
  status: number;
  ok: boolean;
  /** The answer's first MAX_ANSWER_BYTES, as UTF-8 text ("" when it could not be read). */
  text: string;
}

export async function postJson(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<PostAnswer> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json; charset=utf-8", ...headers }, body, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel().catch(() => {});
    throw new Error(`HTTP ${response.status}: the receiver answered with a redirect, which is not followed`);
  }
  return { status: response.status, ok: response.ok, text: await firstBytes(response, MAX_ANSWER_BYTES).catch(() => "") };
}

/** Reads up to `limit` bytes of the answer, then stops reading it (the rest is never buffered). */
async function firstBytes(response: Response, limit: number): Promise<string> {
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  // A multi-byte character cut at the limit decodes as U+FFFD, never as an error.
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, limit));
}
