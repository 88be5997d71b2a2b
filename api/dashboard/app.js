// campus-power dashboard: plain ES modules, no build step. Token in localStorage; live data from
// /api/live (snapshot, then batched deltas; resumes after the last seq on reconnect); building
// totals from /api/buildings. Views: campus tree + alerts (#/), device history (#/device/ID), energy (#/energy).
import { apply, LANGUAGES, lang, setLang, t } from "./i18n.js";
import { renderAlerts, setUpAck } from "./alerts.js";
import { showDevice, updateDeviceHeader } from "./device.js";
import { showEnergy } from "./energy.js";
import { renderTree, updateDevices } from "./tree.js";

const TOKEN_KEY = "campus-power-token";
const $ = (id) => document.getElementById(id);

export const store = {
  devices: new Map(), alerts: new Map(), buildings: [], role: null,
  socket: null, session: null, lastSeq: 0, retryMs: 1000,
  dirty: new Set(), treeStale: true, alertsStale: true,
};

// A link like /#token=... (printed by `up --demo`) signs in at once; the fragment never reaches the
// server, and it is removed from the address bar right away.
const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromLink) {
  localStorage.setItem(TOKEN_KEY, fromLink);
  history.replaceState(null, "", location.pathname + location.search);
}
const token = () => localStorage.getItem(TOKEN_KEY);

export const api = (path, init = {}) =>
  fetch(path, { ...init, headers: { ...(init.headers || {}), authorization: `Bearer ${token()}`, ...(init.body ? { "content-type": "application/json" } : {}) } });

export const canAck = () => store.role === "operator" || store.role === "admin";

function askToken(message) {
  $("login-error").textContent = message || "";
  if (!$("login").open) $("login").showModal();
}

$("login-form").addEventListener("submit", () => {
  localStorage.setItem(TOKEN_KEY, $("token").value.trim());
  start();
});
$("logout").addEventListener("click", () => {
  localStorage.removeItem(TOKEN_KEY);
  store.session = null;
  store.socket?.close();
  askToken();
});

for (const [code, label] of Object.entries(LANGUAGES)) $("lang").append(new Option(label, code, false, code === lang()));
$("lang").addEventListener("change", (event) => {
  setLang(event.target.value);
  renderAll();
  route();
});

async function start() {
  if (!token()) return askToken();
  const me = await api("/api/me").catch(() => null);
  if (!me || me.status === 401) return askToken(t("token_refused"));
  store.role = (await me.json()).role;
  $("role").dataset.role = store.role;
  renderRole();
  connect();
  pollBuildings();
  route();
}

function renderRole() {
  if (store.role) $("role").textContent = t("signed_in_as", { role: t(`role_${store.role}`) });
}

