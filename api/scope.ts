// What a principal may see (CONTRACT §9): the sites of its scope and everything of theirs — devices,
// buildings, alerts, commands, silences. Anything else is, to it, what an unknown id is: every REST route
// and the live stream ask this one class, so the rule is written once. A device's site is the campus's word
// (`campus.siteOfDevice`), not what a message says: an alert or command of a known device belongs to that
// device's site whatever its own `site` field holds. Pure.
import type { Building, Campus, Device } from "../domain/campus.js";
import type { Silence } from "../domain/silence.js";

/** What alerts and commands have in common: the device they are about, and the site they say. */
type AboutDevice = { device: string; site: string };

export class Scope {
  private constructor(
    readonly campus: Campus,
    /** The sites in view; null = the whole district. */
    readonly sites: ReadonlySet<string> | null,
  ) {}

  /** The scope of a principal's sites (null: the whole district). */
  static of(campus: Campus, sites: readonly string[] | null): Scope {
    return new Scope(campus, sites === null ? null : new Set(sites));
  }

  /** Narrowed by a list route's `site=`: that site when it is in view, else nothing (unknown and out of scope alike). */
  narrow(site: string | undefined): Scope {
    if (site === undefined) return this;
    return new Scope(this.campus, new Set(this.sees(site) ? [site] : []));
  }

  /** Whether things of `site` are in view; with a site-scoped principal, nothing of an unknown site is. */
  sees(site: string | undefined): boolean {
    return this.sites === null || (site !== undefined && this.sites.has(site));
  }

  siteOfDevice(id: string): string | undefined {
    return this.campus.siteOfDevice.get(id)?.site.id;
  }

  /** The device, if it exists and is in view: otherwise the route answers as for an unknown id. */
  device(id: string): Device | undefined {
    const device = this.campus.deviceById.get(id);
    return device !== undefined && this.sees(device.site) ? device : undefined;
  }

  building(id: string): Building | undefined {
    const building = this.campus.buildingById.get(id);
    return building !== undefined && this.sees(building.site) ? building : undefined;
  }

  /** The site campuses in view, in the district file's order. */
  siteCampuses(): readonly Campus[] {
    return this.sites === null ? this.campus.sites : this.campus.sites.filter((s) => this.sites!.has(s.site.id));
  }

  devices(): readonly Device[] {
    return this.sites === null ? this.campus.devices : this.campus.devices.filter((d) => this.sites!.has(d.site));
  }

  buildings(): readonly Building[] {
    return this.sites === null ? this.campus.buildings : this.campus.buildings.filter((b) => this.sites!.has(b.site));
  }

  /** The site of an alert or a command: its device's, else what it says. */
  siteAbout(item: AboutDevice): string {
    return this.siteOfDevice(item.device) ?? item.site;
  }

  seesAbout(item: AboutDevice): boolean {
    return this.sees(this.siteAbout(item));
  }

  /** The alert or command with its device's site, for an answer. */
  withSite<T extends AboutDevice>(item: T): T {
    const site = this.siteAbout(item);
    return item.site === site ? item : { ...item, site };
  }

  /**
   * A silence is in view when every device and building it names is; one naming none covers the whole
   * district (it mutes alerts of every site), so everyone sees it.
   */
  seesSilence(silence: Silence): boolean {
    if (this.sites === null) return true;
    return (silence.scope.devices ?? []).every((id) => this.device(id) !== undefined) && (silence.scope.buildings ?? []).every((id) => this.building(id) !== undefined);
  }
}
