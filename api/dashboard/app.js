// campus-power dashboard: plain ES modules, no build step (docs/api.md "Dashboard"). This entry wires
// the parts: signing in and out (sign-in.js, session.js), the schools in scope (sites.js, district-view.js),
// the live stream (live.js) into the campus state (campus-state.js) and the switching commands
// (command-store.js), repainting (repaint.js), building totals (building-totals.js), the tree and its
// search (tree.js, device-search.js), the views (router.js), remote switching (switch-dialog.js,
// command-log.js) and the language (i18n.js).
import { setUpAck } from "./alerts.js";
import { startPollingBuildings, stopPollingBuildings } from "./building-totals.js";
import { applyLiveMessage, campus, forgetCampus, markAllDevicesDirty } from "./campus-state.js";
import { commandLogChanged } from "./command-log.js";
import { forgetCommands, onCommandChange, reloadOpenCommands } from "./command-store.js";
import { refreshSearch, setUpSearch } from "./device-search.js";
import { renderDistrict } from "./district-view.js";
import { apply, LANGUAGES, lang, setLang, t } from "./i18n.js";
import { openLiveStream } from "./live.js";
import { repaint, scheduleRepaint } from "./repaint.js";
import { clearViews, route } from "./router.js";
import { currentName, currentRole, loadRole, signOut, takeTokenFromLink, token } from "./session.js";
import { askToSignIn, closeSignIn, setUpSignIn } from "./sign-in.js";
import { forgetSites, loadSites, onSitesChange, refreshSitesSoon, stopPollingSites } from "./sites.js";
import { renderSwitchDialog, setUpSwitching } from "./switch-dialog.js";
import { setUpTree } from "./tree.js";

const $ = (id) => document.getElementById(id);
// "Last seen" is relative to now: repaint every row this often even when nothing arrives.
const LAST_SEEN_REFRESH_MS = 10000;

let live = null;

function setConnection(on) {
  $("connection").className = `pill ${on ? "on" : "off"}`;
  $("connection").textContent = t(on ? "live" : "offline_conn");
}

/** Who is signed in, in the header: the name (a person's, or `role:<fingerprint>` for an API token) and the role. */
function renderWho() {
  const role = currentRole();
  $("user-name").textContent = currentName() ?? "";
  $("role").dataset.role = role ?? "";
  $("role").textContent = role ? t("signed_in_as", { role: t(`role_${role}`) }) : "";
}

async function start() {
  if (!token()) return askToSignIn();
  if (!(await loadRole())) return askToSignIn(t("session_ended"));
  closeSignIn();
  await loadSites(); // before the first route: one school lands on its campus, several on the district
  renderWho();
  live?.stop();
  live = openLiveStream({
    onMessage: (message) => {
      applyLiveMessage(message);
      // The snapshot carries no commands: a fresh session's (seq 1: the first connection, or one that could
      // not be resumed) loads the open ones, so a command in progress across a reconnect shows as it stands.
      // A resumed session replays what it missed, commands included; the snapshot answering a subscribe is
      // of a session whose commands arrived live.
      if (message.type === "snapshot" && message.seq === 1) reloadOpenCommands();
      // A school's alert counts and devices online changed: the district view's figures, soon.
      if (message.type === "alert" || message.type === "status") refreshSitesSoon();
    },
    onFrame: scheduleRepaint,
    onConnection: setConnection,
    onRefused: () => askToSignIn(t("session_ended")),
  });
  startPollingBuildings();
  route();
}

/** Signing out: the stream and the polling end first (their requests would count as failed sign-ins), then the API revokes the token. */
async function stop() {
  live?.stop();
  live = null;
  stopPollingBuildings();
  stopPollingSites();
  await signOut();
  forgetCommands();
  forgetSites();
  forgetCampus();
  repaint();
  clearViews();
  renderWho();
}

setUpSignIn(start);
$("logout").addEventListener("click", async () => {
  await stop();
  askToSignIn();
});

for (const [code, label] of Object.entries(LANGUAGES)) $("lang").append(new Option(label, code, false, code === lang()));
$("lang").addEventListener("change", (event) => {
  setLang(event.target.value);
  renderWho();
  setConnection(live?.isOpen() ?? false);
  campus.treeStale = campus.alertsStale = true;
  repaint();
  route();
  refreshSearch();
  renderSwitchDialog();
});

window.addEventListener("hashchange", route);
setUpAck(scheduleRepaint);
setUpSwitching();
setUpTree($("tree"));
setUpSearch();
onSitesChange(renderDistrict);
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
