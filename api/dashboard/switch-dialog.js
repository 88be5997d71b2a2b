// Switching a circuit from the screen: select before operate (CONTRACT §10, docs/commands.md). The first
// click selects (POST /api/commands with the reason typed or picked; nothing is sent to the device) and
// lists what will go dark, while the 30 s of the selection count down; the second click operates it
// (POST …/operate); Cancel (DELETE) ends the selection at any time before. From then on the dialog shows
// the command as the service announces it (command-store.js, from the live stream): `sent` until the
// device's own report makes it `confirmed`, `failed` or `timeout` — never "done" because it was sent.
import { campus } from "./campus-state.js";
import { commandById, keepCommand, onCommandChange } from "./command-store.js";
import { downstreamOf } from "./electrical.js";
import { escape, placeName } from "./format.js";
import { lang, name, t } from "./i18n.js";
import { api } from "./session.js";

const $ = (id) => document.getElementById(id);
// The countdown is redrawn this often, so the whole seconds it shows are never a second behind.
const TICK_MS = 250;
// Confirm stays disabled this long after the selection arrives, so a double click on Select (two clicks
// ~100–500 ms apart) can never select and operate at once: the second step must be a second decision.
const CONFIRM_ARMS_AFTER_MS = 1000;

/** The dialog's one switching: `device`; once selected `commandId` and `endsAtMs`; the last refusal; a request in flight. */
let current = null;
let ticker = null;

/** Wires every `button[data-switch]` of the page (device pages, room rows) and the dialog's own controls; once. */
export function setUpSwitching() {
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-switch]");
    if (button && !button.disabled) openSwitchDialog(button.dataset.switch, button.dataset.action);
  });
  $("switch-go").addEventListener("click", go);
  // Enter in the reason field selects, and never operates: only a click on Confirm does.
  $("switch-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (current && !current.commandId) go();
  });
  $("switch-cancel").addEventListener("click", cancel);
  $("switch").addEventListener("cancel", (event) => {
    event.preventDefault(); // Escape cancels the selection first, like the Cancel button
    cancel();
  });
  $("switch").addEventListener("close", () => {
    clearInterval(ticker);
    current = null;
  });
  onCommandChange((command) => {
    if (command.id === current?.commandId) renderSwitchDialog();
  });
}

/** Opens the dialog for a device; `action` preselected, else the opposite of the relay state it reports. */
export function openSwitchDialog(deviceId, action) {
  const reported = campus.devices.get(deviceId)?.latest?.switch_on;
  const preselected = action ?? (reported === false ? "switch_on" : "switch_off");
  current = { device: deviceId, commandId: null, endsAtMs: 0, armsAtMs: 0, error: null, busy: false, cancelFailed: false };
  $("switch-reason").value = "";
  for (const radio of $("switch-actions").querySelectorAll("input")) radio.checked = radio.value === preselected;
  renderSwitchDialog();
  $("switch").showModal();
  $("switch-reason").focus();
}

const chosenAction = () => $("switch-actions").querySelector("input:checked")?.value ?? "switch_off";
const secondsLeft = () => Math.max(0, Math.ceil((current.endsAtMs - Date.now()) / 1000));

/** Where a device is, in words: building, room, kind. */
function whereIs(device) {
  if (!device) return "";
  return [placeName(campus.buildings, device.building, device.room), name(device.kind)].join(" · ");
}

/** Which step the dialog is at: choose (nothing selected), selected, ran_out (our 30 s are over), or the command's state. */
function phaseOf(command) {
  if (!command) return "choose";
  if (command.state === "selected") return secondsLeft() > 0 ? "selected" : "ran_out";
  return command.state;
}

export function renderSwitchDialog() {
  if (!current) return;
  const command = current.commandId ? commandById(current.commandId) : undefined;
  const phase = phaseOf(command);
  const action = command?.action ?? chosenAction();
  $("switch-title").textContent = t("switch_title", { device: current.device });
  $("switch-where").textContent = whereIs(campus.devices.get(current.device));
  for (const radio of $("switch-actions").querySelectorAll("input")) radio.disabled = phase !== "choose";
  $("switch-reason").readOnly = phase !== "choose";
  $("switch-hint").hidden = phase !== "choose";
  $("switch-dark").innerHTML = phase === "choose" ? "" : darkList(action);
  $("switch-status").className = `switch-status state-${phase}`;
  // A live region: written only when its words change (the countdown ticks on the button, not here), so a
  // screen reader announces each step once.
  if ($("switch-status").textContent !== statusText(phase, command)) $("switch-status").textContent = statusText(phase, command);
  $("switch-detail").textContent = command?.detail ?? "";
  $("switch-error").innerHTML = refusalHtml(current.error);
  const go = $("switch-go");
  go.hidden = phase !== "choose" && phase !== "selected";
  go.disabled = current.busy || (phase === "selected" && Date.now() < current.armsAtMs);
  go.classList.toggle("danger", phase === "selected" && action === "switch_off");
  go.textContent = phase === "selected" ? t(`confirm_${action}`, { n: secondsLeft() }) : t("select");
  $("switch-cancel").disabled = current.busy;
  $("switch-cancel").textContent = t(phase === "choose" || phase === "selected" ? "cancel" : "close");
}

