// campus-power dashboard: plain JS, no build step. Token in localStorage; live data from /api/live
// (snapshot, then readings/status/alerts); building totals polled from /api/buildings.
"use strict";
(() => {
  const TOKEN_KEY = "campus-power-token";
  const $ = (id) => document.getElementById(id);
  const state = { devices: new Map(), alerts: new Map(), buildings: [], role: null, socket: null, retryMs: 1000, dirty: false };

  const escape = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  const fmt = (v, digits = 1) => (typeof v === "number" ? v.toFixed(digits) : "–");
  const ago = (ms) => {
    if (ms === null || ms === undefined) return "never";
    const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    return s < 60 ? `${s} s ago` : s < 3600 ? `${Math.round(s / 60)} min ago` : new Date(ms).toLocaleString();
  };
  // A link like /#token=... (printed by `up --demo`) signs in at once; the fragment never reaches the
  // server, and it is removed from the address bar right away.
  const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromLink) {
    localStorage.setItem(TOKEN_KEY, fromLink);
    history.replaceState(null, "", location.pathname + location.search);
  }
  const token = () => localStorage.getItem(TOKEN_KEY);
  const api = (path, init = {}) =>
    fetch(path, { ...init, headers: { ...(init.headers || {}), authorization: `Bearer ${token()}`, ...(init.body ? { "content-type": "application/json" } : {}) } });

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
    state.socket?.close();
    askToken();
  });

  async function start() {
    if (!token()) return askToken();
    const me = await api("/api/me").catch(() => null);
    if (!me || me.status === 401) return askToken("That token was not accepted.");
    state.role = (await me.json()).role;
    $("role").textContent = `signed in as ${state.role}`;
    connect();
    pollBuildings();
  }

  function connect() {
    state.socket?.close();
    const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/live`);
    state.socket = socket;
    // The token goes in the first frame rather than the URL, so it never lands in access logs.
    socket.onopen = () => socket.send(JSON.stringify({ type: "auth", token: token() }));
    socket.onmessage = (event) => receive(JSON.parse(event.data));
    socket.onclose = (event) => {
      setConnection(false);
      if (state.socket !== socket) return;
      if (event.code === 4401) return askToken("That token was not accepted.");
      setTimeout(connect, state.retryMs);
      state.retryMs = Math.min(state.retryMs * 2, 30000);
    };
  }

  function receive(message) {
    switch (message.type) {
      case "snapshot":
        state.retryMs = 1000;
        setConnection(true);
        state.devices = new Map(message.devices.map((d) => [d.id, d]));
        state.alerts = new Map(message.alerts.map((a) => [a.id, a]));
        break;
      case "reading": {
        const device = state.devices.get(message.device);
        if (device) Object.assign(device, { latest: { ...device.latest, ...message.values }, last_seen: message.ts });
        break;
      }
      case "status": {
        const device = state.devices.get(message.device);
        if (device) device.online = message.online;
        break;
      }
      case "alert":
        if (message.alert.state === "resolved") state.alerts.delete(message.alert.id);
        else state.alerts.set(message.alert.id, message.alert);
        break;
    }
    scheduleRender();
  }

  async function pollBuildings() {
    const response = await api("/api/buildings").catch(() => null);
    if (response?.ok) state.buildings = await response.json();
    scheduleRender();
    setTimeout(pollBuildings, 5000);
  }

  async function acknowledge(id, button) {
    const note = prompt("Note for the acknowledgement (optional):") ?? undefined;
    button.disabled = true;
    const response = await api(`/api/alerts/${encodeURIComponent(id)}/ack`, { method: "POST", body: JSON.stringify(note ? { note } : {}) });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      alert(`Could not acknowledge: ${body.error?.message ?? response.status}`);
      button.disabled = false;
      return;
    }
    const acknowledged = await response.json();
    state.alerts.set(acknowledged.id, acknowledged);
    scheduleRender();
  }

  function setConnection(on) {
    $("connection").className = `pill ${on ? "on" : "off"}`;
    $("connection").textContent = on ? "live" : "offline";
  }

  // Many readings a second must not mean many repaints: render at most once per frame.
  function scheduleRender() {
    if (state.dirty) return;
    state.dirty = true;
    requestAnimationFrame(() => {
      state.dirty = false;
      render();
    });
  }

  function render() {
    $("buildings").innerHTML = state.buildings
      .map((b) => `<div class="card ${b.open_alerts ? "alarm" : ""}"><div>${escape(b.name)} <span class="muted">${escape(b.kind)}</span></div>
        <div class="power">${fmt(b.power_w / 1000, 2)} kW</div>
        <div class="muted">${b.devices_online}/${b.devices_total} online · ${b.open_alerts} alerts</div></div>`)
      .join("");
    const alerts = [...state.alerts.values()].sort((a, b) => b.started_at.localeCompare(a.started_at));
    $("alert-count").textContent = String(alerts.length);
    const canAck = state.role === "operator" || state.role === "admin";
    $("alerts").innerHTML = alerts.length === 0 ? `<tr><td colspan="8" class="muted">none</td></tr>` : alerts
      .map((a) => `<tr><td class="sev sev-${escape(a.severity)}">${escape(a.severity)}</td><td>${escape(a.rule)}</td>
        <td>${escape(a.device)}${a.room ? ` <span class="muted">(${escape(a.room)})</span>` : ""}</td>
        <td class="num">${fmt(a.value)} / ${fmt(a.threshold)}</td><td>${escape(a.message)}</td>
        <td>${escape(new Date(a.started_at).toLocaleString())}</td><td>${escape(a.state)}${a.acknowledged_by ? ` <span class="muted">by ${escape(a.acknowledged_by)}</span>` : ""}</td>
        <td>${canAck && a.state === "firing" ? `<button class="ack" data-id="${escape(a.id)}">Ack</button>` : ""}</td></tr>`)
      .join("");
    $("devices").innerHTML = [...state.devices.values()]
      .map((d) => `<tr class="${d.online ? "" : "offline"}"><td>${escape(d.id)}</td><td>${escape(d.building)}</td><td>${escape(d.room ?? "")}</td>
        <td>${escape(d.kind)}</td><td class="num">${fmt(d.latest.power_w)}</td><td class="num">${fmt(d.latest.current_a, 2)}</td>
        <td class="num">${d.rating_a ?? "–"}</td><td><span class="pill ${d.online ? "on" : "off"}">${d.online ? "online" : "offline"}</span>
        ${d.open_alerts ? ` <span class="sev sev-major">${d.open_alerts} alert(s)</span>` : ""}</td><td class="muted">${ago(d.last_seen)}</td></tr>`)
      .join("");
  }

  $("alerts").addEventListener("click", (event) => {
    const button = event.target.closest("button.ack");
    if (button) acknowledge(button.dataset.id, button);
  });
  setInterval(scheduleRender, 10000); // keeps "last seen" fresh
  start();
})();
