// The alerts service: the adapter around the pure engine. It feeds the engine from the internal
// topics and a wall-clock tick, and performs its effects: retained alert publication (CONTRACT §3, §5),
// `alert` points in InfluxDB (§4), ack results, and the state file that lets alerts survive restarts.
// It also owns every remote-switching command (CONTRACT §10; commands/desk.ts): one active decider
// with persistence and a tick keeps "one command per device at a time" and ends every command; and the
// schedules and the dormitory power rule (automation/), which issue commands through it.
// With REDIS_URL (`deps.redis`) any number of these run and exactly one is active (./failover.ts): the
// same service, its state in Redis behind a fencing token, started once it holds the lease.
import { join } from "node:path";
import type { Alert } from "../domain/alert.js";
import { SELECT_TIMEOUT_MS } from "../domain/command.js";
import { silenceTopic } from "../domain/silence.js";
import { alertTopic } from "../domain/topics.js";
import { DeadLetterLog, refusedPointLetter } from "../infra/dead-letter.js";
import type { InfluxClient } from "../infra/influx.js";
import type { MqttClient } from "../infra/mqtt.js";
import type { RunningService, ServiceContext } from "../infra/service.js";
import { finishesWithin } from "../infra/timeout.js";
import { linkCommand } from "./automation/alert-link.js";
import { type Automation, createAutomation } from "./automation/index.js";
import { createCommandDesk } from "./commands/desk.js";
import { createCommandMetrics } from "./commands/metrics.js";
import { decodeInputs } from "./decode.js";
import { firstConnect, openConnection, subscriptionFilters } from "./connection.js";
import { createEffectPerformer } from "./effects.js";
import { createSlicer } from "./slices.js";
import { createTickPasses } from "./tick-passes.js";
import { evaluate, initialState, openAlerts } from "./engine.js";
import { type ActiveTerm, type AlertsRedis, type AlertsRole, startWithLease } from "./failover.js";
import { createAlertMetrics } from "./metrics.js";
import { createNotifier, type Environment, notificationLink, type Notifier, webhookTargets, webhookTimings } from "./notify/index.js";
import { CommandBookSchema } from "./commands/book.js";
import { createSchemaStore, createStateStore } from "./persistence.js";
import { createRuleBook, currentSilences, type RuleBook } from "./rule-book.js";
import { defaultRules } from "./rules/index.js";
import type { SavedState } from "./saved-state.js";
import { alertSitesUpgrade } from "./state-upgrade.js";
import type { Effect, EngineInput, EngineState, Rule } from "./types.js";
import { alertQueueBound, createAlertWriter } from "./writer.js";
import { createStateOwner } from "./owned-map.js";

export { evaluate, evaluateBatch, initialState, openAlerts } from "./engine.js";
export { createRuleBook, currentSilences, type RuleBook } from "./rule-book.js";
export { defaultRules } from "./rules/index.js";
export type { AckReply, AlertChange, Effect, EngineInput, EngineState, Rule, RuleContext, Step, Verdict } from "./types.js";
export type { AlertsRedis, AlertsRole } from "./failover.js";

export interface AlertsDeps {
  influx: InfluxClient;
  /** Wall clock, epoch ms (tests inject one). */
  now?: () => number;
  /** Watchdog tick, ms: an offline alert is never later than one tick (default 1 s). */
  tickMs?: number;
  /** The rule list (default: `defaultRules()`). */
  rules?: Rule[];
  /** Called with every alert object as it is published (benches measure latency with it). */
  onAlert?: (alert: Alert) => void;
  /** How long a selection waits for its operate, ms (CONTRACT §10: 30 s; tests shorten it). */
  selectTimeoutMs?: number;
  /** How long a sent command waits for the device, ms (default: COMMAND_TIMEOUT_S). */
  commandTimeoutMs?: number;
  /** A schedule's commands per second, at most (default: SCHEDULE_RATE). */
  scheduleRate?: number;
  /**
   * The process environment, where the district file's notification routes name their secrets (`secret_env`,
   * CONTRACT §9); the composition root passes it. Default: none, so a route refuses the start.
   */
  environment?: Environment;
  /** REDIS_URL (CONTRACT §12): run as one of several, active only while holding the lease (./failover.ts). */
  redis?: AlertsRedis;
}

