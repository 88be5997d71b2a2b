// GET /reports/{site}/{YYYY-MM} (CONTRACT §11, issue 13 item 3): a school's monthly report as HTML for print,
// rendered here (no script in the page), for a viewer of that school given by `Authorization: Bearer` or
// `?token=` (a link to open or print). A school outside the principal's scope answers 404 exactly as an
// unknown one (§9); a month that is not "YYYY-MM" of 2000–2099 is a 400; a month still to come is a report
// without data. The token may be in the URL, so the page is never cached and sends no Referer.
import { Type as T } from "@sinclair/typebox";
import { literalUnion } from "../../domain/schema.js";
import { apiError, ErrorBodySchema } from "../errors.js";
import { MONTH_PATTERN, reportMonth } from "../printable/month.js";
import { renderReport } from "../printable/render.js";
import { PrintableReports } from "../printable/report-source.js";
import { REPORT_LANGS, reportLang } from "../printable/words.js";
import { PeakDemandReader } from "../reports/peak-demand.js";
import { routePlugin } from "../route-plugin.js";

const ParamsSchema = T.Object({
  site: T.String({ maxLength: 64, description: "the school's site id" }),
  month: T.String({ pattern: MONTH_PATTERN, description: "YYYY-MM, in the school's time zone" }),
});
const QuerySchema = T.Object({
  lang: T.Optional(literalUnion(REPORT_LANGS, { description: "default: from Accept-Language, else zh-CN" })),
  token: T.Optional(T.String({ description: "a viewer's token, when no Authorization header can be sent (a link to print); never logged" })),
});

export const printableReportRoutes = routePlugin("campus-power-printable-report", async (app, deps) => {
  const now = deps.now ?? Date.now;
  const peak = new PeakDemandReader(deps.influx, deps.campus);
  const reports = new PrintableReports({ influx: deps.influx, campus: deps.campus, commandLog: deps.state.commands, peak });

  app.get(
    "/reports/:site/:month",
    {
      config: { role: "viewer", tokenInQuery: true },
      schema: {
        summary: "A school's monthly electricity report, HTML for print (A4, two pages), in zh-CN or en",
        tags: ["reports"],
        produces: ["text/html"],
        params: ParamsSchema,
        querystring: QuerySchema,
        response: { 200: T.String({ description: "text/html: the whole page, style sheet and charts inline, no script" }), 400: ErrorBodySchema, 401: ErrorBodySchema, 404: ErrorBodySchema, 503: ErrorBodySchema },
      },
      // On every answer, errors included: the URL may carry the token (RFC 9111 §5.2.2.5 no-store; W3C Referrer Policy).
      onSend: async (_request, reply) => {
        reply.header("cache-control", "no-store").header("referrer-policy", "no-referrer");
      },
    },
    async (request, reply) => {
      const scope = request.scope!;
      const site = scope.siteCampuses().find((s) => s.site.id === request.params.site);
      if (site === undefined) throw apiError("NOT_FOUND", "no such site");
      const month = reportMonth(request.params.month, site.site.timezone);
      if (month === null) throw apiError("VALIDATION_FAILED", `"${request.params.month}" is not a month of 2000–2099 (YYYY-MM)`);
      const lang = reportLang(request.query.lang, request.headers["accept-language"]);
      const report = await reports.build(scope.narrow(site.site.id), site, month, lang, now());
      return reply.type("text/html; charset=utf-8").header("content-language", lang).send(renderReport(report));
    },
  );
});
