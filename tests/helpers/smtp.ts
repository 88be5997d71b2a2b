// A real SMTP server for the e-mail tests (the `smtp-server` package, on 127.0.0.1): it checks AUTH against
// one user and password the way a mail provider does (535 on a wrong one), keeps every message it accepted
// as raw MIME, and can be stopped and started again on the same port (a mail server down, then back).
// `parseMail` reads what the tests look at (headers, and the parts of a multipart/alternative body) without
// a parser package: the messages are nodemailer's, quoted-printable or base64 parts of one boundary.
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface ReceivedMail {
  /** The envelope: MAIL FROM and RCPT TO. */
  from: string;
  to: string[];
  /** Who logged in. */
  user: string;
  raw: string;
}

export interface MailServer {
  port: number;
  received: ReceivedMail[];
  /** AUTH attempts refused (a wrong user or password). */
  refusedLogins: number;
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
}

export async function startMailServer(o: { user: string; password: string; port?: number }): Promise<MailServer> {
  const received: ReceivedMail[] = [];
  let refusedLogins = 0;
  const make = () =>
    new SMTPServer({
      // Plain TCP on 127.0.0.1: no STARTTLS offered, AUTH allowed without it (a test server only).
      disabledCommands: ["STARTTLS"],
      allowInsecureAuth: true,
      authOptional: false,
      logger: false,
      onAuth(auth, _session, callback) {
        if (auth.username === o.user && auth.password === o.password) return callback(null, { user: auth.username });
        refusedLogins += 1;
        callback(new Error("Invalid username or password"));
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => {
          const envelope = session.envelope;
          received.push({ from: envelope.mailFrom ? envelope.mailFrom.address : "", to: envelope.rcptTo.map((r) => r.address), user: String(session.user), raw: Buffer.concat(chunks).toString("utf8") });
          callback();
        });
      },
    });
  let server = make();
  const listen = (port: number) => new Promise<number>((resolve) => server.listen(port, "127.0.0.1", () => resolve((server.server.address() as AddressInfo).port)));
  const port = await listen(o.port ?? 0);
  return {
    port,
    received,
    get refusedLogins() {
      return refusedLogins;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
    async start() {
      server = make();
      await listen(port);
    },
  };
}

export interface ParsedMail {
  headers: Record<string, string>;
  /** The top-level Content-Type without parameters. */
  type: string;
  /** Each part of a multipart body: its Content-Type (without parameters) and decoded text. */
  parts: { type: string; text: string }[];
}

/** RFC 2047 encoded words (=?UTF-8?Q?…?= / =?UTF-8?B?…?=) in a header, decoded. */
function decodeWords(value: string): string {
  return value.replace(/\?=\s+=\?/g, "?==?").replace(/=\?utf-8\?([QB])\?([^?]*)\?=/gi, (_m, encoding: string, text: string) =>
    encoding.toUpperCase() === "B" ? Buffer.from(text, "base64").toString("utf8") : decodeQuotedPrintable(text.replace(/_/g, " ")));
}

/** RFC 2045 §6.7 quoted-printable: soft line breaks removed, =XX bytes decoded as UTF-8. */
function decodeQuotedPrintable(text: string): string {
  const bytes = text.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => `%${hex}`);
  return decodeURIComponent(bytes.replace(/%(?![0-9A-F]{2})/gi, "%25"));
}

function headersOf(head: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = decodeWords(line.slice(colon + 1).trim());
  }
  return headers;
}

const split = (raw: string) => {
  const at = raw.search(/\r?\n\r?\n/);
  return { head: raw.slice(0, at), body: raw.slice(at).replace(/^\r?\n\r?\n/, "") };
};

export function parseMail(raw: string): ParsedMail {
  const { head, body } = split(raw);
  const headers = headersOf(head);
  const contentType = headers["content-type"] ?? "text/plain";
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  const parts = boundary === undefined ? [] : body.split(`--${boundary}`).slice(1, -1).map((chunk) => {
    const part = split(chunk.replace(/^\r?\n/, ""));
    const partHeaders = headersOf(part.head);
    const encoding = partHeaders["content-transfer-encoding"] ?? "7bit";
    const text = encoding === "base64" ? Buffer.from(part.body, "base64").toString("utf8") : encoding === "quoted-printable" ? decodeQuotedPrintable(part.body) : part.body;
    return { type: (partHeaders["content-type"] ?? "").split(";")[0]!.trim(), text };
  });
  return { headers, type: contentType.split(";")[0]!.trim(), parts };
}
