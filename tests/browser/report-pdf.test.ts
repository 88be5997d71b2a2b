// The printable monthly report (CONTRACT §11, issue 13 item 3) printed to PDF by headless Chromium (Debian's
// package, driven by playwright-core) from the real API on a real InfluxDB: the demo campus's October 2026
// (the National Day holiday and a make-up Saturday in it), in Chinese, opened from a link with `?token=`.
// The text is checked twice: in the page as printed (print media, through the DOM), and in the PDF itself.
// This machine has no PDF text extractor (no poppler, no pdf.js), so the PDF is read by the small reader at
// the end of this file (its pages' shown strings through their fonts' ToUnicode maps): one or two A4 pages
// holding the school's name, the month and its total; the CJK font embedded (a subset of WenQuanYi Micro
// Hei, the family of the style sheet's list that Debian has); the chart as vector drawing (rectangles). The PDF (and a screenshot of the page as printed) is kept
// under test-artifacts/.
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { inflateSync } from "node:zlib";
import type { FastifyInstance } from "fastify";
import { type Browser, chromium, type Page } from "playwright-core";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "../helpers/chromium.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../api/app.js";
import { LiveState } from "../../api/live-state.js";
import { parseApiTokens } from "../../domain/env.js";
import { toLines } from "../../domain/line-protocol.js";
import { meteringDevices } from "../../domain/metering.js";
import { loadCampus } from "../../infra/campus-file.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import { freshDatabase } from "../helpers/influx.js";

const ARTIFACTS = resolve("test-artifacts");
const PDF = resolve(ARTIFACTS, "report-xinwu-exp-2026-10.pdf");
const VIEWER = "viewer-token-report-pdf-0123";
const campus = loadCampus("config/demo-campus.yaml");
const NOW = Date.parse("2026-11-03T09:00:00+08:00");
const HOUR = 3_600_000;
/** A4 in PostScript points (ISO 216: 210 × 297 mm; 1 pt = 1/72 in). */
const A4_PT = [595, 842];

/** kWh a building's counted device uses in an hour: more in school hours, a little all night (fridges, corridors). */
function kwhInHour(building: string, localHour: number, school: boolean, day: number): number {
  const base = { "dorm-3": 4, "teach-a": 2, "lab-s": 3, admin: 1.5 }[building] ?? 1;
  const busy = school && localHour >= 8 && localHour < 18 ? 3 : building === "dorm-3" && localHour >= 18 && localHour < 23 ? 2.5 : 0.6;
  return Math.round(base * busy * (1 + (day % 5) / 10) * 100) / 100;
}

