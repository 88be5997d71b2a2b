// GET /reports/{site}/{YYYY-MM} against the real InfluxDB (CONTRACT §11, §9): the figures of a month of
// points written here, worked out again by this file from the same points (not read back from the API);
// another school's report is a 404 exactly as an unknown school's; a bad month is a 400, a month to come an
// empty report; the token works as a bearer header and as `?token=`, a wrong one is a 401, and the
// `?token=` never reaches the log.
import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../api/app.js";
import { LiveState } from "../../api/live-state.js";
import { parseApiTokens } from "../../domain/env.js";
import { toLines } from "../../domain/line-protocol.js";
import { loadCampus } from "../../infra/campus-file.js";
import { REDACTED_PATHS } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import { freshDatabase } from "../helpers/influx.js";

const campus = loadCampus("tests/fixtures/district/district.yaml");
const NORTH_VIEWER = "north-viewer-token-report-0123";
const ADMIN = "admin-token-report-0123456789";
const NOW = Date.parse("2026-12-05T10:00:00+08:00");
const HOUR = 3_600_000;
const logLines: string[] = [];
let app: FastifyInstance;

/** A local instant in Shanghai (north-middle's zone). */
const local = (date: string, time: string) => Date.parse(`${date}T${time}:00+08:00`);
const dateOf = (year: number, month: number, day: number) => `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

interface Used {
  device: string;
  building: string;
  date: string;
  hour: number;
  kwh: number;
}

/** What the two counted devices of the north school used: the dormitory at 02:30 and 10:30, the classrooms at 10:30 and 20:30. */
function usage(year: number, month: number, scale: number): Used[] {
  const out: Used[] = [];
  for (let day = 1; day <= daysIn(year, month); day++) {
    const date = dateOf(year, month, day);
    out.push({ device: "north-feeder", building: "north-dorm", date, hour: 2, kwh: 3 * scale });
    out.push({ device: "north-feeder", building: "north-dorm", date, hour: 10, kwh: day * scale });
    out.push({ device: "north-class-main", building: "north-class", date, hour: 10, kwh: 2 * scale });
    out.push({ device: "north-class-main", building: "north-class", date, hour: 20, kwh: 0.5 * scale });
  }
  return out;
}
const november = usage(2026, 11, 1);
const october = usage(2026, 10, 0.5);

/**
 * After hours as CONTRACT §11 defines it for a school without a calendar: outside the kind's hours on
 * Monday–Friday (a dormitory has none of its own: school hours 07–18; classrooms 07–22, domain/occupancy.ts),
 * all day on Saturday and Sunday.
 */
function afterHours(u: Used): boolean {
  const weekday = new Date(`${u.date}T00:00:00Z`).getUTCDay();
  if (weekday === 0 || weekday === 6) return true;
  const closes = u.building === "north-class" ? 22 : 18;
  return u.hour < 7 || u.hour >= closes;
}
const sum = (list: readonly Used[]) => list.reduce((s, u) => s + u.kwh, 0);
const startOf = (u: Used) => local(u.date, `${String(u.hour).padStart(2, "0")}:00`);

/** The points as the ingest writes them: the counter, its positive delta, and the power (as if drawn for the hour), at half past the hour. */
function points(used: readonly Used[]) {
  const counters = new Map<string, number>();
  return used.map((u) => {
    const counter = (counters.get(u.device) ?? 1000) + u.kwh;
    counters.set(u.device, counter);
    const tags = { device: u.device, kind: "meter", building: u.building, site: "north-middle" };
    return { measurement: "electrical", tags, fields: { energy_kwh: counter, energy_delta_kwh: u.kwh, power_w: u.kwh * 1000 }, ts: startOf(u) + 30 * 60_000 };
  });
}

/** An `alert` point as alerts/writer.ts writes it; `site` "" for one written before the district (no `site` tag). */
const alertPoint = (id: string, device: string, site: string, rule: string, state: string, ts: number, acknowledgedBy?: string) => ({
  measurement: "alert",
  tags: { device, building: device.startsWith("south") ? "south-class" : "north-dorm", ...(site === "" ? {} : { site }), rule, severity: "major" },
  fields: { alert_id: id, state, message: `${rule} on ${device}`, value: 20, threshold: 16, ...(acknowledgedBy === undefined ? {} : { acknowledged_by: acknowledgedBy }) },
  ts,
});
const commandPoint = (id: string, device: string, site: string, issuedBy: string, selectedAt: number) => ({
  measurement: "command",
  tags: { device, building: device.startsWith("south") ? "south-class" : "north-dorm", site, action: "switch_off", state: "confirmed" },
  fields: { command_id: id, issued_by: issuedBy, reason: "heater", selected_at: new Date(selectedAt).toISOString(), expires_at: new Date(selectedAt + 30_000).toISOString() },
  ts: selectedAt + 5_000,
});

beforeAll(async () => {
  const influx = await freshDatabase("printable");
  const t = local("2026-11-10", "08:00");
  await influx.write(
    toLines([
      ...points(october),
      ...points(november),
      alertPoint("a1", "north-brk-101", "north-middle", "overload", "firing", t),
      alertPoint("a1", "north-brk-101", "north-middle", "overload", "acknowledged", t + 3 * 60_000),
      alertPoint("a2", "north-brk-101", "north-middle", "overload", "firing", t + 2 * HOUR),
      alertPoint("a3", "north-class-main", "north-middle", "offline", "firing", t + 3 * HOUR),
      alertPoint("a3", "north-class-main", "north-middle", "offline", "acknowledged", t + 4 * HOUR),
      // A latched alert whose condition had cleared: the acknowledgement (no note) resolved it at once.
      alertPoint("a4", "north-brk-101", "north-middle", "predicted-trip", "firing", t + 5 * HOUR),
      alertPoint("a4", "north-brk-101", "north-middle", "predicted-trip", "resolved", t + 5 * HOUR + 10 * 60_000, "wang.li"),
      alertPoint("s1", "south-brk-1", "south-primary", "leakage", "firing", t),
      alertPoint("old-north", "north-brk-101", "", "overtemperature", "firing", t),
      alertPoint("old-south", "south-brk-1", "", "phase-loss", "firing", t),
      commandPoint("c-north", "north-brk-101", "north-middle", "wang.li", local("2026-11-12", "21:15")),
      commandPoint("c-south", "south-brk-1", "south-primary", "zhao.min", local("2026-11-12", "21:16")),
    ]),
  );
  const sink = new Writable({ write: (chunk, _encoding, done) => (logLines.push(String(chunk)), done()) });
  app = buildApp({
    campus,
    tokens: parseApiTokens(`viewer@north-middle:${NORTH_VIEWER},admin:${ADMIN}`),
    state: new LiveState(campus),
    influx,
    ack: async () => ({ ok: false, code: "NOT_FOUND", message: "no alerts service here" }),
    probes: { mqtt: () => true, influxdb: () => true },
    metrics: createRegistry(false),
    log: pino({ level: "debug", redact: { paths: REDACTED_PATHS, censor: "[redacted]" } }, sink),
    now: () => NOW,
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
/** The text of the cells of the table row of a building (`data-building`), tags removed. */
const rowCells = (html: string, building: string) =>
  [...(new RegExp(`<tr data-building="${building}">(.*?)</tr>`).exec(html)?.[1] ?? "").matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((m) => m[1]);
const en = (n: number, digits = 1) => n.toLocaleString("en", { minimumFractionDigits: digits, maximumFractionDigits: digits });

describe("GET /reports/{site}/{YYYY-MM}", () => {
  it("renders the month's figures of the school's buildings against the previous month, in English on request", async () => {
    const res = await app.inject({ url: "/reports/north-middle/2026-11?lang=en", headers: bearer(NORTH_VIEWER) });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.headers["referrer-policy"]).toBe("no-referrer");
    const html = res.body;
    expect(html).toContain("<h1>North Middle School");
    expect(html).toContain("Test District");
    expect(html).toContain("November 2026 Monthly electricity report");

    const total = sum(november);
    const previous = sum(october);
    const after = sum(november.filter(afterHours));
    expect(html).toContain(`${en(total)} kWh`);
    expect(html).toContain(`Previous month ${en(previous)} kWh · Change +${en(((total - previous) / previous) * 100)}%`);
    expect(html).toContain(`${en((after / total) * 100)}%`);
    for (const building of ["north-dorm", "north-class"]) {
      const mine = november.filter((u) => u.building === building);
      const before = sum(october.filter((u) => u.building === building));
      const share = sum(mine.filter(afterHours)) / sum(mine);
      expect(rowCells(html, building), building).toEqual([
        campus.buildingById.get(building)!.name,
        en(sum(mine)),
        en(before),
        `+${en(((sum(mine) - before) / before) * 100)}%`,
        `${en(share * 100)}%`,
      ]);
    }
    // One bar a day, each as high as the day's kWh (its tooltip says so); weekends shaded.
    const bars = [...html.matchAll(/<rect class="bar"[^>]*><title>(\d{4}-\d{2}-\d{2}): ([\d.,]+) kWh<\/title>/g)].map((m) => [m[1], m[2]]);
    const perDay = [...new Set(november.map((u) => u.date))].map((date) => [date, en(sum(november.filter((u) => u.date === date)))]);
    expect(bars).toEqual(perDay);
    expect((html.match(/<rect class="day-weekend"/g) ?? []).length).toBe(9); // 1, 7, 8, 14, 15, 21, 22, 28, 29 November 2026
    expect(html).not.toMatch(/<script/i);

    // Maximum demand: each device draws its hour's kWh as kW, so the school's largest 15-minute mean is the
    // largest sum over the devices of one hour, in the window starting at half past it.
    const kwByHour = new Map<number, number>();
    for (const u of november) kwByHour.set(startOf(u), (kwByHour.get(startOf(u)) ?? 0) + u.kwh);
    const [peakHour, peakKw] = [...kwByHour].reduce((best, next) => (next[1] > best[1] ? next : best));
    const when = new Intl.DateTimeFormat("en", { timeZone: "Asia/Shanghai", hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }).format(peakHour + 30 * 60_000);
    expect(html).toContain(`<div class="value">${en(peakKw)} kW</div><div class="sub">${when} · largest 15-minute mean power</div>`);
  });

  it("counts the school's alerts by rule with their times to acknowledge, and lists its remote commands, not another school's", async () => {
    const html = (await app.inject({ url: "/reports/north-middle/2026-11?lang=en", headers: bearer(NORTH_VIEWER) })).body;
    const rule = (id: string) => [...(new RegExp(`<tr data-rule="${id}">(.*?)</tr>`).exec(html)?.[1] ?? "").matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((m) => m[1]);
    expect(rule("overload")).toEqual(["Overload", "2", "1", "3 min 0 s", "3 min 0 s"]);
    expect(rule("offline")).toEqual(["Offline", "1", "1", "1 h 0 min", "1 h 0 min"]);
    expect(rule("predicted-trip").slice(1)).toEqual(["1", "1", "10 min 0 s", "10 min 0 s"]); // acknowledged_by on a resolution
    expect(rule("overtemperature")).toEqual(["Overtemperature", "1", "0", "—", "—"]); // a point without a `site` tag: its device's school
    expect(html).not.toContain('data-rule="leakage"'); // the south school's
    expect(html).not.toContain('data-rule="phase-loss"'); // the south school's, without a `site` tag
    expect(html).toContain("1 remote commands this month.");
    expect(html).toContain("wang.li");
    expect(html).not.toContain("zhao.min");
    expect(html).not.toContain("south");
  });

  it("is Chinese by default and follows Accept-Language", async () => {
    const zh = await app.inject({ url: "/reports/north-middle/2026-11", headers: bearer(NORTH_VIEWER) });
    expect(zh.body).toContain('<html lang="zh-CN">');
    expect(zh.body).toContain("2026年11月 用电月报");
    expect(zh.headers["content-language"]).toBe("zh-CN");
    const english = await app.inject({ url: "/reports/north-middle/2026-11", headers: { ...bearer(NORTH_VIEWER), "accept-language": "en-GB,en;q=0.9,zh;q=0.5" } });
    expect(english.body).toContain('<html lang="en">');
  });

  it("answers a school outside the principal's scope exactly as an unknown one: 404", async () => {
    const other = await app.inject({ url: "/reports/south-primary/2026-11", headers: bearer(NORTH_VIEWER) });
    const unknown = await app.inject({ url: "/reports/no-such-school/2026-11", headers: bearer(NORTH_VIEWER) });
    expect(other.statusCode).toBe(404);
    expect(unknown.statusCode).toBe(404);
    expect(other.body).toBe(unknown.body);
    expect(other.headers["content-type"]).toBe(unknown.headers["content-type"]);
    // The bureau's admin sees the south school.
    const admin = await app.inject({ url: "/reports/south-primary/2026-11", headers: bearer(ADMIN) });
    expect(admin.statusCode).toBe(200);
    expect(admin.body).toContain("South Primary School");
  });

  it("refuses a month that is not YYYY-MM of 2000–2099 with a 400, and renders a month to come without data", async () => {
    for (const month of ["2026-13", "2026-1", "november", "1999-12"]) {
      const res = await app.inject({ url: `/reports/north-middle/${month}`, headers: bearer(NORTH_VIEWER) });
      expect(res.statusCode, month).toBe(400);
      expect(res.json().error.code).toBe("VALIDATION_FAILED");
    }
    const future = await app.inject({ url: "/reports/north-middle/2027-03?lang=en", headers: bearer(NORTH_VIEWER) });
    expect(future.statusCode).toBe(200);
    expect(future.body).toContain("This month has not started: no data yet.");
    expect(future.body).toContain("0.0 kWh");
    expect(future.body).not.toContain('<rect class="bar"');
  });

  it("takes the token as ?token= on this route only, refuses a wrong one with 401, and never logs it", async () => {
    logLines.length = 0;
    const res = await app.inject({ url: `/reports/north-middle/2026-11?token=${NORTH_VIEWER}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers["referrer-policy"]).toBe("no-referrer");
    const wrong = await app.inject({ url: "/reports/north-middle/2026-11?token=not-a-token-0123456789" });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers["cache-control"]).toBe("no-store");
    expect((await app.inject({ url: "/reports/north-middle/2026-11" })).statusCode).toBe(401);
    expect((await app.inject({ url: "/reports/north-middle/2026-11", headers: bearer("not-a-token-0123456789") })).statusCode).toBe(401);
    // Any other route still refuses a query token.
    expect((await app.inject({ url: `/api/sites?token=${NORTH_VIEWER}` })).statusCode).toBe(401);

    const log = logLines.join("");
    expect(log).toContain("/reports/north-middle/2026-11?token=[redacted]"); // the request was logged…
    expect(log).not.toContain(NORTH_VIEWER); // …without its token
    expect(log).not.toContain("not-a-token-0123456789");
  });
});
