// The open alerts list of the school in view, newest first, and the acknowledgement dialog (operators and admins).
import { campus, keepAlert } from "./campus-state.js";
import { escape, fmt, placeName } from "./format.js";
import { lang, name, t } from "./i18n.js";
import { api, canAck } from "./session.js";
import { inView } from "./sites.js";

const $ = (id) => document.getElementById(id);
let pending = null;

export function renderAlerts(list, count, store) {
  const alerts = [...store.alerts.values()].filter(inView).sort((a, b) => b.started_at.localeCompare(a.started_at));
  count.textContent = String(alerts.length);
  if (alerts.length === 0) {
    list.innerHTML = `<li class="muted">${escape(t("none"))}</li>`;
    return;
  }
  list.innerHTML = alerts
    .map((a) => {
      const device = store.devices.get(a.device);
      const where = placeName(store.buildings, a.building, a.room);
      const ack = canAck() && a.state === "firing" ? `<button class="ack" type="button" data-id="${escape(a.id)}">${escape(t("acknowledge"))}</button>` : "";
      const who = a.acknowledged_by ? `<span class="muted">${escape(t("by", { who: a.acknowledged_by }))}</span>` : "";
      const note = a.ack_note ? `<div class="muted">${escape(t("note"))}: ${escape(a.ack_note)}</div>` : "";
      return `<li class="alert sev-${escape(a.severity)}" data-alert="${escape(a.id)}">
        <div class="alert-head"><span class="sev">${escape(t(`sev_${a.severity}`))}</span>
          <strong>${escape(name(a.rule))}</strong>
          <a href="#/device/${encodeURIComponent(a.device)}">${escape(a.device)}</a> <span class="muted">${escape(where)}</span></div>
        <div>${escape(a.message)}</div>
        <div class="alert-meta"><span>${escape(t("value_threshold"))}: ${fmt(a.value)} / ${fmt(a.threshold)}${device?.rating_a ? ` (${escape(t("rating"))} ${device.rating_a} A)` : ""}</span>
          <span>${escape(t("since"))}: ${escape(new Date(a.started_at).toLocaleString(lang()))}</span>
          <span class="state-${escape(a.state)}">${escape(t(`st_${a.state}`))}</span> ${who} ${ack}</div>${note}</li>`;
    })
    .join("");
}

/** Wires the acknowledge buttons of the list and the dialog; `changed()` after an alert was acknowledged. */
export function setUpAck(changed) {
  $("alerts").addEventListener("click", (event) => {
    const button = event.target.closest("button.ack");
    if (!button) return;
    const alert = campus.alerts.get(button.dataset.id);
    if (!alert) return;
    pending = alert;
    $("ack-alert").textContent = `${name(alert.rule)} · ${alert.device} · ${alert.message}`;
    $("ack-note").value = "";
    $("ack-error").textContent = "";
    $("ack").showModal();
  });
  $("ack-cancel").addEventListener("click", () => $("ack").close());
  $("ack-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!pending) return;
    $("ack-confirm").disabled = true;
    const note = $("ack-note").value.trim();
    const response = await api(`/api/alerts/${encodeURIComponent(pending.id)}/ack`, { method: "POST", body: JSON.stringify(note ? { note } : {}) }).catch(() => null);
    $("ack-confirm").disabled = false;
    if (!response?.ok) {
      const body = await response?.json().catch(() => ({}));
      $("ack-error").textContent = t("ack_failed", { reason: body?.error?.message ?? response?.status ?? "network" });
      return;
    }
    keepAlert(await response.json());
    pending = null;
    $("ack").close();
    changed();
  });
}
