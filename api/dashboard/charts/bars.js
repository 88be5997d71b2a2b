// Stacked bars, one column per day: each building's kWh a segment in its colour, days off shaded behind.
// A day is one focusable element (a keyboard stop per day, not per segment) whose label and tooltip give
// every building's value and the day's total; each segment carries its building and kWh as data.
import { escape } from "../format.js";
import { dateAxis, dayOffBands, frame, niceScale, svgOpen, valueAxis } from "./svg.js";

/**
 * `days`: `[{date, kind, tick, label, segments: [{building, value, colour}]}]`, oldest first; `label` is
 * what the day says (aria-label and tooltip); `isDayOff(kind)` picks the shaded ones; `max`: the value
 * axis's top (default: the largest day), so that charts side by side share one scale.
 */
export function stackedBarsSvg({ width, height = 240, title, days, isDayOff, valueText, max }) {
  const box = frame({ width, height });
  const scale = niceScale(max ?? Math.max(0, ...days.map((d) => d.segments.reduce((sum, s) => sum + s.value, 0))));
  const column = box.plotWidth / Math.max(days.length, 1);
  const y = (value) => (value / scale.max) * box.plotHeight;
  const bars = days
    .map((day, i) => {
      const x = box.left + i * column;
      let base = box.top + box.plotHeight;
      const segments = day.segments
        .filter((s) => s.value > 0)
        .map((s) => {
          base -= y(s.value);
          return `<rect class="segment" data-building="${escape(s.building)}" data-kwh="${s.value}" x="${x + column * 0.15}" y="${base}" width="${column * 0.7}" height="${y(s.value)}" fill="${s.colour}"/>`;
        })
        .join("");
      return `<g class="day-bar" data-date="${day.date}" tabindex="0" role="img" aria-label="${escape(day.label)}" data-tip="${escape(day.label)}"><rect class="hit" x="${x}" y="${box.top}" width="${column}" height="${box.plotHeight}"/>${segments}</g>`;
    })
    .join("");
  const tickEvery = Math.ceil(days.length / Math.max(2, Math.floor(box.plotWidth / 56)));
  return `${svgOpen(box, title)}${dayOffBands(box, days, days.length, isDayOff)}${valueAxis(box, scale, valueText)}${bars}${dateAxis(box, days.map((d) => d.tick), tickEvery)}</svg>`;
}
