// A heat map: a row per building, a column per hour, each cell's colour its kWh on one sequential scale
// from 0 to the largest cell (light to dark blue: ordered by lightness, so it reads in greyscale and to
// colour-blind readers), a legend of that scale, and day boundaries marked. Cells carry their value as
// data and a tooltip on hover; the text alternative is the table beside it (the cells are too many to be
// keyboard stops: 168 per building).
import { escape } from "../format.js";
import { frame, svgOpen } from "./svg.js";

// ColorBrewer "Blues" ends (Brewer & Harrower, colorbrewer2.org): sequential, print- and colour-blind-safe.
const LOW = [0xef, 0xf3, 0xff];
const HIGH = [0x08, 0x45, 0x94];

/** The colour of a share 0–1 of the scale, as CSS. */
export function heatColour(share) {
  const t = Math.min(1, Math.max(0, share));
  return `rgb(${LOW.map((low, i) => Math.round(low + (HIGH[i] - low) * t)).join(" ")})`;
}

/**
 * `rows`: `[{key, name, cells: [{value: number|null, tip}]}]`, all with `columns` cells; `days`: where each
 * day starts (`{column, tick}`), marked by a line and its label.
 */
export function heatMapSvg({ width, title, rows, columns, days, max }) {
  const rowHeight = 22;
  const labelWidth = Math.min(140, Math.max(72, width * 0.22));
  const box = frame({ width, height: rows.length * rowHeight + 30, left: labelWidth, bottom: 22, top: 4 });
  const cell = box.plotWidth / columns;
  const body = rows
    .map((row, r) => {
      const top = box.top + r * rowHeight;
      const cells = row.cells
        .map((c, i) => (typeof c.value === "number" ? `<rect class="cell" data-building="${escape(row.key)}" data-column="${i}" data-kwh="${c.value}" data-tip="${escape(c.tip)}" x="${box.left + i * cell}" y="${top}" width="${cell + 0.3}" height="${rowHeight - 2}" fill="${heatColour(max > 0 ? c.value / max : 0)}"/>` : ""))
        .join("");
      return `<text class="row-name" x="${box.left - 6}" y="${top + rowHeight / 2 + 3}" text-anchor="end">${escape(row.name)}</text><rect class="no-data" x="${box.left}" y="${top}" width="${box.plotWidth}" height="${rowHeight - 2}"/>${cells}`;
    })
    .join("");
  const bottom = box.top + rows.length * rowHeight;
  const marks = days
    .map((d) => `<line class="day-line" x1="${box.left + d.column * cell}" x2="${box.left + d.column * cell}" y1="${box.top}" y2="${bottom + 4}"/><text class="tick" x="${box.left + d.column * cell + 2}" y="${bottom + 16}">${escape(d.tick)}</text>`)
    .join("");
  return `${svgOpen(box, title)}${body}${marks}</svg>`;
}

/** The scale's legend: a gradient from 0 to `max`, with both ends written. */
export const heatLegendHtml = (low, high, unit) =>
  `<div class="heat-legend"><span>${escape(low)}</span><span class="heat-ramp" style="background:linear-gradient(90deg, ${heatColour(0)}, ${heatColour(0.5)}, ${heatColour(1)})"></span><span>${escape(high)} ${escape(unit)}</span></div>`;
