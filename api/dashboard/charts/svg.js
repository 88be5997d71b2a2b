// What the energy charts share. They are plain SVG written as text, not uPlot's canvas: every bar, day
// and cell is an element that can carry its value (an aria-label to read, a tooltip on hover and focus,
// data-* attributes a test can check), and days off can be shaded behind the bars. Each chart is drawn
// at its box's width in CSS pixels, so its text keeps its size from a wall screen to a phone (the energy
// page draws it again when that width changes).
import { escape } from "../format.js";

/** Okabe & Ito's eight colours, told apart by colour-blind readers too (Color Universal Design, 2002), less the yellow that vanishes on white. */
export const PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#000000"];
/** A building's colour: by its place in the list, the same in every chart of the page. */
export const colourOf = (index) => PALETTE[index % PALETTE.length];

/** An axis maximum above `max` that reads well (1, 2 or 5 × 10ⁿ) and its ticks from 0. */
export function niceScale(max, ticks = 4) {
  if (!(max > 0)) return { max: 1, ticks: [0, 0.25, 0.5, 0.75, 1] };
  const rough = max / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rough);
  const top = Math.ceil(max / step) * step;
  return { max: top, ticks: Array.from({ length: Math.round(top / step) + 1 }, (_, i) => i * step) };
}

/** The plot area inside a chart's viewBox, room left for the value axis and the date axis. */
export const frame = ({ width = 720, height = 240, left = 48, right = 8, top = 8, bottom = 26 } = {}) => ({
  width, height, left, top, plotWidth: width - left - right, plotHeight: height - top - bottom,
});

/** An `<svg>` drawn at its box's width in CSS pixels (text stays legible on a phone); `label` names the whole chart for a screen reader. */
export const svgOpen = (box, label) => `<svg class="chart-svg" viewBox="0 0 ${box.width} ${box.height}" role="group" aria-label="${escape(label)}">`;

/** Horizontal grid lines and value labels; `text(v)` writes a tick. */
export function valueAxis(box, scale, text) {
  return scale.ticks
    .map((v) => {
      const y = box.top + box.plotHeight - (v / scale.max) * box.plotHeight;
      return `<line class="grid" x1="${box.left}" x2="${box.left + box.plotWidth}" y1="${y}" y2="${y}"/><text class="tick" x="${box.left - 6}" y="${y + 4}" text-anchor="end">${escape(text(v))}</text>`;
    })
    .join("");
}

/**
 * Days off shaded behind a chart, one band per date whose kind is not a school day: `bands[i]` is
 * `{date, kind}` for the i-th of `count` equal columns. Each band says what it is (`data-kind`).
 */
export function dayOffBands(box, bands, count, isDayOff) {
  const width = box.plotWidth / count;
  return bands
    .map(({ date, kind }, i) => (isDayOff(kind) ? `<rect class="day-off day-${kind}" data-date="${date}" data-kind="${kind}" x="${box.left + i * width}" y="${box.top}" width="${width}" height="${box.plotHeight}"/>` : ""))
    .join("");
}

/** Date labels under columns, every `step`-th one so they never overlap. */
export function dateAxis(box, labels, step) {
  const width = box.plotWidth / labels.length;
  return labels
    .map((text, i) => (i % step === 0 ? `<text class="tick" x="${box.left + (i + 0.5) * width}" y="${box.height - 8}" text-anchor="middle">${escape(text)}</text>` : ""))
    .join("");
}

/** A legend: a swatch and a name per entry (`{colour, name}` or `{className, name}` for a shading). */
export const legendHtml = (entries) =>
  `<ul class="legend">${entries.map((e) => `<li><span class="swatch ${e.className ?? ""}" ${e.colour ? `style="background:${e.colour}"` : ""}></span>${escape(e.name)}</li>`).join("")}</ul>`;
