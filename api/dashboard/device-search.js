// The campus view's search box: a device by its id or name, or a room by its number, among the school's
// devices (a school may have 2,000). Matches are listed as one types, best first; choosing one (a click,
// or Enter for the first) opens its building and brings its row into view (tree.js `revealDevice`).
import { campus } from "./campus-state.js";
import { escape, placeName } from "./format.js";
import { t } from "./i18n.js";
import { inView } from "./sites.js";
import { revealDevice } from "./tree.js";

const $ = (id) => document.getElementById(id);
// Enough to pick from at a glance; more matches ask for a longer query instead.
const MAX_SHOWN = 12;

/** How well a device matches (lower is better), or null: the id exactly, the room exactly, the id's start, anywhere in id, name or room. */
function rank(device, query) {
  const id = device.id.toLowerCase();
  const room = String(device.room ?? "").toLowerCase();
  const deviceName = String(device.name ?? "").toLowerCase();
  if (id === query) return 0;
  if (room === query) return 1;
  if (id.startsWith(query)) return 2;
  if (id.includes(query) || deviceName.includes(query) || room.includes(query)) return 3;
  return null;
}

/** The school's devices matching `text`, best first, then by id. */
export function findDevices(text) {
  const query = text.trim().toLowerCase();
  if (query === "") return [];
  const found = [];
  for (const device of campus.devices.values()) {
    if (!inView(device)) continue;
    const score = rank(device, query);
    if (score !== null) found.push([score, device]);
  }
  return found.sort(([a, x], [b, y]) => a - b || x.id.localeCompare(y.id)).map(([, device]) => device);
}

function renderResults() {
  const text = $("device-search").value;
  const found = findDevices(text);
  const list = $("search-results");
  if (text.trim() === "") {
    list.innerHTML = "";
    return;
  }
  const more = found.length > MAX_SHOWN ? `<li class="muted">${escape(t("search_more", { n: found.length - MAX_SHOWN }))}</li>` : "";
  list.innerHTML = found.length === 0
    ? `<li class="muted">${escape(t("search_none"))}</li>`
    : found.slice(0, MAX_SHOWN).map((d) => `<li><button type="button" data-found="${escape(d.id)}"><strong>${escape(d.id)}</strong> <span class="muted">${escape(placeName(campus.buildings, d.building, d.room))}</span></button></li>`).join("") + more;
}

function choose(id) {
  $("search-results").innerHTML = "";
  revealDevice(id);
}

/** Wires the search box, once. */
export function setUpSearch() {
  $("device-search").addEventListener("input", renderResults);
  $("device-search").addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    const first = findDevices(event.target.value)[0];
    if (first) choose(first.id);
  });
  $("search-results").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-found]");
    if (button) choose(button.dataset.found);
  });
}

/** A new school in view or a new language: the listed matches again. */
export const refreshSearch = renderResults;
