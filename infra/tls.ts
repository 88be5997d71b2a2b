// The TLS certificate and key every TLS listener serves (CONTRACT §13, docs/tls.md): read from
// TLS_CERT_FILE / TLS_KEY_FILE, checked as a pair, and swapped into every listener on reload
// (`server.setSecureContext`: connections already open keep the context they were made with).
// A demo pair for `up --demo --tls` is made with openssl. Key material never reaches a log.
import { execFileSync } from "node:child_process";
import { X509Certificate, createPrivateKey } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Server as TlsServer, type TlsOptions, createSecureContext } from "node:tls";
import { CampusError, ErrorCodes } from "../domain/errors.js";
import type { Logger } from "./logger.js";

// TLS 1.0 and 1.1 are deprecated (RFC 8996); 1.2 is the floor every MQTT client library still supports.
export const MIN_TLS_VERSION = "TLSv1.2" as const;

export interface TlsPair {
  cert: Buffer;
  key: Buffer;
}

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** Reads and checks a pair; throws with the file's name and what is wrong (never the key). */
export function readTlsPair(files: TlsFiles): TlsPair {
  const read = (path: string, variable: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new CampusError(ErrorCodes.ENV_INVALID, "TLS files cannot be read", [{ path: variable, message: `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? "error"}` }]);
    }
  };
  const pair = { cert: read(files.certFile, "TLS_CERT_FILE"), key: read(files.keyFile, "TLS_KEY_FILE") };
  const problem = pairProblem(pair);
  if (problem) throw new CampusError(ErrorCodes.ENV_INVALID, "TLS files are not a usable pair", [{ path: problem.variable, message: problem.message }]);
  return pair;
}

/** Why a pair cannot be served, or null. OpenSSL's messages name the failing routine, never key bytes. */
function pairProblem(pair: TlsPair): { variable: string; message: string } | null {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pair.cert);
  } catch (error) {
    return { variable: "TLS_CERT_FILE", message: `is not a PEM certificate (${(error as Error).message})` };
  }
  try {
    if (!certificate.checkPrivateKey(createPrivateKey(pair.key))) return { variable: "TLS_KEY_FILE", message: "is not the private key of TLS_CERT_FILE's certificate" };
    createSecureContext({ cert: pair.cert, key: pair.key, minVersion: MIN_TLS_VERSION });
  } catch (error) {
    return { variable: "TLS_KEY_FILE", message: `is not a usable PEM private key (${(error as Error).message})` };
  }
  return null;
}

/**
 * The pair the TLS listeners serve. One instance is shared by every listener of a process, so one
 * reload (SIGHUP) changes them all; a bad new pair is logged and the old one kept.
 */
export class TlsCredentials {
  private pair: TlsPair;
  private readonly servers = new Set<TlsServer>();

  constructor(
    private readonly files: TlsFiles,
    private readonly log: Logger,
  ) {
    this.pair = readTlsPair(files);
  }

  /** The options a TLS server starts with. */
  serverOptions(): TlsOptions {
    return { cert: this.pair.cert, key: this.pair.key, minVersion: MIN_TLS_VERSION };
  }

  /** Keeps `server` on the current pair from now on; returns the function that stops doing so. */
  attach(server: TlsServer): () => void {
    this.servers.add(server);
    return () => this.servers.delete(server);
  }

  /** Re-reads both files; true when the new pair is served to new connections from now on. */
  reload(): boolean {
    let next: TlsPair;
    try {
      next = readTlsPair(this.files);
    } catch (error) {
      const problems = error instanceof CampusError ? error.problems : [{ path: "TLS", message: String(error) }];
      this.log.error({ certFile: this.files.certFile, keyFile: this.files.keyFile, problems }, "TLS reload refused; still serving the previous certificate");
      return false;
    }
    this.pair = next;
    for (const server of this.servers) server.setSecureContext(this.serverOptions());
    this.log.info({ certFile: this.files.certFile, fingerprint256: new X509Certificate(next.cert).fingerprint256, listeners: this.servers.size }, "TLS certificate reloaded");
    return true;
  }
}

