// The switching controls around the page (CONTRACT §10): on a device page the relay state as the device
// reports it, its command in progress or its last one, and Switch off / Switch on; on a room of the tree
// a button for the room's breaker; on a device row a mark while a command is open or the relay is off.
// Operators and admins get the buttons; a viewer sees them disabled on a device page, with why, and no
// room buttons. Each button only opens the dialog (switch-dialog.js): nothing is selected by one click.
import { latestCommandOf, openCommandOf } from "./command-store.js";
import { hasRelay, roomSwitches } from "./electrical.js";
import { escape } from "./format.js";
import { lang, t } from "./i18n.js";
import { canSwitch, currentName, currentRole } from "./session.js";

/** `issued_by` as people read it: "you" for this principal's own commands. */
export const whoIs = (issuedBy) => (issuedBy === currentName() ? `${t("you")} (${issuedBy})` : issuedBy);

/** A command's state as a coloured label. */
export const commandStateHtml = (command) => `<span class="cmd-state state-${escape(command.state)}">${escape(t(`cmd_${command.state}`))}</span>`;

/** The relay state a device last reported (`switch_on` of its readings), never the state a command asked for. */
function relayHtml(device) {
  const on = device.latest?.switch_on;
  const [key, level] = on === true ? ["relay_on", "on"] : on === false ? ["relay_off", "off"] : ["relay_unknown", "unknown"];
  return `<div class="relay-state"><span class="muted">${escape(t("relay"))} (${escape(t("relay_reported"))})</span> <strong class="relay ${level}" data-relay="${level}">${escape(t(key))}</strong></div>`;
}

/** The device's open command, else its last one: action, state, who, when, and the device's detail. */
function commandLineHtml(deviceId) {
  const command = openCommandOf(deviceId) ?? latestCommandOf(deviceId);
  if (!command) return "";
  const when = new Date(command.selected_at).toLocaleTimeString(lang());
  const detail = command.detail ? `<div class="muted">${escape(command.detail)}</div>` : "";
  return `<div class="command-now" data-command="${escape(command.id)}">${commandStateHtml(command)} <strong>${escape(t(command.action))}</strong>
    <span class="muted">${escape(when)} · ${escape(whoIs(command.issued_by))} · ${escape(command.reason)}</span>${detail}</div>`;
}

/** The device page's switching panel. */
export function devicePanelHtml(device) {
  if (!hasRelay(device)) return `<h3>${escape(t("switching"))}</h3><p class="muted">${escape(t("no_relay"))}</p>`;
  const allowed = canSwitch();
  const why = allowed ? "" : `<p id="switch-why" class="muted why">${escape(t("viewer_cannot", { role: t(`role_${currentRole()}`) }))}</p>`;
  const button = (action) =>
    `<button type="button" class="switch ${action}" data-switch="${escape(device.id)}" data-action="${action}"${allowed ? "" : ' disabled aria-describedby="switch-why"'}>${escape(t(`${action}_more`))}</button>`;
  return `<h3>${escape(t("switching"))}</h3>${relayHtml(device)}${commandLineHtml(device.id)}
    <div class="switch-buttons">${button("switch_off")}${button("switch_on")}</div>${why}`;
}

/** A room's switch buttons for operators: one per room breaker, named when the room has several or the "room" is the building level. */
export function roomControlsHtml(devicesOfRoom, isRoom) {
  if (!canSwitch()) return "";
  const switches = roomSwitches(devicesOfRoom);
  const label = (d) => (isRoom && switches.length === 1 ? t("switch_room") : t("switch_device", { device: d.id }));
  return switches.map((d) => `<button type="button" class="switch-room" data-switch="${escape(d.id)}">${escape(label(d))}</button>`).join("");
}

/** A device row's mark: its open command's state, else "relay off" when the device reports its relay open. */
export function rowMarkHtml(device) {
  const open = openCommandOf(device.id);
  if (open) return `<span class="switch-mark">${commandStateHtml(open)}</span>`;
  if (device.latest?.switch_on === false) return `<span class="switch-mark"><span class="relay off">${escape(t("relay_off_short"))}</span></span>`;
  return `<span class="switch-mark"></span>`;
}
