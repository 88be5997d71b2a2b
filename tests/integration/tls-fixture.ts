// Certificates for the TLS tests, made by openssl as an operator would: a test CA, and leaves it signs
// for localhost / 127.0.0.1 / ::1. Plus a ServiceContext whose environment turns TLS on.
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import { connect as connectTcp } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TLSSocket, connect as connectTls } from "node:tls";
import { readEnv } from "../../domain/env.js";
import { loadCampus } from "../../infra/campus-file.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import type { ServiceContext } from "../../infra/service.js";

export const GROUP_KEY = "tls-test-group-key-0123456789";
export const SERVICE_PASSWORD = "tls-test-service-password";
export const ADMIN_TOKEN = "tls-test-admin-token-0123456789";

const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, OPENSSL_CONF: "/dev/null" } });

export interface TestCa {
  dir: string;
  caFile: string;
  ca: Buffer;
  /** Signs a new leaf for localhost; returns its files and SHA-256 fingerprint (colon hex, as Node prints it). */
  leaf(name: string): { certFile: string; keyFile: string; fingerprint256: string };
}

export function makeCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), "campus-tls-"));
  const caFile = join(dir, "ca.pem");
  const caKey = join(dir, "ca-key.pem");
  openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc", "-sha256", "-days", "2",
    "-subj", "/CN=campus-power test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
    "-keyout", caKey, "-out", caFile);
  return {
    dir,
    caFile,
    ca: readFileSync(caFile),
    leaf(name) {
      const keyFile = join(dir, `${name}-key.pem`);
      const csr = join(dir, `${name}.csr`);
      const certFile = join(dir, `${name}.pem`);
      const ext = join(dir, `${name}.ext`);
      execFileSync("sh", ["-c", `printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\\nextendedKeyUsage=serverAuth\\n' > '${ext}'`]);
      openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc", "-subj", `/CN=localhost ${name}`, "-keyout", keyFile, "-out", csr);
      openssl("x509", "-req", "-in", csr, "-CA", caFile, "-CAkey", caKey, "-CAcreateserial", "-days", "2", "-sha256", "-extfile", ext, "-out", certFile);
      return { certFile, keyFile, fingerprint256: new X509Certificate(readFileSync(certFile)).fingerprint256 };
    },
  };
}

/** Puts a leaf's files where TLS_CERT_FILE / TLS_KEY_FILE point (as an operator renewing a certificate does). */
export function install(leaf: { certFile: string; keyFile: string }, at: { certFile: string; keyFile: string }): void {
  copyFileSync(leaf.certFile, at.certFile);
  copyFileSync(leaf.keyFile, at.keyFile);
}

export function tlsContext(variables: Record<string, string>): ServiceContext {
  const env = readEnv({
    DEVICE_GROUP_KEY: GROUP_KEY, SERVICE_PASSWORD, API_TOKENS: `admin:${ADMIN_TOKEN}`, LOG_LEVEL: "silent",
    DATA_DIR: mkdtempSync(join(tmpdir(), "campus-tls-data-")), ...variables,
  });
  return { env, campus: loadCampus("tests/fixtures/test-campus.yaml"), log: createLogger("silent"), metrics: createRegistry(false) };
}

/** The certificate a new TLS connection to the port is served (SHA-256 fingerprint), trusting `ca`. */
export function servedFingerprint(port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = connectTls({ host: "127.0.0.1", port, ca, servername: "localhost" }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.once("error", reject);
  });
}

/** What a plain TCP connect to the port gets: "refused" when nothing listens there. */
export function plainConnect(port: number): Promise<"refused" | "accepted"> {
  return new Promise((resolve) => {
    const socket = connectTcp(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve("accepted");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED" ? "refused" : "accepted"));
  });
}
