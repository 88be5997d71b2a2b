// Daily digests' pure parts (CONTRACT §14 "Digest"): when one is due (at its site time, not before, once a
// day, across a restart, a missed one later the same day, across DST changes in Europe/Berlin), the day's
// alert ledger and what it says by rule (median and worst time to acknowledge, unacknowledged), the words,
// the JSON a webhook route gets, and that a digest travels alone through a robot's or a mailbox's flood control.
import { Value } from "@sinclair/typebox/value";
import { describe, expect, it } from "vitest";
import { dueDigest, firstLastSent } from "../../../alerts/notify/digest-clock.js";
import type { Digest } from "../../../alerts/notify/digest-content.js";
import { type Ledger, noteInLedger, pruneLedger, ruleSummaries } from "../../../alerts/notify/digest-ledger.js";
import { digestText } from "../../../alerts/notify/digest-text.js";
import { webhookDigest, WebhookDigestSchema } from "../../../alerts/notify/digest-webhook.js";
import { isoInZone as isoWithOffset } from "../../../domain/time-zone.js";
import { markdownMarkup } from "../../../alerts/notify/markup.js";
import { pacedChannel } from "../../../alerts/notify/paced-channel.js";
import { webhookTargets } from "../../../alerts/notify/routes.js";
import type { OutboxEntry } from "../../../alerts/saved-state.js";
import type { Alert } from "../../../domain/alert.js";

const SHANGHAI = "Asia/Shanghai";
const BERLIN = "Europe/Berlin";
const at = (iso: string) => Date.parse(iso);
const MIN = 60_000;

describe("when a digest is due", () => {
  it("fires at its time in the site's zone, not a minute before, and once that day", () => {
    // 08:00 in Shanghai is 00:00 UTC.
    expect(dueDigest("08:00", SHANGHAI, "2026-12-05", at("2026-12-05T23:59:00Z"))).toBeNull();
    expect(dueDigest("08:00", SHANGHAI, "2026-12-05", at("2026-12-06T00:00:00Z"))).toEqual({ date: "2026-12-06", atMs: at("2026-12-06T00:00:00Z"), fromMs: at("2026-12-05T00:00:00Z") });
    expect(dueDigest("08:00", SHANGHAI, "2026-12-06", at("2026-12-06T00:01:00Z"))).toBeNull(); // sent: a restart at 08:01 sends nothing
    expect(dueDigest("08:00", SHANGHAI, "2026-12-06", at("2026-12-06T15:59:00Z"))).toBeNull(); // 23:59, same day
    expect(dueDigest("08:00", SHANGHAI, "2026-12-06", at("2026-12-07T00:00:00Z"))?.date).toBe("2026-12-07");
  });

  it("sends a missed one when the service starts later the same day, and not the day after", () => {
    // Down from 07:00 to 10:00: the 08:00 digest goes at 10:00.
    expect(dueDigest("08:00", SHANGHAI, "2026-12-05", at("2026-12-06T02:00:00Z"))?.date).toBe("2026-12-06");
    // Down all of the 6th: on the 7th before 08:00 nothing (the 6th's is not sent late), at 08:00 the 7th's.
    expect(dueDigest("08:00", SHANGHAI, "2026-12-05", at("2026-12-06T23:30:00Z"))).toBeNull();
  });

  it("starts a route seen for the first time at its next time, not at once", () => {
    expect(firstLastSent("08:00", SHANGHAI, at("2026-12-06T02:00:00Z"))).toBe("2026-12-06"); // 10:00: tomorrow's is the first
    expect(firstLastSent("08:00", SHANGHAI, at("2026-12-05T23:00:00Z"))).toBe("2026-12-05"); // 07:00: today's is the first
  });

  it("fires once across the spring-forward gap and the fall-back fold in Berlin, with a 23 h and a 25 h window", () => {
    // 2027-03-28: clocks go 02:00 → 03:00 (CET → CEST). 02:30 does not exist: it fires at 03:30 CEST = 01:30 UTC.
    expect(dueDigest("02:30", BERLIN, "2027-03-27", at("2027-03-28T01:29:00Z"))).toBeNull();
    const spring = dueDigest("02:30", BERLIN, "2027-03-27", at("2027-03-28T01:30:00Z"))!;
    expect(spring.atMs).toBe(at("2027-03-28T01:30:00Z"));
    expect(spring.atMs - spring.fromMs).toBe(24 * 60 * MIN); // from 02:30 CET on the 27th (01:30 UTC)
    expect(dueDigest("02:30", BERLIN, "2027-03-28", at("2027-03-28T02:30:00Z"))).toBeNull();
    // 2026-10-25: clocks go 03:00 → 02:00 (CEST → CET). 02:30 happens twice: the first (00:30 UTC), once.
    const fall = dueDigest("02:30", BERLIN, "2026-10-24", at("2026-10-25T00:30:00Z"))!;
    expect(fall.atMs).toBe(at("2026-10-25T00:30:00Z"));
    expect(dueDigest("02:30", BERLIN, "2026-10-25", at("2026-10-25T01:30:00Z"))).toBeNull(); // the second 02:30
    // 08:00 on both days: the day of the change is 23 h (spring) and 25 h (autumn) long.
    const afterSpring = dueDigest("08:00", BERLIN, "2027-03-27", at("2027-03-28T06:00:00Z"))!;
    expect(afterSpring.atMs - afterSpring.fromMs).toBe(23 * 60 * MIN);
    const afterFall = dueDigest("08:00", BERLIN, "2026-10-24", at("2026-10-25T07:00:00Z"))!;
    expect(afterFall.atMs - afterFall.fromMs).toBe(25 * 60 * MIN);
  });
});

