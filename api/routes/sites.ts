// GET /api/sites (CONTRACT §9): the district's schools the caller may see, side by side, with live totals
// (power, devices online, open alerts by severity) and today's energy in each school's own time zone, and
// each school's calendar (CONTRACT §11; an extension: the dashboard's energy views shade its days off).
import { type Static, Type as T } from "@sinclair/typebox";
import type { Alert } from "../../domain/alert.js";
import type { SchoolCalendar } from "../../domain/calendar.js";
import { EnergyReader } from "../energy-report.js";
import { TodayEnergy } from "../energy-today.js";
import { ErrorBodySchema } from "../errors.js";
import { routePlugin } from "../route-plugin.js";
import { SiteQuerySchema, SiteSchema } from "../schemas.js";
import { siteLive } from "../views.js";

const LocalDate = (description: string) => T.String({ format: "date", description: `${description}, "YYYY-MM-DD" in the site's time zone` });
const DateRange = T.Object({ from: LocalDate("first day"), to: LocalDate("last day, inclusive") });

/** The campus file's `calendar:` block as the services read it: a single-day holiday as a one-day range. */
export const CalendarAnswerSchema = T.Union(
  [
    T.Object({
      terms: T.Array(T.Object({ name: T.String(), from: LocalDate("first day of the term"), to: LocalDate("last day of the term, inclusive") })),
      holidays: T.Array(DateRange, { description: "days off inside the terms (public holidays); a single day has from = to" }),
      workdays: T.Array(LocalDate("a make-up working day (调休)"), { description: "Saturdays and Sundays that are school days" }),
    }),
    T.Null(),
  ],
  {
    description:
      "the site's school calendar (CONTRACT §11, extension): a school day is a day inside a term that is a Monday–Friday or a listed workday, and not a holiday; the days outside every term are the vacations. null: the site's file has none, every Monday–Friday is a school day",
  },
);

const SiteAnswerSchema = T.Composite([SiteSchema, T.Object({ calendar: CalendarAnswerSchema })], { $id: "Site" });

/** The frozen calendar as plain JSON arrays (the schema's type has mutable ones). */
function calendarAnswer(calendar: SchoolCalendar | null): Static<typeof CalendarAnswerSchema> {
  if (calendar === null) return null;
  return { terms: calendar.terms.map((term) => ({ ...term })), holidays: calendar.holidays.map((holiday) => ({ ...holiday })), workdays: [...calendar.workdays] };
}

export const siteRoutes = routePlugin("campus-power-sites", async (app, deps) => {
  const now = deps.now ?? Date.now;
  const today = new TodayEnergy(new EnergyReader(deps.influx, deps.campus), deps.campus);

  app.get(
    "/api/sites",
    {
      schema: {
        summary: "The sites (schools) in your scope with live totals, today's energy and their calendars, in the district file's order",
        tags: ["live"],
        querystring: SiteQuerySchema,
        response: { 200: T.Array(SiteAnswerSchema), 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema },
      },
    },
    async (request) => {
      const scope = request.scope!.narrow(request.query.site);
      const sites = scope.siteCampuses();
      if (sites.length === 0) return [];
      const energy = await today.bySite(now());
      // The open alerts by site in one pass: a district's storm leaves tens of thousands open, and a pass per
      // site was most of this route's time (D18: 190 of the API's 358 busy seconds).
      const open = new Map<string, Alert[]>(sites.map((site) => [site.site.id, []]));
      for (const alert of deps.state.openAlerts()) open.get(scope.siteAbout(alert))?.push(alert);
      return sites.map((site) => {
        const id = site.site.id;
        const live = siteLive(deps.state, site, open.get(id)!);
        const used = energy?.get(id);
        return { ...live, energy_today_kwh: used?.kwh ?? null, after_hours_share_today: used?.afterHoursShare ?? null, calendar: calendarAnswer(site.calendar) };
      });
    },
  );
});
