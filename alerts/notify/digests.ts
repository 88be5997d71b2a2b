// Daily digests (CONTRACT §14 "Digest"): each route with `digest: "HH:MM"` gets, once a day at that time in
// a school's zone, that school's last day (./digest-content.ts) through its own channel and the same durable
// outbox (and flood limit) as its alerts: words for a robot or a mailbox, JSON for a webhook
// (./digest-webhook.ts). A route with a `site` gets its school's; one without, in a district, one digest per
// school, each at the time in that school's zone. The date each was last sent and the day's
// alert ledger (./digest-ledger.ts) are kept in `DATA_DIR/alerts/digests.json`, so a restart sends neither
// twice nor forgets the alerts of the day; the outbox entry's id names route, school and date, so one already
// queued when the service stopped is not queued again.
import { join } from "node:path";
import { type Static, Type } from "@sinclair/typebox";
import type { Alert } from "../../domain/alert.js";
import type { Campus } from "../../domain/campus.js";
import type { InfluxClient } from "../../infra/influx.js";
import type { Logger } from "../../infra/logger.js";
import { resultWithin } from "../../infra/timeout.js";
import { createSchemaStore, type StoreBackend } from "../persistence.js";
import type { AlertChange } from "../types.js";
import { dayBefore, dueDigest, type DueDigest, firstLastSent, midnightOf } from "./digest-clock.js";
import { type Digest, OFFLINE_LISTED } from "./digest-content.js";
import { readSiteKwh } from "./digest-energy.js";
import { LedgerSchema, noteInLedger, pruneLedger, ruleSummaries } from "./digest-ledger.js";
import type { DigestRoute } from "./routes.js";

export const DigestStateSchema = Type.Object({
  /** `{route key}/{site}` → the local date of the last digest sent ("YYYY-MM-DD"). */
  sent: Type.Record(Type.String(), Type.String()),
  ledger: LedgerSchema,
});
type DigestState = Static<typeof DigestStateSchema>;

/** How long a digest waits for InfluxDB's energy figures before it goes without them ("no data"), ms. */
const ENERGY_WAIT_MS = 20_000;

export interface DigestDeps {
  campus: Campus;
  influx: InfluxClient;
  dataDir: string;
  /** Where the digests' file lives instead of DATA_DIR (REDIS_URL: in Redis, so the next active knows what was sent). */
  store?: StoreBackend;
  publicUrl: string;
  now: () => number;
  log: Logger;
  /** The engine's open alerts (the devices offline now are those with an open `offline` alert). */
  openAlerts(): readonly Alert[];
  /** Whether the outbox holds an entry of this id (queued before a restart, not delivered yet). */
  queued(id: string): boolean;
  /** Queues a digest for a route's target (in the body its channel reads: ./index.ts). */
  enqueue(target: string, id: string, digest: Digest): void;
}

export interface Digests {
  change(change: AlertChange, alert: Alert): void;
  /** Sends the digests that are due (the notifier's tick). */
  tick(): void;
  close(): Promise<void>;
}

/** The digests of these routes, or null when no route has one. */
export function createDigests(routes: readonly DigestRoute[], d: DigestDeps): Digests | null {
  if (routes.length === 0) return null;
  const store = createSchemaStore(d.store ?? join(d.dataDir, "alerts", "digests.json"), DigestStateSchema, () => state, d.log);
  // The ledger is changed in place (./digest-ledger.ts); `sent` is replaced.
  let state: DigestState = store.load() ?? { sent: {}, ledger: {} };
  const building = new Set<string>();
  const schools = (route: DigestRoute) => d.campus.sites.filter((site) => route.filter.site === undefined || site.site.id === route.filter.site);

  const build = async (route: DigestRoute, site: Campus, due: DueDigest): Promise<Digest> => {
    const zone = site.site.timezone;
    const yesterday = dayBefore(due.date);
    const before = dayBefore(yesterday);
    const spans = [{ fromMs: midnightOf(yesterday, zone), toMs: midnightOf(due.date, zone) }, { fromMs: midnightOf(before, zone), toMs: midnightOf(yesterday, zone) }];
    const energy = await resultWithin(readSiteKwh(d.influx, site, spans, d.now()).catch((error: unknown) => {
      d.log.warn({ err: error, site: site.site.id }, "digest: energy not read from InfluxDB; sent without it");
      return [null, null];
    }), ENERGY_WAIT_MS, [null, null]);
    const offline = d.openAlerts().filter((a) => a.rule === "offline" && a.site === site.site.id).sort((a, b) => a.device.localeCompare(b.device));
    return {
      site: site.site.id, school: site.site.name, timezone: zone, date: due.date, from_ms: due.fromMs, to_ms: due.atMs,
      rules: ruleSummaries(state.ledger, site.site.id, due.fromMs, due.atMs, route.filter),
      energy: { day: yesterday, kwh: energy[0] ?? null, day_before: before, kwh_before: energy[1] ?? null },
      offline: offline.slice(0, OFFLINE_LISTED).map((a) => ({ device: a.device, building: site.buildingById.get(a.building)?.name ?? a.building, ...(a.room ? { room: a.room } : {}) })),
      offline_total: offline.length,
      report_url: `${d.publicUrl}/reports/${encodeURIComponent(site.site.id)}/${yesterday.slice(0, 7)}`,
    };
  };

  const send = (route: DigestRoute, site: Campus, key: string, due: DueDigest) => {
    const id = `digest-${key}-${due.date}`;
    const done = () => {
      state = { ...state, sent: { ...state.sent, [key]: due.date } };
      void store.saveNow();
    };
    if (d.queued(id)) return done();
    pruneLedger(state.ledger, d.now());
    building.add(key);
    void build(route, site, due)
      .then((digest) => {
        d.enqueue(route.key, id, digest);
        done();
        d.log.info({ target: route.key, site: site.site.id, date: due.date }, "daily digest queued");
      })
      .catch((error: unknown) => d.log.error({ err: error, target: route.key, site: site.site.id }, "daily digest could not be made; trying again on the next tick"))
      .finally(() => building.delete(key));
  };

  return {
    change(change, alert) {
      if (noteInLedger(state.ledger, change, alert, d.now())) store.schedule();
    },
    tick() {
      const now = d.now();
      for (const route of routes) {
        for (const site of schools(route)) {
          const key = `${route.key}/${site.site.id}`;
          if (building.has(key)) continue;
          const zone = site.site.timezone;
          if (state.sent[key] === undefined) {
            state = { ...state, sent: { ...state.sent, [key]: firstLastSent(route.time, zone, now) } };
            store.schedule();
          }
          const due = dueDigest(route.time, zone, state.sent[key]!, now);
          if (due) send(route, site, key, due);
        }
      }
    },
    async close() {
      store.cancel();
      await store.saveNow();
    },
  };
}
