// An e-mail route as an outbox channel (./paced-channel.ts), over SMTP with nodemailer (CONTRACT §14
// "email"): `SMTP_URL` (`smtp://` — STARTTLS when the server offers it — or `smtps://`, implicit TLS; the
// credentials in the URL's user info, percent-encoded) and `SMTP_FROM`. One multipart/alternative message
// (text and HTML) per send. An SMTP error or no connection is a failed delivery, retried with backoff like
// any other; the error carries the server's code and words and the server as host:port, never the URL's
// user info (the password must not reach a log: tests/integration/notify-email.test.ts).
import nodemailer from "nodemailer";
import type { RouteLanguage } from "../../domain/district/schema.js";
import type { SmtpSettings } from "../../domain/env-alerts.js";
import { type EmailMessage, emailMessage, type EmailText } from "./email-text.js";
import { type Outlet, type PacedChannel, pacedChannel } from "./paced-channel.js";
import type { RateLimit } from "./rate.js";

export interface EmailRoute {
  to: readonly string[];
  lang: RouteLanguage;
}

/**
 * Not a vendor's limit (SMTP has none to speak of) but a mailbox's: at most 10 mails a minute per route;
 * more alert changes waiting go together in fewer mails, as the robots' do (./rate.ts).
 */
export const EMAIL_RATE: RateLimit = { messages: 10, windowMs: 60_000 };
/** A mail carries at most this much HTML (a backlog after a long outage is split over several mails). */
const MAX_HTML_BYTES = 512 * 1024;

/** An SMTP failure as the log shows it: the server's reply and where, without credentials. */
export class SmtpFailure extends Error {
  constructor(readonly server: string, readonly smtpCode: string | undefined, readonly response: string | undefined, cause: string) {
    super(`SMTP delivery through ${server} failed: ${response ?? cause}`);
  }
}

/** `smtp.example.edu.cn:465`: the server a URL names, for messages. */
export function smtpServer(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || (parsed.protocol === "smtps:" ? "465" : "587")}`;
}

/** nodemailer's SMTP options from the URL: user and password decoded from the user info. */
function transportOptions(url: string, timeoutMs: number) {
  const parsed = new URL(url);
  const secure = parsed.protocol === "smtps:";
  const auth = parsed.username ? { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) } : undefined;
  return {
    host: parsed.hostname,
    port: Number(parsed.port || (secure ? 465 : 587)),
    secure,
    ...(auth ? { auth } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  };
}

/** Sends one mail; throws an SmtpFailure when the server refuses it or cannot be reached (also `notify-test`'s). */
export async function sendEmail(smtp: SmtpSettings, to: readonly string[], message: EmailMessage, timeoutMs: number): Promise<string> {
  const transport = nodemailer.createTransport(transportOptions(smtp.url, timeoutMs));
  try {
    const info = await transport.sendMail({ from: smtp.from, to: [...to], subject: message.subject, text: message.text, html: message.html });
    return String(info.response ?? "");
  } catch (error) {
    // nodemailer's errors carry `code` (EAUTH, ESOCKET…), the server's `response` and the failed `command`.
    const e = error as { code?: string; response?: string; message?: string };
    throw new SmtpFailure(smtpServer(smtp.url), e.code, e.response, e.message ?? String(error));
  } finally {
    transport.close();
  }
}

export function emailOutlet(route: EmailRoute, smtp: SmtpSettings, text: EmailText): Outlet<EmailMessage> {
  return {
    compose: (content) => emailMessage(content, route.lang, text),
    fits: (message) => Buffer.byteLength(message.html) <= MAX_HTML_BYTES,
    send: async (message, _nowMs, timeoutMs) => void (await sendEmail(smtp, route.to, message, timeoutMs)),
  };
}

export const emailChannel = (route: EmailRoute, smtp: SmtpSettings, text: EmailText, deps: { now: () => number; sent?: readonly number[] }): PacedChannel =>
  pacedChannel(emailOutlet(route, smtp, text), EMAIL_RATE, deps);