function connect() {
  store.socket?.close();
  const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/live`);
  store.socket = socket;
  // The token goes in the first frame rather than the URL, so it never lands in access logs; a known
  // session asks to resume after the last seq seen (else the server sends a fresh snapshot).
  socket.onopen = () => {
    const resume = store.session ? { session: store.session, last_seq: store.lastSeq } : {};
    socket.send(JSON.stringify({ type: "auth", token: token(), ...resume }));
  };
  socket.onmessage = (event) => {
    const frame = JSON.parse(event.data);
    if (frame.type === "batch") frame.messages.forEach(receive);
    else receive(frame);
    schedule();
  };
  socket.onclose = (event) => {
    setConnection(false);
    if (store.socket !== socket) return;
    if (event.code === 4401) return askToken(t("token_refused"));
    setTimeout(connect, store.retryMs);
    store.retryMs = Math.min(store.retryMs * 2, 30000);
  };
}

function receive(message) {
  if (typeof message.seq === "number") store.lastSeq = message.seq;
  switch (message.type) {
    case "snapshot":
      store.session = message.session;
      store.devices = new Map(message.devices.map((d) => [d.id, d]));
      store.alerts = new Map(message.alerts.map((a) => [a.id, a]));
      store.treeStale = store.alertsStale = true;
      // Batches: the whole campus in one frame per tick rather than a frame per reading.
      if (message.seq === 1) store.socket.send(JSON.stringify({ type: "subscribe", batch: true }));
      store.retryMs = 1000;
      setConnection(true);
      break;
    case "reading": {
      const device = store.devices.get(message.device);
      if (!device) break;
      device.latest = { ...device.latest, ...message.values };
      device.last_seen = message.ts;
      store.dirty.add(device.id);
      break;
    }
    case "status": {
      const device = store.devices.get(message.device);
      if (device) (device.online = message.online), store.dirty.add(device.id);
      break;
    }
    case "alert":
      if (message.alert.state === "resolved") store.alerts.delete(message.alert.id);
      else store.alerts.set(message.alert.id, message.alert);
      countAlerts();
      store.alertsStale = true;
      break;
  }
  if (message.type !== "snapshot") setConnection(true);
}

/** Open alerts per device, for the tree's badges. */
function countAlerts() {
  for (const device of store.devices.values()) device.open_alerts = 0;
  for (const alert of store.alerts.values()) {
    const device = store.devices.get(alert.device);
    if (device) (device.open_alerts += 1), store.dirty.add(device.id);
  }
}

async function pollBuildings() {
  const response = await api("/api/buildings").catch(() => null);
  if (response?.ok) {
    store.buildings = await response.json();
    renderTotals();
  }
  setTimeout(pollBuildings, 3000);
}

function renderTotals() {
  const total = store.buildings.reduce((sum, b) => sum + b.power_w, 0);
  $("campus-total").textContent = `${(total / 1000).toFixed(1)} kW`;
  for (const b of store.buildings) {
    const el = document.querySelector(`[data-building-total="${CSS.escape(b.id)}"]`);
    if (el) el.textContent = `${(b.power_w / 1000).toFixed(2)} kW`;
  }
}

function setConnection(on) {
  $("connection").className = `pill ${on ? "on" : "off"}`;
  $("connection").textContent = t(on ? "live" : "offline_conn");
}

// Readings arrive in batches: repaint at most every 250 ms, and only the rows that changed.
let scheduled = false;
function schedule() {
  if (scheduled) return;
  scheduled = true;
  setTimeout(() => {
    scheduled = false;
    render();
  }, 250);
}

function render() {
  if (store.treeStale) {
    renderTree($("tree"), store);
    renderTotals();
    store.treeStale = false;
    store.dirty.clear();
  } else if (store.dirty.size > 0) {
    updateDevices(store, store.dirty);
    store.dirty.clear();
  }
  if (store.alertsStale) {
    renderAlerts($("alerts"), $("alert-count"), store);
    store.alertsStale = false;
  }
  updateDeviceHeader(store);
}

function renderAll() {
  apply();
  renderRole();
  setConnection(store.socket?.readyState === WebSocket.OPEN);
  store.treeStale = store.alertsStale = true;
  render();
}

function route() {
  const [, view, id] = location.hash.match(/^#\/(device|energy)?\/?(.*)$/) || [];
  for (const el of document.querySelectorAll(".view")) el.hidden = true;
  for (const a of document.querySelectorAll("nav a")) a.setAttribute("aria-current", String(a.dataset.view === (view || "overview")));
  if (view === "device" && id) {
    $("view-device").hidden = false;
    showDevice($("view-device"), decodeURIComponent(id), store);
  } else if (view === "energy") {
    $("view-energy").hidden = false;
    showEnergy($("view-energy"));
  } else $("view-overview").hidden = false;
}

window.addEventListener("hashchange", route);
setUpAck(store, () => schedule());
setInterval(() => {
  store.dirty = new Set(store.devices.keys()); // keeps "last seen" fresh
  schedule();
}, 10000);
apply();
start();
