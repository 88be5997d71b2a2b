// bench:e2e's ceiling: the same load (load.mjs, same connections, readings, processes and window) against a
// bare Mosquitto that stores nothing and has no subscriber: the most this machine's CPUs let the load
// generator publish, whatever the system under test. Debian's mosquitto (the peer's own); skipped without it.
import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { freePort } from "../../infra/free-port.js";
import { waitFor } from "../../tests/helpers/wait.js";
import { progress } from "../district/processes.js";
import { type LoadResult, runLoad } from "./load.js";

const MOSQUITTO = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"].find((path) => existsSync(path));

export async function runCeiling(options: { dir: string; idsFile: string; readings: number; procs: number; window: number; loadScript: string }): Promise<LoadResult | null> {
  if (!MOSQUITTO) {
    progress("ceiling: mosquitto is not installed (apt-get install mosquitto); skipped");
    return null;
  }
  const port = await freePort();
  const config = join(options.dir, "mosquitto-ceiling.conf");
  writeFileSync(config, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 1000000\n`);
  const broker = spawn(MOSQUITTO, ["-c", config], { stdio: "ignore" });
  try {
    const listening = () => new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => (socket.destroy(), resolve(true)));
      socket.once("error", () => resolve(false));
    });
    if (!(await waitFor(listening, 5_000, 100))) throw new Error(`mosquitto did not listen on ${port} within 5 s`);
    progress(`ceiling: load.mjs against a bare Mosquitto on ${port} (nothing stored)`);
    return await runLoad({ script: options.loadScript, url: `mqtt://127.0.0.1:${port}`, key: null, idsFile: options.idsFile, readings: options.readings, procs: options.procs, window: options.window });
  } finally {
    broker.kill("SIGTERM");
  }
}
