// freePort against the real kernel and file system: ports below the ephemeral range, never the same port to
// two askers on the machine, never a port someone listens on, and a lease left by an ended process reused.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer, type Server } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { claim, ephemeralLow, freePort, LEASES, takeLease } from "../../../infra/free-port.js";

const MODULE = fileURLToPath(new URL("../../../infra/free-port.ts", import.meta.url));

/**
 * `count` ports asked for by a separate node process, as a child service or another test would. It stays alive,
 * holding them, until `release()`: a process that ends frees its ports, which another may then rightly be given.
 */
function portsOfAnotherProcess(count: number): { ports: Promise<number[]>; release(): void } {
  const script = `const { freePort } = await import(${JSON.stringify(MODULE)}); const ports = [];
    for (let i = 0; i < ${count}; i++) ports.push(await freePort()); console.log(JSON.stringify(ports));
    process.stdin.resume(); process.stdin.on("end", () => process.exit(0));`;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  const ports = new Promise<number[]>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.endsWith("\n")) resolve(JSON.parse(out) as number[]);
    });
    child.once("exit", (code) => reject(new Error(`exit ${code} before printing its ports`)));
  });
  return { ports, release: () => child.stdin.end() };
}

const servers: Server[] = [];
afterAll(() => servers.forEach((server) => server.close()));

describe("freePort", () => {
  it("reads the kernel's ephemeral range, or takes IANA's", () => {
    expect(ephemeralLow("32768\t60999\n")).toBe(32_768);
    expect(ephemeralLow("")).toBe(49_152);
  });

  it("hands out ports below the ephemeral range, each once, to processes asking at the same time", async () => {
    const [theirs, others] = [portsOfAnotherProcess(100), portsOfAnotherProcess(100)];
    const [mine, theirPorts, otherPorts] = await Promise.all([
      (async () => {
        const ports: number[] = [];
        for (let i = 0; i < 100; i += 1) ports.push(await freePort());
        return ports;
      })(),
      theirs.ports,
      others.ports,
    ]).finally(() => [theirs, others].forEach((child) => child.release()));
    const all = [...mine, ...theirPorts, ...otherPorts];
    expect(new Set(all).size).toBe(300);
    for (const port of all) expect(port >= 20_000 && port < ephemeralLow()).toBe(true);
  }, 30_000);

  it("leaves a port alone while a live process holds its lease, and takes one whose holder has ended", async () => {
    const port = await freePort();
    // This process holds it: another asker (here the same function for a fresh lease) finds it taken.
    expect(Number(readFileSync(join(LEASES, String(port)), "utf8"))).toBe(process.pid);
    expect(takeLease(port)).toBe("taken");
    const ended = spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" });
    // A new file, not a write through the lease (a hard link to this process's own file).
    rmSync(join(LEASES, String(port)));
    writeFileSync(join(LEASES, String(port)), ended.stdout.trim());
    expect(takeLease(port)).toBe("held");
    expect(Number(readFileSync(join(LEASES, String(port)), "utf8"))).toBe(process.pid);
  });

  it("never claims a port a server listens on, and leaves no lease for it", async () => {
    const server = createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, resolve));
    const busy = (server.address() as AddressInfo).port;
    expect(await claim(busy)).toBe(false);
    expect(existsSync(join(LEASES, String(busy)))).toBe(false);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(await claim(busy)).toBe(true);
    expect(await claim(busy)).toBe(false);
  });
});