export interface RunningAlerts extends RunningService {
  /** The engine state now (read-only; for tests and views). */
  state(): EngineState;
  /** "single" without Redis; else standby, active, deposed (stood down: restart it) or stopped. */
  role(): "single" | AlertsRole;
}

export { ALERTS_CLIENT_ID } from "./connection.js";
const CLOSE_TIMEOUT_MS = 3_000;

export async function startAlerts(ctx: ServiceContext, deps: AlertsDeps): Promise<RunningAlerts> {
  // A rule override the rule's schema refuses, or a school's webhook whose secret is not in the environment,
  // stops the start here, before anything is read or connects (CampusError naming the variable).
  const book = createRuleBook(ctx.campus, deps.rules ?? defaultRules());
  const webhooks = webhookTargets(ctx.env.alertWebhook, ctx.campus.notify, deps.environment ?? {});
  if (!deps.redis) return runAlerts(ctx, deps, book, webhooks, null);
  // A standby at once (so a stop works while it waits); the service starts once the lease is ours.
  const standby = startWithLease(ctx, deps.redis, (term) => runAlerts(ctx, deps, book, webhooks, term));
  return { state: () => standby.running()?.state() ?? initialState(), role: standby.role, stop: standby.stop };
}

/** The service itself; `term` (REDIS_URL only) gives its state's Redis keys and fences what it does. */
async function runAlerts(ctx: ServiceContext, deps: AlertsDeps, book: RuleBook, webhooks: ReturnType<typeof webhookTargets>, term: ActiveTerm | null): Promise<RunningAlerts> {
  const log = ctx.log.child({ service: "alerts" });
  const now = deps.now ?? Date.now;
  const metrics = createAlertMetrics(ctx.metrics);
  const publicUrl = notificationLink(deps.environment ?? {}, ctx.env.httpPort);
  const file = join(ctx.env.dataDir, "alerts", "state.json");

  let state: EngineState = initialState();
  // Assigned once the store has loaded the pending writes; only the store's snapshot reads it.
  let writer: ReturnType<typeof createAlertWriter>;
  let notifier: Notifier | null = null;
  let desk: ReturnType<typeof createCommandDesk>;
  let automation: Automation;
  const snapshot = (): SavedState => ({
    version: 1,
    saved_at: new Date(now()).toISOString(),
    engine: state,
    pending_writes: writer.pending(),
    ...(notifier ? { notify: notifier.snapshot() } : {}),
    automation: automation.snapshot(),
  });
  // A file from before alerts carried their site gets it (state-upgrade.ts).
  const store = createStateStore(term?.backends.state ?? file, snapshot, log, { upgrade: alertSitesUpgrade(ctx.campus, log) });
  const saved = store.load();
  // The command book in a file of its own: a command's send waits for it to be on disk (commands/desk.ts).
  const commandStore = createSchemaStore(term?.backends.commands ?? join(ctx.env.dataDir, "alerts", "commands.json"), CommandBookSchema, () => desk.book(), log);
  if (saved) state = saved.engine;
  const deadLetters = new DeadLetterLog(join(ctx.env.dataDir, "dead-letter"), { onError: (error) => log.error({ err: error }, "cannot write the dead-letter log") });
  writer = createAlertWriter({
    influx: term ? term.guardWrites(deps.influx) : deps.influx,
    log,
    metrics,
    initial: saved?.pending_writes ?? [],
    onChange: () => store.schedule(),
    onDeadLetter: (line, reason) => deadLetters.append(refusedPointLetter(line, reason, Date.now())),
    maxQueue: alertQueueBound(ctx.campus.devices.length),
  });
  notifier = createNotifier(webhooks, webhookTimings(ctx.env.alertWebhook), saved?.notify, {
    now, log, metrics, onChange: () => store.schedule(), publicUrl, campus: ctx.campus,
    influx: deps.influx, openAlerts: () => openAlerts(state), dataDir: ctx.env.dataDir,
    ...(term ? { digestStore: term.backends.digests } : {}),
  });

  let client: MqttClient | null = null;
  const publish = (topic: string, payload: string, retain: boolean) => {
    // Fencing (./failover.ts): an instance whose lease ran out, or may have, publishes nothing.
    if (term && !term.holds()) return;
    client!.publishAsync(topic, payload, { qos: 1, retain }).catch((error: unknown) => {
      metrics.publishFailures.inc();
      log.warn({ err: error, topic }, "MQTT publication failed");
    });
  };
  desk = createCommandDesk({
    settings: { campus: ctx.campus, selectTimeoutMs: deps.selectTimeoutMs ?? SELECT_TIMEOUT_MS, commandTimeoutMs: deps.commandTimeoutMs ?? ctx.env.commandTimeoutMs },
    saved: commandStore.load() ?? saved?.commands, // files from before commands.json kept it in state.json
    now,
    publish,
    write: (line) => writer.enqueue(line),
    changed: () => commandStore.schedule(),
    saveNow: () => commandStore.saveNow(),
    metrics: createCommandMetrics(ctx.metrics),
    log: log.child({ part: "commands" }),
    onChange: (command) => automation.commandChanged(command),
  });
  automation = createAutomation({
    campus: ctx.campus,
    scheduleRate: deps.scheduleRate ?? ctx.env.scheduleRate,
    now,
    desk,
    saved: saved?.automation,
    changed: () => store.schedule(),
    log,
  });

  // The service holds the only reference to its state: steps update the device map in place (./owned-map.ts),
  // so an input costs what it changes, not a copy of every device's slot (≈ 18 ms at 20,000 devices).
  const owner = createStateOwner();
  const performEffect = createEffectPerformer({
    publish,
    write: (line) => writer.enqueue(line),
    notifier: () => (term && !term.holds() ? null : notifier),
    metrics,
    log,
    ...(deps.onAlert ? { onAlert: deps.onAlert } : {}),
    opened: (alert) => automation.alertOpened(alert),
    link: (alert, commandId) => {
      state = owner.run(() => linkCommand(state, alert, commandId));
      store.schedule();
    },
  });

  // In order, a slice per turn of the event loop: a storm of alerts leaves the lease's renewal its turn (./slices.ts).
  const outbound = createSlicer<() => void>((work) => work(), (error) => log.error({ err: error }, "an alert's effect failed"));
  const perform = (effects: readonly Effect[]) => outbound.run(effects.map((effect) => () => performEffect(effect)));

  // One of several (REDIS_URL): what a step does outside (an alert published, written, paged, a power rule's
  // command) waits until the state it comes from is saved in Redis, so a standby taking over never finds an
  // alert published that its state lacks (it would open it again under a new id). Costs up to the save
  // debounce (250 ms) of alert latency; alone, effects go out at once as before (the file is saved likewise).
  let standingDown = false;
  const performAfterSave = (effects: Effect[]) => store.afterSave(() => standingDown || perform(effects));
  const run = (input: EngineInput) => {
    const result = owner.run(() => evaluate(book, state, input, now()));
    if (input.kind !== "tick") metrics.evaluations.inc({ kind: input.kind }); // a tick: once its pass is done
    if (result.state !== state) {
      state = result.state;
      store.schedule();
    }
    if (!term) perform(result.effects);
    else if (result.effects.length > 0) performAfterSave(result.effects);
  };

  /** A message's inputs in order; one that throws is skipped alone (its run left the state as it was). */
  const runAll = (inputs: readonly EngineInput[], topic: string) => {
    for (const input of inputs) {
      try {
        run(input);
      } catch (error) {
        log.error({ err: error, topic }, "rule evaluation failed; message skipped");
      }
    }
  };

  // The watchdog's tick a slice of a district a turn (./tick-passes.ts).
  const ticks = createTickPasses(book.tickOrder.length, (slice) => run({ kind: "tick", slice }), () => metrics.evaluations.inc({ kind: "tick" }), (error) => log.error({ err: error }, "watchdog tick failed"));

  // Watchdogs count from this start, before any message can arrive.
  run({ kind: "start" });
  metrics.open.reset(); // one alerts service per process: the gauge restarts from the saved state
  for (const alert of openAlerts(state)) metrics.open.inc({ rule: alert.rule });

  // Handlers are attached before the connection opens: with a persistent session (clean: false) the
  // broker may deliver queued messages right after CONNACK.
  const connection = openConnection(ctx, term);
  const c = connection.client;
  client = c;
  let timer: NodeJS.Timeout | undefined;
  let stopping: Promise<void> | null = null;
  // Standing down: at once, saving and writing nothing more, and the MQTT queue discarded (`end(true)`).
  term?.onStandDown(() => (stopping ??= (async () => {
    standingDown = true;
    clearInterval(timer);
    ticks.stop();
    automation.stop();
    connection.unwatch();
    c.removeAllListeners("message");
    c.end(true);
    store.cancel();
    commandStore.cancel();
    await writer.close(0);
    await notifier?.close();
    log.warn("alerts service stood down");
  })()));
  // Commands that ran out while the service was away end now (mqtt.js holds QoS 1 publications until connected);
  // the schedule runs missed meanwhile are logged, never run late.
  desk.run({ kind: "start" });
  automation.start();
  // Readings arrive in batches, fed to the engine in their order; a device's retained latest reading is
  // only a starting state (domain/internal-stream.ts decodeInternalMessage).
  c.on("message", (topic, payload, packet) => {
    if (desk.handle(topic, payload, packet.retain)) return;
    const inputs = decodeInputs(topic, payload, packet.retain);
    if (inputs === null) return;
    const valid: EngineInput[] = [];
    for (const decoded of inputs) {
      if (decoded.ok) {
        valid.push(decoded.input);
      } else if (payload.length > 0) {
        // Clearing a retained internal topic (empty payload) is normal; anything else is worth a count.
        metrics.invalid.inc({ kind: decoded.kind });
        log.warn({ topic, reason: decoded.reason }, "invalid internal message skipped");
      }
    }
    runAll(valid, topic);
    desk.observe(valid);
  });
  c.on("error", (error) => log.warn({ err: error }, "MQTT error"));
  c.on("connect", () => {
    // Every (re)connection republishes the open alerts: a restarted broker may have lost them (as they are
    // now; one of several, once saved, as every effect).
    const alerts = openAlerts(state);
    const silences = JSON.stringify(currentSilences(book, state, now()));
    // Behind the effects already queued, in the same order-keeping queue (a district's open alerts are many).
    const republish = () =>
      outbound.run([...alerts.map((alert) => () => publish(alertTopic(alert.device, alert.rule), JSON.stringify(alert), true)), () => publish(silenceTopic.list, silences, true)]);
    if (term) store.afterSave(() => standingDown || republish());
    else republish();
    c.subscribeAsync(subscriptionFilters()).catch((error: unknown) => log.error({ err: error }, "subscription failed"));
  });
  await firstConnect(c, term);

  timer = setInterval(() => {
    try {
      desk.run({ kind: "tick" });
      automation.tick();
      ticks.start();
      notifier?.tick();
    } catch (error) {
      log.error({ err: error }, "watchdog tick failed");
    }
  }, deps.tickMs ?? 1_000);
  log.info({ rules: book.rules.map((r) => r.id), open: openAlerts(state).length }, "alerts service started");

  return {
    state: () => state,
    role: () => (term ? "active" : "single"),
    stop() {
      stopping ??= (async () => {
        clearInterval(timer);
        ticks.stop();
        automation.stop();
        c.removeAllListeners("message");
        outbound.finish();
        await notifier?.close();
        await finishesWithin(desk.settled(), CLOSE_TIMEOUT_MS / 4);
        await writer.close(CLOSE_TIMEOUT_MS / 2);
        store.cancel();
        commandStore.cancel();
        await Promise.all([store.saveNow(), commandStore.saveNow()]);
        outbound.finish(); // what the last save released (one of several: effects wait for their save) goes out now
        connection.unwatch();
        await finishesWithin(Promise.all([c.endAsync(), deadLetters.flush()]), CLOSE_TIMEOUT_MS / 2);
        if (!c.disconnected) c.end(true);
        log.info("alerts service stopped");
      })();
      return stopping;
    },
  };
}