/** The device and everything downstream of it, with where each is: what the operate step will darken (or power). */
function darkList(action) {
  const devices = downstreamOf(campus.devices, current.device);
  const items = devices.map((d) => `<li><strong>${escape(d.id)}</strong> <span class="muted">${escape(whereIs(d))}</span></li>`).join("");
  return `<p>${escape(t(action === "switch_off" ? "goes_dark" : "gets_power", { n: devices.length }))}</p><ul class="dark-list">${items}</ul>`;
}

function statusText(phase, command) {
  if (phase === "choose") return "";
  if (phase === "confirmed") return t("status_confirmed", { time: new Date(command.confirmed_at ?? command.ended_at).toLocaleTimeString(lang()) });
  return t(`status_${phase}`);
}

/** A refusal in words (each code its own text), and the service's message, which names what is in the way (PROTECTED names the protected devices). */
function refusalHtml(error) {
  if (!error) return "";
  const key = `refused_${error.code}`;
  const known = error.words ?? (t(key) !== key ? t(key) : t("refused_other", { code: error.code }));
  const says = error.message ? `<span class="service-says">${escape(t("service_says", { message: error.message }))}</span>` : "";
  return `<span class="refusal-words">${escape(known)}</span>${says}`;
}

/** One step's request; its answer, or null after showing why not (the refusal in words). */
async function step(path, init) {
  const mine = current;
  mine.busy = true;
  mine.error = null;
  renderSwitchDialog();
  const response = await api(path, init).catch(() => null);
  const body = response ? await response.json().catch(() => null) : null;
  mine.busy = false;
  if (!response?.ok) mine.error = response ? (body?.error ?? { code: String(response.status) }) : { code: "network" };
  if (mine === current) renderSwitchDialog();
  return response?.ok ? body : null;
}

async function go() {
  if (!current || current.busy) return;
  const command = current.commandId ? commandById(current.commandId) : undefined;
  if (!command) return select();
  if (phaseOf(command) === "selected" && Date.now() >= current.armsAtMs) return operate(command);
}

async function select() {
  const reason = $("switch-reason").value.trim();
  if (!reason) {
    current.error = { words: t("reason_missing") };
    return renderSwitchDialog();
  }
  const mine = current;
  const askedAt = Date.now();
  const command = await step("/api/commands", { method: "POST", body: JSON.stringify({ device: mine.device, action: chosenAction(), reason }) });
  if (!command) return;
  keepCommand(command);
  mine.commandId = command.id;
  // The 30 s, counted on this screen's clock from before the request left: never longer than the service
  // allows, whatever the two clocks say (select-before-operate: an operate after expires_at is refused).
  mine.endsAtMs = askedAt + (Date.parse(command.expires_at) - Date.parse(command.selected_at));
  mine.armsAtMs = Date.now() + CONFIRM_ARMS_AFTER_MS;
  clearInterval(ticker);
  ticker = setInterval(tick, TICK_MS);
  renderSwitchDialog();
}

async function operate(command) {
  const sent = await step(`/api/commands/${encodeURIComponent(command.id)}/operate`, { method: "POST" });
  if (sent) keepCommand(sent);
}

function tick() {
  const command = current?.commandId ? commandById(current.commandId) : undefined;
  if (!command || command.state !== "selected") return clearInterval(ticker);
  renderSwitchDialog();
}

/** Cancel: a selection is ended on the service first (DELETE); otherwise the dialog closes (a sent command cannot be called back). */
async function cancel() {
  if (!current || current.busy) return;
  const command = current.commandId ? commandById(current.commandId) : undefined;
  if (command?.state === "selected" && !current.cancelFailed) {
    const cancelled = await step(`/api/commands/${encodeURIComponent(command.id)}`, { method: "DELETE" });
    if (!cancelled) {
      current.cancelFailed = true; // the refusal stays on screen; a second Cancel closes
      return;
    }
    keepCommand(cancelled);
  }
  $("switch").close();
}