const alert = (over: Partial<Alert>): Alert => ({ id: "x", rule: "overload", device: "d", building: "b", site: "east", severity: "major", state: "firing", value: 20, threshold: 16, message: "", started_at: "", updated_at: "", ...over });

describe("the day's alert ledger", () => {
  const t0 = at("2026-12-05T00:00:00Z");
  const ledgerOf = (steps: [number, "opened" | "acknowledged" | "escalated" | "resolved" | "updated", Partial<Alert>][]) =>
    steps.reduce<Ledger>((ledger, [minute, change, over]) => (noteInLedger(ledger, change, alert(over), t0 + minute * MIN), ledger), {});

  it("counts by rule the alerts opened in the window, how fast they were acknowledged (median, worst) and how many were not", () => {
    const ledger = ledgerOf([
      [10, "opened", { id: "o1" }], [14, "acknowledged", { id: "o1" }], [15, "acknowledged", { id: "o1" }], // the first acknowledgement counts
      [20, "opened", { id: "o2" }], [30, "acknowledged", { id: "o2" }],
      [40, "opened", { id: "o3" }], [41, "resolved", { id: "o3" }],
      [50, "opened", { id: "o4" }], [52, "acknowledged", { id: "o4" }],
      // A latched alert whose condition is over resolves on its acknowledgement: the change is "resolved".
      [55, "opened", { id: "o5" }], [56, "resolved", { id: "o5", state: "resolved", acknowledged_by: "王师傅" }],
      [60, "opened", { id: "l1", rule: "leakage", severity: "warning" }], [61, "escalated", { id: "l1", rule: "leakage", severity: "critical" }],
      [60 * 25, "opened", { id: "late" }], // after the window
      [70, "opened", { id: "w1", site: "west" }], // another school
    ]);
    const window = [t0, t0 + 24 * 60 * MIN] as const;
    expect(ruleSummaries(ledger, "east", ...window, {})).toEqual([
      { rule: "overload", opened: 5, acknowledged: 4, median_ack_s: 180, worst_ack_s: 600, unacknowledged: 1 },
      { rule: "leakage", opened: 1, acknowledged: 0, median_ack_s: null, worst_ack_s: null, unacknowledged: 1 },
    ]);
    // A route's filter: its rules and minimum severity (the leakage alert escalated to critical).
    expect(ruleSummaries(ledger, "east", ...window, { min_severity: "critical" }).map((r) => r.rule)).toEqual(["leakage"]);
    expect(ruleSummaries(ledger, "east", ...window, { rules: ["overload"] }).map((r) => r.rule)).toEqual(["overload"]);
  });

  it("keeps three days and ignores changes of alerts it never saw open", () => {
    const ledger = ledgerOf([[0, "opened", { id: "old" }], [60 * 24 * 3 + 1, "opened", { id: "new" }]]);
    pruneLedger(ledger, t0 + (60 * 24 * 3 + 1) * MIN);
    expect(Object.keys(ledger)).toEqual(["new"]);
    expect(noteInLedger(ledger, "acknowledged", alert({ id: "never-opened" }), t0)).toBe(false);
    expect(noteInLedger(ledger, "updated", alert({ id: "new" }), t0)).toBe(false); // nothing it counts changed
    expect(Object.keys(ledger)).toEqual(["new"]);
  });
});

