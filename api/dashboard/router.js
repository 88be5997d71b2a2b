// Which view the address shows: #/ the campus tree and open alerts, #/device/{id} a device's live
// values, switching and history, #/energy kWh per building per day, #/commands the school's switching
// log. Runs on every hash change and language change.
import { campus } from "./campus-state.js";
import { showCommandsPage } from "./command-log.js";
import { showDevice } from "./device.js";
import { showEnergy } from "./energy.js";

const $ = (id) => document.getElementById(id);

export function route() {
  const [, view, id] = location.hash.match(/^#\/(device|energy|commands)?\/?(.*)$/) || [];
  for (const el of document.querySelectorAll(".view")) el.hidden = true;
  for (const a of document.querySelectorAll("nav a")) a.setAttribute("aria-current", String(a.dataset.view === (view || "overview")));
  if (view === "device" && id) {
    $("view-device").hidden = false;
    showDevice($("view-device"), decodeURIComponent(id), campus);
  } else if (view === "energy") {
    $("view-energy").hidden = false;
    showEnergy($("view-energy"));
  } else if (view === "commands") {
    $("view-commands").hidden = false;
    showCommandsPage($("view-commands"));
  } else $("view-overview").hidden = false;
}
