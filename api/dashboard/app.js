// campus-power dashboard: plain ES modules, no build step (docs/api.md "Dashboard"). This entry wires
// the parts: signing in and out (session.js), the live stream (live.js) into the campus state
// (campus-state.js) and the switching commands (command-store.js), repainting (repaint.js), building
// totals (building-totals.js), the views (router.js), remote switching (switch-dialog.js, command-log.js)
// and the language (i18n.js).
import { setUpAck } from "./alerts.js";
import { startPollingBuildings, stopPollingBuildings } from "./building-totals.js";
import { applyLiveMessage, campus, markAllDevicesDirty } from "./campus-state.js";
import { commandLogChanged } from "./command-log.js";
import { forgetCommands, onCommandChange, reloadOpenCommands } from "./command-store.js";
import { apply, LANGUAGES, lang, setLang, t } from "./i18n.js";
import { openLiveStream } from "./live.js";
import { repaint, scheduleRepaint } from "./repaint.js";
import { route } from "./router.js";
import { currentRole, keepToken, loadRole, signOut, takeTokenFromLink, token } from "./session.js";
import { renderSwitchDialog, setUpSwitching } from "./switch-dialog.js";

const $ = (id) => document.getElementById(id);
// "Last seen" is relative to now: repaint every row this often even when nothing arrives.
const LAST_SEEN_REFRESH_MS = 10000;

let live = null;

function askToken(message) {
  $("login-error").textContent = message || "";
  if (!$("login").open) $("login").showModal();
}

function setConnection(on) {
  $("connection").className = `pill ${on ? "on" : "off"}`;
  $("connection").textContent = t(on ? "live" : "offline_conn");
}

function renderRole() {
  const role = currentRole();
  $("role").dataset.role = role ?? "";
  $("role").textContent = role ? t("signed_in_as", { role: t(`role_${role}`) }) : "";
}

async function start() {
  if (!token()) return askToken();
  if (!(await loadRole())) return askToken(t("token_refused"));
  renderRole();
  live?.stop();
  live = openLiveStream({
    onMessage: (message) => {
      applyLiveMessage(message);
      // The snapshot carries no commands: a fresh session's (seq 1: the first connection, or one that could
      // not be resumed) loads the open ones, so a command in progress across a reconnect shows as it stands.
      // A resumed session replays what it missed, commands included; the snapshot answering a subscribe is
      // of a session whose commands arrived live.
      if (message.type === "snapshot" && message.seq === 1) reloadOpenCommands();
    },
    onFrame: scheduleRepaint,
    onConnection: setConnection,
    onRefused: () => askToken(t("token_refused")),
  });
  startPollingBuildings();
  route();
}

function stop() {
  live?.stop();
  live = null;
  stopPollingBuildings();
  signOut();
  forgetCommands();
  renderRole();
}

$("login-form").addEventListener("submit", () => {
  keepToken($("token").value.trim());
  start();
});
$("logout").addEventListener("click", () => {
  stop();
  askToken();
});

for (const [code, label] of Object.entries(LANGUAGES)) $("lang").append(new Option(label, code, false, code === lang()));
$("lang").addEventListener("change", (event) => {
  setLang(event.target.value);
  renderRole();
  setConnection(live?.isOpen() ?? false);
  campus.treeStale = campus.alertsStale = true;
  repaint();
  route();
  renderSwitchDialog();
});

window.addEventListener("hashchange", route);
setUpAck(scheduleRepaint);
setUpSwitching();
onCommandChange((command) => {
  campus.dirty.add(command.device); // its row's switching mark
  commandLogChanged(command);
  scheduleRepaint(); // the device page's panel
});
setInterval(() => {
  markAllDevicesDirty();
  scheduleRepaint();
}, LAST_SEEN_REFRESH_MS);
takeTokenFromLink();
apply();
start();
