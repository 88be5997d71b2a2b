// What the three group robots (CONTRACT §14) have in common: a message made of a title and markdown blocks,
// HMAC-SHA256 signing as the vendors document it, and their answers. A vendor says "refused" with HTTP 200
// and a non-zero `errcode` (DingTalk, WeCom) or `code` (Feishu): that is a failed delivery, retried.
import { createHmac } from "node:crypto";
import type { Severity } from "../../../domain/alert.js";

export interface RobotMessage {
  title: string;
  /** Markdown blocks, each a list of lines (../message-text.ts bodyOf). */
  blocks: readonly (readonly string[])[];
  /** Mobile numbers to @-mention (major and critical only: ../robot-channel.ts). */
  mentions: readonly string[];
  /** The one alert's dashboard link (a message about several has one per line), or null. */
  link: string | null;
  /** The header's colour (Feishu): the most severe item's, or "resolved" when every item is resolved. */
  tone: Severity | "resolved";
  lang: "zh-CN" | "en";
}

export interface Robot {
  /** A severity word in the vendor's colour markup. */
  colour(severity: Severity, word: string): string;
  /** The HTTP request: where to POST (signed, for DingTalk) and the JSON body. */
  request(url: string, secret: string | undefined, message: RobotMessage, nowMs: number): { url: string; body: string };
  /** Whether the message is within the vendor's size limit (a batch that is not is made smaller: ../rate.ts). */
  fits(message: RobotMessage): boolean;
  /** The field of the answer that carries the vendor's error code. */
  codeField: "errcode" | "code";
}

/** Base64 of HMAC-SHA256(key, data): the signature both DingTalk and Feishu document (with different key and data). */
export const hmacBase64 = (key: string, data: string) => createHmac("sha256", key).update(data, "utf8").digest("base64");

export interface VendorAnswer {
  ok: boolean;
  status: number;
  /** The vendor's error code (0 = accepted), or null when the answer is not the vendor's JSON. */
  code: number | null;
  message: string;
}

/** Reads an answer: 2xx with the vendor's code 0 is a delivery; anything else is not. */
export function readAnswer(status: number, text: string, codeField: Robot["codeField"]): VendorAnswer {
  let json: Record<string, unknown> | null = null;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null) json = parsed as Record<string, unknown>;
  } catch {
    // not JSON: below
  }
  // Feishu's older endpoints answer {StatusCode, StatusMessage}.
  const rawCode = json?.[codeField] ?? json?.StatusCode;
  const code = typeof rawCode === "number" ? rawCode : null;
  const words = json?.errmsg ?? json?.msg ?? json?.StatusMessage;
  const message = typeof words === "string" ? words : text.slice(0, 200);
  return { ok: status >= 200 && status < 300 && code === 0, status, code, message };
}

/** The address with its query (an access token, a key, a signature) left out, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname.replace(/\/hook\/[^/]+$/, "/hook/…")}${parsed.search ? "?…" : ""}`;
  } catch {
    return "(not a URL)";
  }
}