const digest: Digest = {
  site: "east", school: "东区实验学校", timezone: SHANGHAI, date: "2026-12-06", from_ms: at("2026-12-05T00:00:00Z"), to_ms: at("2026-12-06T00:00:00Z"),
  rules: [{ rule: "overload", opened: 4, acknowledged: 3, median_ack_s: 240, worst_ack_s: 600, unacknowledged: 1 }],
  energy: { day: "2026-12-05", kwh: 1234.56, day_before: "2026-12-04", kwh_before: 1300 },
  offline: [{ device: "brk-1", building: "实验楼1号", room: "101" }], offline_total: 12,
  report_url: "https://campus.example/reports/east/2026-12",
};

describe("a digest's words", () => {
  it("say the day's alerts by rule, yesterday's energy against the day before, who is offline, and link the month's report", () => {
    const { title, blocks } = digestText(digest, "zh-CN", markdownMarkup((_s, word) => word));
    expect(title).toBe("【日报】东区实验学校 2026-12-06");
    expect(blocks).toEqual([
      ["**告警（2026-12-05 08:00 至 2026-12-06 08:00）**", "- 过载：4 条，已确认 3 条（确认用时中位 4 分钟，最长 10 分钟），未确认 1 条"],
      ["**用电**", "- 2026-12-05：1,234.6 kWh，较前一日 −5 %", "- 2026-12-04：1,300 kWh"],
      ["**当前离线设备：12 台**", "- brk-1（实验楼1号 101室）", "等，共 12 台"],
      ["[本月用电报表](https://campus.example/reports/east/2026-12)"],
    ]);
    const en = digestText({ ...digest, rules: [], energy: { ...digest.energy, kwh: null }, offline: [], offline_total: 0 }, "en", markdownMarkup((_s, word) => word));
    expect(en.blocks.flat()).toEqual(expect.arrayContaining(["No alerts", "- 2026-12-05: no data", "**Devices offline now: none**"]));
  });
});

