// The energy counter state (./energy.ts) is kept per series key, measurement + tags (./durable-sink.ts).
// Keys saved before points carried `site` (CONTRACT §9) lack that tag: mapped to the key the same device's
// series has now, a counter carries on across the upgrade, so the first reading after it still gets its
// delta (the energy of the restart is neither lost nor booked twice: docs/ingest.md "Energy"). Pure.

/** Device ids are `[a-z0-9-]` (CONTRACT §2), so the tag needs no unescaping. */
const DEVICE_TAG = /,device=([a-z0-9-]+)(?=,|$)/;

/** `key` with the `site` tag of its device added when it has none (and the device is known). */
/** The device a counter's series key names, or undefined. */
export const deviceOfCounterKey = (key: string): string | undefined => DEVICE_TAG.exec(key)?.[1];

export function counterKeyWithSite(key: string, siteOfDevice: (device: string) => string | undefined): string {
  if (key.includes(",site=")) return key;
  const device = DEVICE_TAG.exec(key)?.[1];
  const site = device === undefined ? undefined : siteOfDevice(device);
  // Tags are written sorted by key (domain/line-protocol.ts) and an `electrical` point's `site` sorts
  // after building, device, kind, phase and room: it goes last. Site ids are [a-z0-9-]: nothing to escape.
  return site === undefined ? key : `${key},site=${site}`;
}
