// `npm run bench:alerts-state`: what the alerts service does on its event loop, without a break, at district size
// (issue 12 §9: 20 × 1,000 devices), when it takes over from another instance (REDIS_URL) and in a storm (every
// device silent past its watchdog: an offline alert each). The lease is renewed on the same event loop, every
// second with a 5 s TTL (docs/ha.md): a step that holds the loop that long, on a machine whose cores are shared,
// costs the lease. Pure CPU, one process, no Redis: each step is timed as the service runs it, and beside it the
// step as it was when the state in Redis was one JSON value (before the state per device: alerts/redis-state.ts).
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { evaluate, initialState, openAlerts } from "../alerts/engine.js";
import { emptyNotifyState, noteChange } from "../alerts/notify/planner.js";
import { createStateOwner } from "../alerts/owned-map.js";
import { parseSavedState } from "../alerts/persistence.js";
import { assembleState, parseFields } from "../alerts/redis-state.js";
import { createRuleBook } from "../alerts/rule-book.js";
import { defaultRules } from "../alerts/rules/index.js";
import type { EngineState, SavedState } from "../alerts/saved-state.js";
import { createStateLedger, ENCODE_SLICE } from "../alerts/state-ledger.js";
import { alertSitesUpgrade } from "../alerts/state-upgrade.js";
import { TICK_SLICE } from "../alerts/tick-passes.js";
import { loadCampus } from "../infra/campus-file.js";
import { createLogger } from "../infra/logger.js";
import { parseBenchArgs } from "./args.js";
import { writeBenchDistrict } from "./district/school-files.js";

const HELP = `npm run bench:alerts-state -- [--schools 20] [--devices 1000] [--rounds 5]
The alerts service's longest steps at district size, timed on one core: a takeover (reading the state, checking
it, starting, the first save) and a storm (one watchdog tick opening an offline alert on every device, and the
save after it); each beside the same step with the state as one JSON value, as it was before the state per device.
Median of --rounds rounds, ms.
  --schools N   schools (default 20)
  --devices N   devices a school (default 1000)
  --rounds N    rounds of each step (default 5)
  --help        this text`;

const { values: args, number } = parseBenchArgs("alerts-state", HELP, { schools: { type: "string" }, devices: { type: "string" }, rounds: { type: "string" } });
const SCHOOLS = number("--schools", args.schools ?? 20);
const DEVICES = number("--devices", args.devices ?? 1_000);
const ROUNDS = number("--rounds", args.rounds ?? 5);