describe("the monthly report printed to PDF in headless Chromium", () => {
  let app: FastifyInstance;
  let browser: Browser;
  let page: Page;
  let url: string;
  let totalKwh = 0;
  /** The school's largest hour of October in kW: every counted device draws its hour's kWh as kW (one point an hour). */
  let peakKw = 0;

  beforeAll(async () => {
    const influx = await freshDatabase("report_pdf");
    const roots = meteringDevices(campus, "building");
    const points = [];
    const counters = new Map<string, number>();
    // September (the comparison) and October 2026, every hour, Asia/Shanghai.
    for (let t = Date.parse("2026-09-01T00:00:00+08:00"); t < Date.parse("2026-11-01T00:00:00+08:00"); t += HOUR) {
      const local = new Date(t + 8 * HOUR);
      const date = local.toISOString().slice(0, 10);
      const weekday = local.getUTCDay();
      const school = date === "2026-10-10" || (weekday >= 1 && weekday <= 5 && !(date >= "2026-10-01" && date <= "2026-10-07") && date !== "2026-09-25");
      let hourKw = 0;
      for (const device of roots) {
        const kwh = kwhInHour(device.building, local.getUTCHours(), school, local.getUTCDate());
        hourKw += kwh;
        const counter = (counters.get(device.id) ?? 5000) + kwh;
        counters.set(device.id, counter);
        if (date >= "2026-10-01") totalKwh += kwh;
        points.push({ measurement: "electrical", tags: { device: device.id, kind: device.kind, building: device.building, site: "xinwu-exp" }, fields: { energy_kwh: counter, energy_delta_kwh: kwh, power_w: kwh * 1000 }, ts: t + HOUR / 2 });
      }
      if (date >= "2026-10-01") peakKw = Math.max(peakKw, hourKw);
    }
    const alert = (id: string, rule: string, state: string, ts: number) => ({
      measurement: "alert", tags: { device: "brk-d3-301", building: "dorm-3", site: "xinwu-exp", rule, severity: "major" }, fields: { alert_id: id, state, message: rule, value: 20, threshold: 16 }, ts,
    });
    const evening = Date.parse("2026-10-14T21:40:00+08:00");
    points.push(alert("o1", "overload", "firing", evening), alert("o1", "overload", "acknowledged", evening + 4 * 60_000), alert("p1", "power-limit", "firing", evening + HOUR));
    const command = (id: string, by: string, selected: number) => ({
      measurement: "command", tags: { device: "brk-d3-301", building: "dorm-3", site: "xinwu-exp", action: "switch_off", state: "confirmed" },
      fields: { command_id: id, issued_by: by, reason: "lights out", selected_at: new Date(selected).toISOString(), expires_at: new Date(selected + 30_000).toISOString() }, ts: selected + 2_000,
    });
    points.push(command("c1", "wang.li", evening + 10 * 60_000));
    for (let day = 8; day <= 30; day++) points.push(command(`s${day}`, "schedule:dorm-3-lights-out", Date.parse(`2026-10-${String(day).padStart(2, "0")}T23:00:00+08:00`)));
    await influx.write(toLines(points));

    app = buildApp({
      campus,
      tokens: parseApiTokens(`viewer:${VIEWER}`),
      state: new LiveState(campus),
      influx,
      ack: async () => ({ ok: false, code: "NOT_FOUND", message: "no alerts service here" }),
      probes: { mqtt: () => true, influxdb: () => true },
      metrics: createRegistry(false),
      log: createLogger("warn"),
      now: () => NOW,
    });
    const address = await app.listen({ port: 0, host: "127.0.0.1" });
    url = `${address}/reports/xinwu-exp/2026-10?token=${VIEWER}`;
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
    // A4's width at 96 px/in (210 mm); the report needs no script, so the page runs none.
    page = await browser.newPage({ locale: "zh-CN", javaScriptEnabled: false, viewport: { width: 794, height: 1123 } });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it("prints the demo campus's October in Chinese as an A4 PDF of one or two pages with the school's name, the month's total and the chart", async () => {
    const response = await page.goto(url);
    expect(response?.status()).toBe(200);
    await page.emulateMedia({ media: "print" });
    // The page as printed: the school, the month, its total (worked out here from the points written), the chart.
    expect(await page.locator("h1").textContent()).toContain("Xinwu Experimental School");
    expect(await page.locator("h1 .kind").textContent()).toBe("2026年10月 用电月报");
    const total = `${Math.round(totalKwh).toLocaleString("zh-CN")} kWh`;
    expect(await page.locator('[data-figure="month-kwh"] .value').textContent()).toBe(total);
    expect(await page.locator('[data-figure="peak"] .value').textContent()).toBe(`${peakKw.toLocaleString("zh-CN", { minimumFractionDigits: 1, maximumFractionDigits: 1 })} kW`);
    expect(await page.locator("svg.daily-chart rect.bar").count()).toBe(31);
    expect(await page.locator("svg.daily-chart rect.day-holiday").count()).toBe(7); // 1–7 October
    expect(await page.locator('svg.daily-chart text[font-weight="bold"]').allTextContents()).toEqual(["10", "N"]); // Saturday 10 October, a make-up school day, and its legend
    expect(await page.locator("svg.daily-chart").boundingBox()).toMatchObject({ width: expect.any(Number) });
    expect(await page.locator('tr[data-rule="overload"] td').allTextContents()).toEqual(["过载", "1", "1", "4 分 0 秒", "4 分 0 秒"]);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.pdf({ path: PDF, preferCSSPageSize: true, printBackground: true });
    await page.screenshot({ path: PDF.replace(/\.pdf$/, ".png"), fullPage: true }); // to look at without a PDF viewer
    console.log(`printed: ${PDF}`);
    expect(statSync(PDF).size).toBeGreaterThan(10_000);

    const bytes = readFileSync(PDF);
    const pdf = bytes.toString("latin1");
    expect(pdf.startsWith("%PDF-")).toBe(true);
    // One or two A4 pages, and in their text the school's name, the month and its total.
    const pages = pdfPageTexts(bytes);
    expect(pages.length).toBeGreaterThanOrEqual(1);
    expect(pages.length).toBeLessThanOrEqual(2);
    const boxes = [...pdf.matchAll(/\/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]/g)].map((m) => [Math.round(Number(m[1])), Math.round(Number(m[2]))]);
    expect(boxes).toEqual(pages.map(() => A4_PT));
    const printed = pages.join("\n");
    expect(printed).toContain("Xinwu Experimental School");
    expect(printed).toContain("2026年10月 用电月报");
    expect(printed).toContain(total);
    expect(printed).toContain("每日用电量");
    // The Chinese text is set in an embedded subset of a CJK font, not left to the reader's machine.
    expect(pdf).toMatch(/\/BaseFont\s*\/[A-Z]{6}\+WenQuanYi/);
    expect(pdf).toMatch(/\/FontFile[23]?\s/);
    // The chart is vector drawing: its bars and shaded days are filled rectangles (`re`, ISO 32000-1 §8.5.2.1).
    const drawn = [...pdfObjects(bytes).values()].map((o) => o.stream?.toString("latin1") ?? "").join("\n");
    expect((drawn.match(/\sre\s/g) ?? []).length).toBeGreaterThanOrEqual(31 + 7);
  });

  it("prints the English report on one or two A4 pages too", async () => {
    expect((await page.goto(`${url}&lang=en`))?.status()).toBe(200);
    const pdf = await page.pdf({ path: PDF.replace(/\.pdf$/, "-en.pdf"), preferCSSPageSize: true, printBackground: true });
    const pages = pdfPageTexts(pdf);
    expect(pages.length).toBeGreaterThanOrEqual(1);
    expect(pages.length).toBeLessThanOrEqual(2);
    expect(pages.join("\n")).toContain("October 2026 Monthly electricity report");
    expect(pages.join("\n")).toContain(`${Math.round(totalKwh).toLocaleString("en")} kWh`);
  });
});

interface PdfObject {
  dict: string;
  /** The stream's bytes, inflated when /FlateDecode; null without a stream. */
  stream: Buffer | null;
}

/** The numbered objects of a PDF written without object streams (Chromium's Skia writes them so). */
function pdfObjects(bytes: Buffer): Map<number, PdfObject> {
  const text = bytes.toString("latin1");
  const objects = new Map<number, PdfObject>();
  for (const m of text.matchAll(/(\d+) 0 obj\s*(<<[^]*?>>)\s*(stream\r?\n|endobj)/g)) {
    const dict = m[2]!;
    let stream: Buffer | null = null;
    if (m[3]!.startsWith("stream")) {
      const start = m.index! + m[0].length;
      const raw = bytes.subarray(start, start + Number(/\/Length (\d+)/.exec(dict)?.[1] ?? 0));
      stream = dict.includes("/FlateDecode") ? inflateSync(raw) : raw;
    }
    objects.set(Number(m[1]), { dict, stream });
  }
  return objects;
}

/** A ToUnicode CMap (ISO 32000-1 §9.10.3): code → text, and how many bytes a code has. */
function toUnicode(cmap: string): { bytes: number; map: Map<number, string> } {
  const utf16 = (hex: string) => Buffer.from(hex, "hex").swap16().toString("utf16le");
  const map = new Map<number, string>();
  const bytes = (/begincodespacerange\s*<([0-9A-Fa-f]+)>/.exec(cmap)?.[1]?.length ?? 4) / 2;
  for (const block of cmap.matchAll(/beginbfchar([^]*?)endbfchar/g)) {
    for (const [, code, text] of block[1]!.matchAll(/<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>/g)) map.set(parseInt(code!, 16), utf16(text!));
  }
  for (const block of cmap.matchAll(/beginbfrange([^]*?)endbfrange/g)) {
    for (const [, lo, hi, first] of block[1]!.matchAll(/<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>/g)) {
      for (let code = parseInt(lo!, 16); code <= parseInt(hi!, 16); code++) map.set(code, String.fromCodePoint(utf16(first!).codePointAt(0)! + code - parseInt(lo!, 16)));
    }
  }
  return { bytes, map };
}

/**
 * The text of each page of a PDF as Chromium writes it: the pages' content streams, each string shown
 * (`Tj`, `TJ`, ISO 32000-1 §9.4.3) decoded through its font's ToUnicode map. Enough to find words and
 * figures; not a general extractor (no object streams, no reading order).
 */
function pdfPageTexts(bytes: Buffer): string[] {
  const objects = pdfObjects(bytes);
  const fontOf = (id: number) => {
    const cmap = /\/ToUnicode (\d+) 0 R/.exec(objects.get(id)?.dict ?? "")?.[1];
    return toUnicode(cmap === undefined ? "" : (objects.get(Number(cmap))?.stream?.toString("latin1") ?? ""));
  };
  const pages = [...objects.values()].filter((o) => /\/Type \/Page\b(?!s)/.test(o.dict));
  return pages.map((page) => {
    const fonts = new Map([.../\/Font <<([^>]*)>>/.exec(page.dict)![1]!.matchAll(/\/(\w+) (\d+) 0 R/g)].map(([, name, id]) => [name!, fontOf(Number(id))]));
    const contents = [.../\/Contents \[?([\d\s0R]+)\]?/.exec(page.dict)![1]!.matchAll(/(\d+) 0 R/g)].map(([, id]) => objects.get(Number(id))!.stream!.toString("latin1"));
    let font = fonts.values().next().value!;
    let out = "";
    for (const [, name, hex] of contents.join("\n").matchAll(/\/(\w+) [\d.]+ Tf|<([0-9A-Fa-f]*)>/g)) {
      if (name !== undefined) font = fonts.get(name) ?? font;
      else for (let i = 0; i + font.bytes * 2 <= hex!.length; i += font.bytes * 2) out += font.map.get(parseInt(hex!.slice(i, i + font.bytes * 2), 16)) ?? "";
    }
    return out;
  });
}
