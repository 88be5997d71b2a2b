// A TCP port nobody listens on, for a server that a child process (or this one) will open a moment later:
// the local influxd and Redis of `up`, and the ports the tests and benchmarks give the services they start.
//
// Asking the kernel for port 0 and closing it is racy in two ways, either of which can give what CI once saw
// (EADDRINUSE on a port in 32768–60999): the port comes from the ephemeral range, where every outgoing
// connection of the machine takes its local port, and a second ask may return the same port before the first
// one's server opens it. So the
// ports come from below the ephemeral range, are tried once by binding, and each is leased to this process
// by a file (created exclusively, so no two processes on the machine hold the same port) until it exits.
import { linkSync, mkdirSync, readFileSync, rmdirSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const LOWEST = 20_000;
const handedOut = new Set<number>();

/** The lowest port of the kernel's ephemeral range (Linux), or of the IANA one where it cannot be read. */
export function ephemeralLow(text = readOr("/proc/sys/net/ipv4/ip_local_port_range")): number {
  const low = Number(text.trim().split(/\s+/)[0]);
  return Number.isInteger(low) && low > 0 ? low : 49_152;
}

/** The machine's lease folder (the test run's own TMPDIR links it to this one: tests/helpers/global-setup.ts). */
export const LEASES = join(tmpdir(), "campus-power-ports");

export async function freePort(): Promise<number> {
  const size = ephemeralLow() - LOWEST;
  const start = Math.floor(Math.random() * Math.max(size, 1));
  for (let i = 0; i < size; i += 1) {
    const port = LOWEST + ((start + i) % size);
    const claimed = await claim(port);
    if (claimed === "unavailable") break;
    if (claimed) return port;
  }
  return kernelPort();
}

/** Takes the port for this process if nobody holds its lease and nobody listens on it. */
export async function claim(port: number): Promise<boolean | "unavailable"> {
  if (handedOut.has(port)) return false;
  const leased = takeLease(port);
  if (leased !== "held") return leased === "unavailable" ? "unavailable" : false;
  if (await canListen(port)) {
    handedOut.add(port);
    return true;
  }
  release(port);
  return false;
}

/**
 * "held" when this process now holds the port's lease (a new one, or one left by a process that has ended),
 * "taken" when a live process holds it, "unavailable" when no lease can be written at all. A lease is a hard
 * link to this process's own file: it appears at once and whole, with the pid in it.
 */
export function takeLease(port: number): "held" | "taken" | "unavailable" {
  const mine = ownFile();
  if (!mine) return "unavailable";
  const file = join(LEASES, String(port));
  try {
    linkSync(mine, file);
    return "held";
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") return "unavailable";
  }
  const holder = Number(readOr(file));
  if (alive(holder)) return "taken";
  return reclaim(file, holder, mine) ? "held" : "taken";
}

/**
 * Takes over the lease of a holder that has ended, one process of the machine at a time (a lock folder): two
 * processes that both read the same dead holder would otherwise each delete what the other had just linked,
 * and both hold the port (CI saw it once: 299 distinct ports of 300).
 */
function reclaim(file: string, deadHolder: number, mine: string): boolean {
  const lock = join(LEASES, ".reclaim");
  if (!locked(lock)) return false;
  try {
    if (Number(readOr(file)) !== deadHolder) return false; // taken over meanwhile, or released
    removed(file);
    linkSync(mine, file); // throws when a new lease was linked in between: it is that process's
    return true;
  } catch {
    return false;
  } finally {
    rmdirSync(lock);
  }
}

/** Takes the lock folder; one left by a process that ended holding it (it is held for microseconds) goes after 10 s. */
function locked(lock: string): boolean {
  try {
    mkdirSync(lock);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") return false;
    try {
      if (Date.now() - statSync(lock).mtimeMs > 10_000) rmdirSync(lock);
    } catch {
      // gone meanwhile
    }
    return false;
  }
}

let own: string | null | undefined;
function ownFile(): string | null {
  if (own !== undefined) return own;
  try {
    mkdirSync(LEASES, { recursive: true });
    const file = join(LEASES, `.${process.pid}`);
    removed(file);
    writeFileSync(file, String(process.pid));
    own = file;
    process.once("exit", () => {
      for (const port of handedOut) release(port);
      removed(file);
    });
  } catch {
    own = null;
  }
  return own;
}

function release(port: number): void {
  removed(join(LEASES, String(port)));
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function removed(file: string): boolean {
  try {
    unlinkSync(file);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOENT";
  }
}

function readOr(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/** Whether a server may listen on the port on every address (what the services do) right now. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

/** The fallback where no lease can be taken (a read-only temporary folder): the kernel's choice. */
function kernelPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}