const dir = mkdtempSync(join(tmpdir(), "campus-bench-alerts-state-"));
const progress = (message: string) => process.stderr.write(`bench:alerts-state: ${message}\n`);
try {
  const district = writeBenchDistrict(dir, SCHOOLS, DEVICES, 10);
  const campus = loadCampus(district.file);
  const book = createRuleBook(campus, defaultRules());
  const upgrade = alertSitesUpgrade(campus, createLogger("silent"));
  const t0 = Date.now();
  progress(`${district.devices.toLocaleString("en")} devices: one reading each, then a tick 60 s later (an offline alert each)`);
  const owner = createStateOwner();
  let quiet = owner.run(() => evaluate(book, initialState(), { kind: "start" }, t0).state);
  for (const device of campus.devices) {
    const reading = { device: device.id, ts: t0, values: { power_w: 500, current_a: 2.3, voltage_v: 221, energy_kwh: 12.5, power_factor: 0.95 } };
    quiet = owner.run(() => evaluate(book, quiet, { kind: "reading", live: true, reading }, t0).state);
  }
  const saved = (engine: EngineState): SavedState => ({ version: 1, saved_at: new Date(t0).toISOString(), engine, pending_writes: [] });

  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const time = async (work: () => unknown | Promise<unknown>) => {
    const samples: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const started = performance.now();
      await work();
      samples.push(performance.now() - started);
    }
    return median(samples);
  };
  const rows: [string, string, string][] = [];
  const row = (step: string, now: number | string, before: number | string) => rows.push([step, typeof now === "number" ? now.toFixed(0) : now, typeof before === "number" ? before.toFixed(0) : before]);

  // The storm: one tick opens an alert on every device; the save after it.
  progress("storm");
  const stormTick = await time(() => evaluate(book, quiet, { kind: "tick" }, t0 + 60_000));
  const storm = evaluate(book, quiet, { kind: "tick" }, t0 + 60_000).state;
  // As the service runs it: a pass in slices of TICK_SLICE devices (alerts/tick-passes.ts), on a map its owner holds.
  const sliceTimes: number[] = [];
  const slicedTick = await time(() => {
    const sliceOwner = createStateOwner();
    let state = sliceOwner.run(() => evaluate(book, quiet, { kind: "start" }, t0).state); // owned, as the service's is
    for (let from = 0; from < book.tickOrder.length; from += TICK_SLICE) {
      const started = performance.now();
      state = sliceOwner.run(() => evaluate(book, state, { kind: "tick", slice: { from, to: from + TICK_SLICE } }, t0 + 60_000).state);
      sliceTimes.push(performance.now() - started);
    }
  });
  const slices = `${median(sliceTimes).toFixed(0)} / ${Math.max(...sliceTimes).toFixed(0)}`;
  row(`storm: the watchdog tick (${Object.keys(storm.devices).length.toLocaleString("en")} alerts opened), a slice of ${TICK_SLICE.toLocaleString("en")} devices: median / longest (a GC may land in one) (before: in one step)`, slices, stormTick);
  row("storm: the whole tick pass, all slices (the loop is free between them)", slicedTick, stormTick);
  const ledgerAfter = () => {
    const ledger = createStateLedger();
    ledger.written(ledger.encode(saved(quiet)));
    return ledger;
  };
  const ledgers = Array.from({ length: ROUNDS }, ledgerAfter);
  const stormSave = await time(() => ledgers.pop()!.encode(saved(storm)));
  row("storm: the save's serialising (every device changed), in one go", stormSave, await time(() => JSON.stringify(saved(storm))));
  let busy = 0;
  await time(async () => (busy = (await ledgerAfter().encodeInSlices(saved(storm))).busyMs));
  const turns = Math.ceil(Object.keys(storm.devices).length / ENCODE_SLICE);
  row(`storm: the same in slices of ${ENCODE_SLICE.toLocaleString("en")} devices, one turn (mean of ${turns})`, busy / turns, "—");

  // With notifications configured, the notifier notes each alert the storm opened, one change a time as the
  // effects go out (500 a turn); until 2026-12-07 it copied its tracked alerts per change: 140 s for 20,000.
  const stormAlerts = openAlerts(storm);
  const notified = await time(() => {
    const notifierOwner = createStateOwner();
    let ns = emptyNotifyState();
    for (const alert of stormAlerts) ns = notifierOwner.run(() => noteChange(ns, "opened", alert, t0 + 60_000));
  });
  row(`storm: the notifier noting the ${stormAlerts.length.toLocaleString("en")} alerts opened, all turns together`, notified, "—");
  // The save after it with notifications configured: the alerts the notifier paged (the feeders'; the rooms' are
  // inhibited under them and not kept) per alert in their own hash, in the same slices as the devices.
  const notifierOwner = createStateOwner();
  let tracked = emptyNotifyState();
  for (const alert of stormAlerts) tracked = notifierOwner.run(() => noteChange(tracked, "opened", alert, t0 + 60_000));
  const withNotifier: SavedState = { ...saved(storm), notify: { state: tracked, outbox: [], seq: 0 } };
  let notifiedBusy = 0;
  let restChars = 0;
  await time(async () => {
    const { payload, busyMs } = await ledgerAfter().encodeInSlices(withNotifier);
    [notifiedBusy, restChars] = [busyMs, payload.rest.length];
  });
  const paged = Object.keys(tracked.alerts).length;
  const notifiedTurns = Math.ceil((Object.keys(storm.devices).length + paged) / ENCODE_SLICE);
  row(`storm with notifications: the save in slices, one turn (mean of ${notifiedTurns}: the devices and the ${paged.toLocaleString("en")} alerts the notifier paged; the rest ${(restChars / 1024).toFixed(1)} KiB)`, notifiedBusy / notifiedTurns, "—");

  // A takeover of the state after the storm: read, checked, started, first save.
  progress("takeover");
  const whole = JSON.stringify(saved(storm));
  const fields = Object.fromEntries(Object.entries(storm.devices).map(([id, slot]) => [id, JSON.stringify(slot)]));
  const { engine: { devices: _devices, ...engineRest }, ...others } = saved(storm);
  const rest = JSON.stringify({ ...others, engine: engineRest });
  let parsedFields: Record<string, unknown> = {};
  const parseTurns = await time(async () => (parsedFields = await parseFields(fields)));
  row("takeover: parsing the devices' fields (now in turns of 1,000: one turn, mean)", `${(parseTurns / Math.ceil(Object.keys(fields).length / 1_000)).toFixed(0)}`, "—");
  const check = await time(() => parseSavedState(assembleState(rest, parsedFields)!, upgrade));
  const checkWhole = await time(() => parseSavedState(whole, upgrade));
  row("takeover: checking the state (before: parsing it whole too)", check, checkWhole);
  const loaded = parseSavedState(assembleState(rest, parsedFields)!, upgrade);
  if (!loaded.ok) throw new Error(loaded.reason);
  const start = await time(() => evaluate(book, loaded.saved.engine, { kind: "start" }, Date.now()));
  row("takeover: the engine's start (every watchdog from now)", start, start);
  const started = evaluate(book, loaded.saved.engine, { kind: "start" }, Date.now()).state;
  let first = null as ReturnType<ReturnType<typeof createStateLedger>["encode"]> | null;
  const firstSave = await time(() => {
    const ledger = createStateLedger({ devices: Object.keys(fields) });
    ledger.loaded(loaded.saved);
    first = ledger.encode(saved(started));
  });
  const written = first!.devices.entries.length;
  row(`takeover: the first save's serialising (${written} devices written; before: all, whole)`, firstSave, await time(() => JSON.stringify(saved(started))));

  const mb = (text: string) => {
    const bytes = Buffer.byteLength(text);
    return bytes < 1_048_576 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1_048_576).toFixed(1)} MiB`;
  };
  console.log(`\nbench:alerts-state — ${new Date().toISOString()}; ${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}`);
  console.log(`${district.devices.toLocaleString("en")} devices (${SCHOOLS} schools × ${DEVICES}); the state after the storm: ${mb(whole)} as one value, ${mb(rest)} + ${Object.keys(fields).length.toLocaleString("en")} fields per device; median of ${ROUNDS} rounds\n`);
  console.log("| step, on the event loop without a break | now, ms | state as one value, ms |");
  console.log("|---|---|---|");
  for (const [step, now, before] of rows) console.log(`| ${step} | ${now} | ${before} |`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
