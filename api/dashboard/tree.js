// The campus tree: building → room → device, each device with live power, current as a share of its
// rating (a bar), online state, a switching mark and open alerts; each room with its breaker's switch
// button for operators. A school may have 2,000 devices: each building is one summary line (kW, devices
// online, alerts) until opened, and only opened buildings have rows, so the page holds the rows a person
// looks at. What a person opened stays open in this browser (a wall screen keeps its layout). Alarming
// devices come first: buildings with alerts, then rooms with alerts, then alarming circuits among their
// siblings. Built once per snapshot or alarm change; afterwards only changed rows and summaries are redrawn.
import { escape, fmt } from "./format.js";
import { name, t } from "./i18n.js";
import { inView } from "./sites.js";
import { roomControlsHtml, rowMarkHtml } from "./switch-controls.js";

const OPENED_KEY = "campus-power-opened-buildings";
/** Ids of the buildings a person opened (building ids are unique across the district, CONTRACT §9). */
const opened = new Set(JSON.parse(localStorage.getItem(OPENED_KEY) ?? "[]"));
/** The buildings on screen by id: their rooms (room → devices), their devices and their <details>. */
let buildings = new Map();
/** The rows on screen by device id: only opened buildings' devices have one. */
const rows = new Map();

const alarming = (device) => device.open_alerts > 0;
/** Alarming first, then `then` (a comparator): the order of buildings, rooms and sibling circuits. */
const alarmingFirst = (isAlarming, then) => (a, b) => Number(isAlarming(b)) - Number(isAlarming(a)) || then(a, b);

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

/** Devices of a room in electrical order: parents before children, indented by depth; alarming siblings first. */
function ordered(devices) {
  const ids = new Set(devices.map((d) => d.id));
  const children = new Map();
  for (const d of devices) {
    const parent = d.parent && ids.has(d.parent) ? d.parent : null;
    children.set(parent, [...(children.get(parent) || []), d]);
  }
  const out = [];
  const walk = (parent, depth) => {
    for (const d of (children.get(parent) || []).sort(alarmingFirst(alarming, (a, b) => a.id.localeCompare(b.id)))) {
      out.push([d, depth]);
      walk(d.id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

/** The rooms of an opened building: alarming rooms first, then the building level, then rooms in number order. */
function roomsHtml(rooms) {
  const byNumber = ([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b, undefined, { numeric: true }));
  return [...rooms.entries()]
    .sort(alarmingFirst(([, list]) => list.some(alarming), byNumber))
    .map(([room, list]) => `<li class="room" data-room="${escape(room)}"><div class="room-name"><span>${room === "" ? escape(t("no_room")) : `${escape(t("room"))} ${escape(room)}`}</span>${roomControlsHtml(list, room !== "")}</div>
      <ul class="devices">${ordered(list).map(([d, depth]) => `<li class="device ${d.online ? "" : "offline"}" data-device="${escape(d.id)}" style="--depth:${depth}">${rowHtml(d)}</li>`).join("")}</ul></li>`)
    .join("");
}

/** A building's summary counts: devices online of all, and open alerts, in words (not a colour alone). */
function countsHtml(devices) {
  const online = devices.filter((d) => d.online).length;
  const alerts = devices.reduce((n, d) => n + (d.open_alerts || 0), 0);
  return `<span class="muted">${escape(t("devices_online", { online, total: devices.length }))}</span>${alerts ? ` <span class="alarm-words">${escape(t("open_alerts_n", { n: alerts }))}</span>` : ""}`;
}

export function renderTree(container, store) {
  buildings = new Map();
  for (const d of store.devices.values()) {
    if (!inView(d)) continue;
    if (!buildings.has(d.building)) buildings.set(d.building, { rooms: new Map(), devices: [], details: null });
    const building = buildings.get(d.building);
    const room = d.room ?? "";
    building.rooms.set(room, [...(building.rooms.get(room) || []), d]);
    building.devices.push(d);
  }
  const info = new Map(store.buildings.map((b) => [b.id, b]));
  container.innerHTML = [...buildings.entries()]
    .sort(alarmingFirst(([, b]) => b.devices.some(alarming), ([a], [b]) => a.localeCompare(b)))
    .map(([id, { rooms, devices }]) => {
      const b = info.get(id);
      const open = opened.has(id);
      return `<details class="building ${devices.some(alarming) ? "alarm" : ""}"${open ? " open" : ""} data-building="${escape(id)}"><summary>
          <span class="building-name">${escape(b?.name ?? id)}</span> <span class="muted">${escape(name(b?.kind ?? ""))}</span>
          <strong class="building-total" data-building-total="${escape(id)}">–</strong>
          <span class="building-counts">${countsHtml(devices)}</span></summary><ul class="rooms">${open ? roomsHtml(rooms) : ""}</ul></details>`;
    })
    .join("");
  rows.clear();
  for (const details of container.querySelectorAll("details.building")) {
    buildings.get(details.dataset.building).details = details;
    keepRows(details);
  }
}

function keepRows(details) {
  for (const row of details.querySelectorAll("li.device")) rows.set(row.dataset.device, row);
}

/** Opening a building draws its rows; closing it drops them. Listens on the tree's container, once. */
export function setUpTree(container) {
  // `toggle` does not bubble: listen in the capture phase. It also fires for a building drawn open.
  container.addEventListener("toggle", (event) => showOrHideRows(event.target), true);
}

function showOrHideRows(details) {
  const building = buildings.get(details.dataset?.building);
  if (!building || building.details !== details) return; // a building of a tree since rebuilt
  const list = details.querySelector("ul.rooms");
  const id = details.dataset.building;
  if (details.open) opened.add(id);
  else opened.delete(id);
  localStorage.setItem(OPENED_KEY, JSON.stringify([...opened]));
  if (details.open && list.childElementCount === 0) {
    list.innerHTML = roomsHtml(building.rooms);
    keepRows(details);
  } else if (!details.open) {
    for (const d of building.devices) rows.delete(d.id);
    list.innerHTML = "";
  }
}

/** Redraws the rows of these devices where they are on screen, and the summaries of their buildings. */
export function updateDevices(store, ids) {
  const touched = new Set();
  for (const id of ids) {
    const device = store.devices.get(id);
    if (!device) continue;
    touched.add(device.building);
    const row = rows.get(id);
    if (!row) continue;
    row.classList.toggle("offline", !device.online);
    row.innerHTML = rowHtml(device);
  }
  for (const id of touched) {
    const building = buildings.get(id);
    const counts = building?.details?.querySelector(".building-counts");
    if (counts) counts.innerHTML = countsHtml(building.devices);
  }
}

/** Opens the device's building, brings its row into view and marks it (the search box's answer). */
export function revealDevice(id) {
  for (const row of document.querySelectorAll("li.device.found")) row.classList.remove("found");
  const building = [...buildings.values()].find((b) => b.devices.some((d) => d.id === id));
  if (!building) return;
  if (!building.details.open) {
    building.details.open = true;
    showOrHideRows(building.details); // now, not at the toggle event: the row is needed below
  }
  const row = rows.get(id);
  row.classList.add("found");
  row.scrollIntoView({ block: "center" });
  row.querySelector("a.name").focus({ preventScroll: true });
}
