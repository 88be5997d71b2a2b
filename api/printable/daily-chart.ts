// The daily kWh chart of the printable report as inline SVG (no script, no package: it prints as drawn):
// one bar per day of the month, the days the school is empty shaded behind the bars (weekends, holidays,
// vacations from its calendar, CONTRACT §11), a kWh axis with round ticks, the day of the month below, and
// a legend. Coordinates are in the viewBox's units; the page scales it to the printed width. Pure.
import type { DayBar } from "./model.js";
import type { DayKind } from "./month.js";
import { escapeHtml, type ReportFormat } from "./format.js";

const WIDTH = 720;
const HEIGHT = 258;
const PLOT = { left: 56, right: 712, top: 14, bottom: 196 } as const;
/** Share of a day's slot the bar fills. */
const BAR_FILL = 0.7;

/** Shading behind a day, by kind; a school day has none. Light enough to print on any printer. */
export const DAY_SHADES: Readonly<Record<DayKind, string | null>> = {
  school: null,
  workday: null,
  weekend: "#e8e8e8",
  holiday: "#fbd9b0",
  vacation: "#d5e8d4",
};
const BAR_COLOUR = "#2f6db5";

/** Round tick values from 0 to at least `max`: steps of 1, 2, 2.5 or 5 × 10ⁿ, about `target` of them. */
export function niceTicks(max: number, target = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const count = Math.ceil(max / step - 1e-9);
  return Array.from({ length: count + 1 }, (_, i) => Math.round(i * step * 1e9) / 1e9);
}

const px = (n: number) => Math.round(n * 10) / 10;

export function dailyChartSvg(days: readonly DayBar[], f: ReportFormat): string {
  const w = f.words;
  const ticks = niceTicks(Math.max(0, ...days.map((d) => d.kwh ?? 0)));
  const top = ticks.at(-1)!;
  const slot = (PLOT.right - PLOT.left) / Math.max(days.length, 1);
  const y = (kwh: number) => PLOT.bottom - (kwh / top) * (PLOT.bottom - PLOT.top);
  const parts: string[] = [];
  days.forEach((day, i) => {
    const x = PLOT.left + i * slot;
    const shade = DAY_SHADES[day.kind];
    if (shade !== null) parts.push(`<rect class="day-${day.kind}" x="${px(x)}" y="${PLOT.top}" width="${px(slot)}" height="${PLOT.bottom - PLOT.top}" fill="${shade}"/>`);
    // A make-up school day (调休) is a weekend day the school works: unshaded, its number in bold.
    const weight = day.kind === "workday" ? ' font-weight="bold"' : "";
    parts.push(`<text x="${px(x + slot / 2)}" y="${PLOT.bottom + 14}" text-anchor="middle" font-size="10"${weight}>${Number(day.date.slice(8))}</text>`);
  });
  for (const tick of ticks) {
    parts.push(`<line x1="${PLOT.left}" x2="${PLOT.right}" y1="${px(y(tick))}" y2="${px(y(tick))}" stroke="#c8c8c8" stroke-width="0.6"/>`);
    parts.push(`<text x="${PLOT.left - 6}" y="${px(y(tick) + 3.5)}" text-anchor="end" font-size="10">${escapeHtml(f.tick(tick))}</text>`);
  }
  days.forEach((day, i) => {
    if (day.kwh === null || day.kwh <= 0) return;
    const x = PLOT.left + i * slot + (slot * (1 - BAR_FILL)) / 2;
    const label = `${day.date}: ${f.kwh(day.kwh)} kWh`;
    parts.push(`<rect class="bar" x="${px(x)}" y="${px(y(day.kwh))}" width="${px(slot * BAR_FILL)}" height="${px(PLOT.bottom - y(day.kwh))}" fill="${BAR_COLOUR}"><title>${escapeHtml(label)}</title></rect>`);
  });
  parts.push(`<line x1="${PLOT.left}" x2="${PLOT.right}" y1="${PLOT.bottom}" y2="${PLOT.bottom}" stroke="#333" stroke-width="1"/>`);
  parts.push(`<text x="${PLOT.left - 44}" y="${(PLOT.top + PLOT.bottom) / 2}" transform="rotate(-90 ${PLOT.left - 44} ${(PLOT.top + PLOT.bottom) / 2})" text-anchor="middle" font-size="11">kWh</text>`);
  parts.push(`<text x="${(PLOT.left + PLOT.right) / 2}" y="${PLOT.bottom + 30}" text-anchor="middle" font-size="11">${escapeHtml(w.day)}</text>`);
  parts.push(legend(days, f));
  const total = days.reduce((sum, d) => sum + (d.kwh ?? 0), 0);
  const summary = `${w.dailyChart}: ${days.length} · ${f.kwh(total)} kWh`;
  return (
    `<svg class="daily-chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeHtml(summary)}" xmlns="http://www.w3.org/2000/svg">` +
    `<title>${escapeHtml(summary)}</title>${parts.join("")}</svg>`
  );
}

/** A swatch per kind of day shown: the bars, then the shaded kinds that occur this month. */
function legend(days: readonly DayBar[], f: ReportFormat): string {
  const kinds = (Object.keys(DAY_SHADES) as DayKind[]).filter((kind) => DAY_SHADES[kind] !== null && days.some((d) => d.kind === kind));
  const entries: { fill: string | null; label: string }[] = [
    { fill: BAR_COLOUR, label: `${f.words.dailyChart} (kWh)` },
    ...kinds.map((kind) => ({ fill: DAY_SHADES[kind]!, label: f.words.dayKinds[kind] })),
    ...(days.some((d) => d.kind === "workday") ? [{ fill: null, label: f.words.dayKinds.workday }] : []),
  ];
  const y = HEIGHT - 12;
  let x = PLOT.left;
  return entries
    .map(({ fill, label }) => {
      const swatch = fill === null ? `<text x="${x + 6}" y="${y}" text-anchor="middle" font-size="11" font-weight="bold">N</text>` : `<rect x="${x}" y="${y - 9}" width="12" height="10" fill="${fill}" stroke="#999" stroke-width="0.5"/>`;
      const item = `${swatch}<text x="${x + 16}" y="${y}" font-size="11">${escapeHtml(label)}</text>`;
      x += 28 + label.length * (f.lang === "zh-CN" ? 11 : 6.5);
      return item;
    })
    .join("");
}
