// The report's style sheet, inline in the page (nothing else to fetch): A4 portrait with 14 mm margins
// (CSS Paged Media §6 `@page size`), Chinese type by family list (whichever of the usual CJK families the
// printing machine has: Noto/Source Han on Linux, WenQuanYi on Debian, YaHei on Windows), shading printed
// as drawn (`print-color-adjust: exact`), and no table, figure or section split across a page
// (CSS Fragmentation §3.2 `break-inside: avoid`; a table's header row repeats if one must break).
export const PRINT_CSS = `
@page { size: A4 portrait; margin: 14mm 14mm 16mm 14mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body {
  margin: 0; color: #1a1a1a; font-size: 10pt; line-height: 1.45;
  font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif;
}
@media screen { body { max-width: 182mm; margin: 8mm auto; } }
header { border-bottom: 2px solid #2f6db5; padding-bottom: 3mm; margin-bottom: 4mm; }
h1 { font-size: 18pt; margin: 0 0 1mm; }
h1 .kind { font-size: 13pt; font-weight: normal; color: #444; margin-left: 3mm; }
h2 { font-size: 12pt; margin: 0 0 2mm; border-left: 4px solid #2f6db5; padding-left: 2mm; }
.meta { display: flex; flex-wrap: wrap; gap: 1mm 6mm; margin: 0; color: #333; font-size: 9pt; }
.meta div { display: flex; gap: 1.5mm; }
.meta dt { color: #666; }
.meta dd { margin: 0; }
.note { color: #8a4b00; font-size: 9pt; margin: 1.5mm 0 0; }
section { margin-bottom: 5mm; break-inside: avoid; }
.figures { display: grid; grid-template-columns: repeat(4, 1fr); gap: 3mm; }
.figure { border: 1px solid #c9d6e8; border-radius: 2mm; padding: 2mm 3mm; background: #f4f8fd; }
.figure .label { color: #555; font-size: 8.5pt; }
.figure .value { font-size: 15pt; font-weight: bold; }
.figure .sub { font-size: 8.5pt; color: #444; }
figure { margin: 0; break-inside: avoid; }
svg.daily-chart { width: 100%; height: auto; display: block; }
table { width: 100%; border-collapse: collapse; font-size: 9pt; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
th, td { border-bottom: 1px solid #d8d8d8; padding: 1.2mm 2mm; text-align: left; }
th { background: #eef2f7; font-weight: bold; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tfoot td { font-weight: bold; border-top: 1.5px solid #888; }
.up { color: #b3261e; }
.down { color: #1e7b34; }
.lead { margin: 0 0 2mm; }
.small { font-size: 8.5pt; color: #555; margin: 1.5mm 0 0; }
footer { font-size: 8pt; color: #666; border-top: 1px solid #ccc; padding-top: 2mm; }
`;