/** The credentials TLS_CERT_FILE / TLS_KEY_FILE name, or null when TLS is off (readEnv made sure both or neither). */
export function tlsFromEnv(env: { tlsCertFile: string; tlsKeyFile: string }, log: Logger): TlsCredentials | null {
  if (env.tlsCertFile === "") return null;
  return new TlsCredentials({ certFile: env.tlsCertFile, keyFile: env.tlsKeyFile }, log);
}

/**
 * A certificate renewed by an operator is picked up with `kill -HUP` (as nginx and mosquitto do).
 * With TLS on, SIGHUP means "reload" for the whole process, so the stop that cli/runtime.ts maps to
 * SIGHUP (a closed terminal) is replaced: Ctrl-C and SIGTERM still stop.
 */
export function reloadOnHangup(credentials: TlsCredentials): void {
  process.removeAllListeners("SIGHUP");
  process.on("SIGHUP", () => credentials.reload());
}

// The demo pair lives this long; it is made again when less than a week is left.
const DEMO_VALID_DAYS = 397; // the longest a publicly trusted leaf may live (CA/Browser Forum BR §6.3.2)
const RENEW_BEFORE_MS = 7 * 86_400_000;

export interface DemoPair extends TlsFiles {
  created: boolean;
  fingerprint256: string;
  validTo: string;
}

/**
 * A self-signed pair for `up --demo --tls` in `dir` (CN localhost; SAN localhost, 127.0.0.1, ::1),
 * kept and reused while it is valid for more than a week. The certificate is its own CA: clients
 * trust it with `--cafile`, `ca:` or the system's store (docs/tls.md).
 */
export function ensureDemoPair(dir: string): DemoPair {
  const certFile = join(dir, "demo-cert.pem");
  const keyFile = join(dir, "demo-key.pem");
  const usable = existsSync(certFile) && existsSync(keyFile) && stillValid(certFile, keyFile);
  if (!usable) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // openssl req -x509 (OpenSSL ≥ 1.1.1): a P-256 key, never encrypted (-noenc), written 0600 by openssl's umask below.
    runOpenssl([
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc", "-sha256",
      "-days", String(DEMO_VALID_DAYS), "-subj", "/CN=localhost",
      "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
      "-addext", "basicConstraints=critical,CA:TRUE",
      "-addext", "keyUsage=critical,digitalSignature,keyCertSign",
      "-addext", "extendedKeyUsage=serverAuth",
      "-keyout", keyFile, "-out", certFile,
    ]);
  }
  const certificate = new X509Certificate(readFileSync(certFile));
  return { certFile, keyFile, created: !usable, fingerprint256: certificate.fingerprint256, validTo: certificate.validTo };
}

function runOpenssl(args: string[]): void {
  try {
    // OPENSSL_CONF=/dev/null: a distribution's openssl.cnf must not add extensions or prompts to the demo pair.
    execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, OPENSSL_CONF: "/dev/null" } });
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    const why = missing ? "openssl is not installed (Debian/Ubuntu: apt-get install openssl, or npm run setup)" : `openssl failed: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
    throw new CampusError(ErrorCodes.ENV_INVALID, "cannot make the demo TLS certificate", [{ path: "--tls", message: `${why}; or set TLS_CERT_FILE and TLS_KEY_FILE to a pair of your own` }]);
  }
}

function stillValid(certFile: string, keyFile: string): boolean {
  try {
    const pair = { cert: readFileSync(certFile), key: readFileSync(keyFile) };
    if (pairProblem(pair) !== null) return false;
    return Date.parse(new X509Certificate(pair.cert).validTo) - Date.now() > RENEW_BEFORE_MS;
  } catch {
    return false;
  }
}
