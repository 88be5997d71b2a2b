// GET /api/sites (CONTRACT §9): the district's schools the caller may see, side by side, with live totals
// (power, devices online, open alerts by severity) and today's energy in each school's own time zone.
import { Type as T } from "@sinclair/typebox";
import { EnergyReader } from "../energy-report.js";
import { TodayEnergy } from "../energy-today.js";
import { ErrorBodySchema } from "../errors.js";
import { routePlugin } from "../route-plugin.js";
import { SiteQuerySchema, SiteSchema } from "../schemas.js";
import { siteLive } from "../views.js";

export const siteRoutes = routePlugin("campus-power-sites", async (app, deps) => {
  const now = deps.now ?? Date.now;
  const today = new TodayEnergy(new EnergyReader(deps.influx, deps.campus), deps.campus);

  app.get(
    "/api/sites",
    {
      schema: {
        summary: "The sites (schools) in your scope with live totals and today's energy, in the district file's order",
        tags: ["live"],
        querystring: SiteQuerySchema,
        response: { 200: T.Array(SiteSchema), 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema },
      },
    },
    async (request) => {
      const scope = request.scope!.narrow(request.query.site);
      const sites = scope.siteCampuses();
      if (sites.length === 0) return [];
      const energy = await today.bySite(now());
      const open = deps.state.openAlerts().filter((a) => scope.seesAbout(a));
      return sites.map((site) => {
        const id = site.site.id;
        const live = siteLive(deps.state, site, open.filter((a) => scope.siteAbout(a) === id));
        const used = energy?.get(id);
        return { ...live, energy_today_kwh: used?.kwh ?? null, after_hours_share_today: used?.afterHoursShare ?? null };
      });
    },
  );
});
