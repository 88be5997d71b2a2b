// Lines over the 24 hours of a day (the load curve): one path per series, broken where a value is
// missing, and one focusable column per hour whose label and tooltip give every series' value then.
import { escape } from "../format.js";
import { dateAxis, frame, niceScale, svgOpen, valueAxis } from "./svg.js";

/**
 * `series`: `[{key, colour, dashed?, values: (number|null)[]}]`, a value per column; `columns`:
 * `[{tick, label}]` (`label`: what the column says, aria-label and tooltip).
 */
export function linesSvg({ width, height = 240, title, series, columns, valueText }) {
  const box = frame({ width, height });
  const scale = niceScale(Math.max(0, ...series.flatMap((s) => s.values.filter((v) => typeof v === "number"))));
  const column = box.plotWidth / columns.length;
  const x = (i) => box.left + (i + 0.5) * column;
  const y = (v) => box.top + box.plotHeight - (v / scale.max) * box.plotHeight;
  const paths = series
    .map((s) => {
      let d = "";
      s.values.forEach((v, i) => {
        if (typeof v !== "number") return;
        d += `${i > 0 && typeof s.values[i - 1] === "number" ? "L" : "M"}${x(i).toFixed(1)} ${y(v).toFixed(1)}`;
      });
      const dots = s.values.map((v, i) => (typeof v === "number" ? `<circle cx="${x(i)}" cy="${y(v)}" r="2.5" fill="${s.colour}"/>` : "")).join("");
      return `<g class="line" data-series="${escape(s.key)}"><path d="${d}" fill="none" stroke="${s.colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ""}/>${dots}</g>`;
    })
    .join("");
  const hits = columns
    .map((c, i) => `<rect class="hit hour" data-hour="${i}" tabindex="0" role="img" aria-label="${escape(c.label)}" data-tip="${escape(c.label)}" x="${box.left + i * column}" y="${box.top}" width="${column}" height="${box.plotHeight}"/>`)
    .join("");
  const tickEvery = Math.ceil(columns.length / Math.max(2, Math.floor(box.plotWidth / 44)));
  return `${svgOpen(box, title)}${valueAxis(box, scale, valueText)}${paths}${hits}${dateAxis(box, columns.map((c) => c.tick), tickEvery)}</svg>`;
}
