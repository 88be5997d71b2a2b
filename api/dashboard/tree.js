// The campus tree: building → room → device, each device with live power, current as a share of its
// rating (a bar), online state, a switching mark and open alerts; each room with its breaker's switch
// button for operators. Built once per snapshot; afterwards only the rows of devices that changed are
// repainted.
import { escape, fmt } from "./format.js";
import { name, t } from "./i18n.js";
import { roomControlsHtml, rowMarkHtml } from "./switch-controls.js";

/** Total current of a device: `current_a`, else its worst phase. */
function currentA(latest) {
  if (typeof latest.current_a === "number") return latest.current_a;
  const phases = Object.values(latest.phases || {}).map((p) => p.current_a).filter((v) => typeof v === "number");
  return phases.length ? Math.max(...phases) : null;
}

function powerW(latest) {
  if (typeof latest.power_w === "number") return latest.power_w;
  const phases = Object.values(latest.phases || {}).map((p) => p.power_w).filter((v) => typeof v === "number");
  return phases.length ? phases.reduce((a, b) => a + b, 0) : null;
}

function loadCell(device) {
  const amps = currentA(device.latest);
  if (!device.rating_a || amps === null) return `<span class="load muted">${amps === null ? "–" : `${fmt(amps, 1)} A`}</span>`;
  const pct = Math.round((amps / device.rating_a) * 100);
  const level = pct >= 100 ? "over" : pct >= 80 ? "high" : "ok";
  return `<span class="load" title="${escape(t("load"))}"><span class="bar ${level}" role="meter" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${Math.min(pct, 100)}" aria-label="${escape(t("load"))}"><span style="width:${Math.min(pct, 100)}%"></span></span>
    <span class="pct">${fmt(amps, 1)} / ${device.rating_a} A · ${pct}%</span></span>`;
}

function rowHtml(device) {
  const alerts = device.open_alerts ? `<span class="badge" title="${escape(t("alerts_n", { n: device.open_alerts }))}">${device.open_alerts}</span>` : "";
  const power = powerW(device.latest);
  return `<a class="name" href="#/device/${encodeURIComponent(device.id)}">${escape(device.id)}</a>
    <span class="kind muted">${escape(name(device.kind))}</span>
    <span class="power num">${power === null ? "–" : `${fmt(power, 0)} W`}</span>
    ${loadCell(device)}
    <span class="state ${device.online ? "on" : "off"}">${escape(t(device.online ? "online" : "offline"))}</span>${rowMarkHtml(device)}${alerts}`;
}

/** Devices of a room in electrical order: parents before children, indented by depth. */
function ordered(devices) {
  const ids = new Set(devices.map((d) => d.id));
  const children = new Map();
  for (const d of devices) {
    const parent = d.parent && ids.has(d.parent) ? d.parent : null;
    children.set(parent, [...(children.get(parent) || []), d]);
  }
  const out = [];
  const walk = (parent, depth) => {
    for (const d of (children.get(parent) || []).sort((a, b) => a.id.localeCompare(b.id))) {
      out.push([d, depth]);
      walk(d.id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

export function renderTree(container, store) {
  const buildings = new Map();
  for (const d of store.devices.values()) {
    if (!buildings.has(d.building)) buildings.set(d.building, new Map());
    const rooms = buildings.get(d.building);
    const room = d.room ?? "";
    rooms.set(room, [...(rooms.get(room) || []), d]);
  }
  const info = new Map(store.buildings.map((b) => [b.id, b]));
  container.innerHTML = [...buildings.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, rooms]) => {
      const b = info.get(id);
      const devices = [...rooms.values()].flat();
      const online = devices.filter((d) => d.online).length;
      const alerts = devices.reduce((n, d) => n + (d.open_alerts || 0), 0);
      const roomList = [...rooms.entries()]
        .sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b, undefined, { numeric: true })))
        .map(([room, list]) => `<li class="room"><div class="room-name"><span>${room === "" ? escape(t("no_room")) : `${escape(t("room"))} ${escape(room)}`}</span>${roomControlsHtml(list, room !== "")}</div>
          <ul class="devices">${ordered(list).map(([d, depth]) => `<li class="device ${d.online ? "" : "offline"}" data-device="${escape(d.id)}" style="--depth:${depth}">${rowHtml(d)}</li>`).join("")}</ul></li>`)
        .join("");
      return `<details class="building ${alerts ? "alarm" : ""}" open data-building="${escape(id)}"><summary>
          <span class="building-name">${escape(b?.name ?? id)}</span> <span class="muted">${escape(name(b?.kind ?? ""))}</span>
          <strong class="building-total" data-building-total="${escape(id)}">–</strong>
          <span class="muted">${escape(t("devices_online", { online, total: devices.length }))}</span>
          ${alerts ? `<span class="badge">${alerts}</span>` : ""}</summary><ul class="rooms">${roomList}</ul></details>`;
    })
    .join("");
}

export function updateDevices(store, ids) {
  for (const id of ids) {
    const row = document.querySelector(`li.device[data-device="${CSS.escape(id)}"]`);
    const device = store.devices.get(id);
    if (!row || !device) continue;
    row.classList.toggle("offline", !device.online);
    row.innerHTML = rowHtml(device);
  }
}
