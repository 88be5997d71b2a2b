// Numbers, instants and durations as the report's language writes them (Intl, with the school's time zone),
// and HTML escaping: every text that reaches the page goes through `escapeHtml` (names come from the campus
// file, commands' fields from whoever issued them).
import type { ReportLang, ReportWords } from "./words.js";

const HTML_ESCAPES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text safe in an element and in a quoted attribute (HTML Living Standard §13.1.2.6 / §13.2.5.36). */
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);

export class ReportFormat {
  private readonly kwh1: Intl.NumberFormat;
  private readonly kwh0: Intl.NumberFormat;
  private readonly percent: Intl.NumberFormat;
  private readonly signed: Intl.NumberFormat;
  private readonly instant: Intl.DateTimeFormat;
  private readonly day: Intl.DateTimeFormat;
  private readonly plain: Intl.NumberFormat;

  constructor(
    readonly lang: ReportLang,
    readonly words: ReportWords,
    timeZone: string,
  ) {
    this.kwh1 = new Intl.NumberFormat(lang, { maximumFractionDigits: 1, minimumFractionDigits: 1 });
    this.kwh0 = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
    this.plain = new Intl.NumberFormat(lang, { maximumFractionDigits: 2 });
    this.percent = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1, minimumFractionDigits: 1 });
    this.signed = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1, minimumFractionDigits: 1, signDisplay: "exceptZero" });
    const clock = { timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" } as const;
    this.instant = new Intl.DateTimeFormat(lang, clock);
    this.day = new Intl.DateTimeFormat(lang, { timeZone, year: "numeric", month: "2-digit", day: "2-digit" });
  }

  /** kWh: one decimal below 1,000, whole above (a school's month is thousands). "—" for no data. */
  kwh(value: number | null): string {
    if (value === null) return "—";
    return Math.abs(value) >= 1000 ? this.kwh0.format(value) : this.kwh1.format(value);
  }

  /** kW to one decimal. */
  kw(value: number): string {
    return this.kwh1.format(value);
  }

  /** A share (0.25) as "25.0%"; "—" when there is none. */
  share(value: number | null): string {
    return value === null ? "—" : this.percent.format(value);
  }

  /** A change in per cent (12.5) as "+12.5%"; "—" when there is nothing to compare with. */
  change(pct: number | null): string {
    return pct === null ? "—" : this.signed.format(pct / 100);
  }

  /** An instant as local date and time of the school. */
  dateTime(ms: number): string {
    return this.instant.format(ms);
  }

  /** An instant's local date. */
  date(ms: number): string {
    return this.day.format(ms);
  }

  /** A duration in ms, to the second below an hour, to the minute above. */
  duration(ms: number | null): string {
    if (ms === null) return "—";
    const seconds = Math.round(ms / 1000);
    return this.words.duration(Math.floor(seconds / 3600), Math.floor((seconds % 3600) / 60), seconds % 60);
  }

  /** A plain count. */
  count(n: number): string {
    return this.kwh0.format(n);
  }

  /** An axis tick: as many decimals as it has, at most two. */
  tick(n: number): string {
    return this.plain.format(n);
  }
}