describe("a digest on a webhook route", () => {
  it("is JSON for a machine: event \"digest\", snake_case, numbers as numbers, times with the school's offset", () => {
    const body = webhookDigest(digest);
    expect(body).toEqual({
      event: "digest", site: "east", site_name: "东区实验学校", timezone: SHANGHAI, date: "2026-12-06",
      from: "2026-12-05T08:00:00+08:00", to: "2026-12-06T08:00:00+08:00",
      alerts_by_rule: [{ rule: "overload", opened: 4, acknowledged: 3, median_ack_s: 240, worst_ack_s: 600, unacknowledged: 1 }],
      energy: { day: "2026-12-05", kwh: 1234.56, previous_day: "2026-12-04", previous_kwh: 1300, change_pct: -5 },
      offline: { count: 12, devices: [{ device: "brk-1", building_name: "实验楼1号", room: "101" }] },
      report_url: "https://campus.example/reports/east/2026-12",
    });
    expect(Value.Check(WebhookDigestSchema, JSON.parse(JSON.stringify(body)))).toBe(true);
    // Unknown figures are null, never 0; a float sum is given to the watt-hour; a device without a room has none.
    const sparse = webhookDigest({ ...digest, energy: { ...digest.energy, kwh: 12.500000000000002, kwh_before: null }, offline: [{ device: "m-1", building: "B" }], offline_total: 1 });
    expect(sparse.energy).toEqual({ day: "2026-12-05", kwh: 12.5, previous_day: "2026-12-04", previous_kwh: null, change_pct: null });
    expect(sparse.offline.devices).toEqual([{ device: "m-1", building_name: "B" }]);
  });

  it("writes its times with the offset the school's clock had then, either side of a DST change and west of Greenwich", () => {
    expect(isoWithOffset(at("2026-10-24T06:00:00Z"), BERLIN)).toBe("2026-10-24T08:00:00+02:00");
    expect(isoWithOffset(at("2026-10-25T07:00:00Z"), BERLIN)).toBe("2026-10-25T08:00:00+01:00");
    expect(isoWithOffset(at("2026-12-06T13:00:00.750Z"), "America/New_York")).toBe("2026-12-06T08:00:00-05:00");
    expect(isoWithOffset(at("2026-12-06T02:30:00Z"), "Asia/Kolkata")).toBe("2026-12-06T08:00:00+05:30");
  });

  it("is what a webhook route with `digest` gets, a school's webhook or a filtered one; ALERT_WEBHOOK_URL has no place for one", () => {
    const targets = webhookTargets(null, [
      { site: "east", url: "https://east.example/hook", secret_env: "EAST_SECRET", digest: "08:00" },
      { url: "https://bureau.example/daily", secret_env: "BUREAU_SECRET", rules: ["overload"], digest: "07:30" },
      { site: "east", url: "https://east.example/pager", secret_env: "EAST_SECRET" },
    ], { EAST_SECRET: "e", BUREAU_SECRET: "b" });
    expect(targets.digests).toEqual([
      { key: "site:east", time: "08:00", filter: { site: "east" } },
      { key: "webhook@1", time: "07:30", filter: { rules: ["overload"] } },
    ]);
    expect(Object.keys(targets.byKey)).toEqual(["site:east", "webhook@1", "site:east#2"]);
  });
});

describe("a digest in the outbox", () => {
  const entry = (id: string, body: unknown): OutboxEntry => ({ id, target: "t", body: JSON.stringify(body), created_at: 0, attempts: 0, next_at: 0, expires_at: 1e15 });
  const channel = pacedChannel({ compose: (c) => c, fits: () => true, send: async () => {} }, { messages: 20, windowMs: 60_000 }, { now: () => 0 });
  const change = (id: string) => entry(id, [{ event: "opened", alert: alert({ id }) }]);

  it("goes alone; the alert changes ahead of it may go together", () => {
    // 21 waiting with room for 20: two changes a message, up to the digest.
    const queue = [change("a"), change("b"), change("c"), entry("d", { digest }), ...Array.from({ length: 17 }, (_, i) => change(`e${i}`))];
    expect(channel.plan(queue, 0)).toEqual({ take: 2 });
    expect(channel.plan(queue.slice(2), 0)).toEqual({ take: 1 });
    expect(channel.plan(queue.slice(3), 0)).toEqual({ take: 1 });
    // A digest right behind a change is not taken with it, though two a message are due.
    expect(channel.plan([change("x"), ...queue.slice(3), change("y"), change("z")], 0)).toEqual({ take: 1 });
  });
});
