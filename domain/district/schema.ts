// The district file's shape (CONTRACT §9): a district of sites, each a campus file of §2 given by its path
// (relative to the district file) or inline, and notification routes (CONTRACT §14, also allowed in a campus
// file). A plain campus file is a district of one site; ./parse.ts tells the two apart by the top-level
// `district` key. What a route's schema cannot say (a url for a robot, a known site) is ./notify-check.ts.
import { type Static, Type as T } from "@sinclair/typebox";
import { RULE_IDS, SEVERITIES } from "../alert.js";
import { literalUnion } from "../schema.js";
import { ID_PATTERN } from "../campus/device-schema.js";

/** An environment variable's name (POSIX: letters, digits, underscore; not starting with a digit). */
const ENV_NAME_PATTERN = "^[A-Za-z_][A-Za-z0-9_]*$";
/** A mainland China mobile number: 11 digits starting with 1 (MIIT numbering plan), as the robots @-mention it. */
export const MOBILE_PATTERN = "^1[0-9]{10}$";
/** A time of day, 24-hour "HH:MM". */
export const DIGEST_TIME_PATTERN = "^([01][0-9]|2[0-3]):[0-5][0-9]$";

export const ROUTE_TYPES = ["webhook", "dingtalk", "wecom", "feishu", "email"] as const;
export type RouteType = (typeof ROUTE_TYPES)[number];
/** The group robots: 20 messages a minute each, at most (CONTRACT §14 "Rate"). */
export const ROBOT_TYPES = ["dingtalk", "wecom", "feishu"] as const;
export type RobotType = (typeof ROBOT_TYPES)[number];
export const ROUTE_LANGUAGES = ["zh-CN", "en"] as const;
export type RouteLanguage = (typeof ROUTE_LANGUAGES)[number];

export const DistrictInfoSchema = T.Object(
  {
    id: T.String({ pattern: ID_PATTERN }),
    name: T.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);

/**
 * CONTRACT §14 (and §9, whose `{site, url, secret_env}` is a webhook route): where alerts go. The secret
 * stays in the environment, in the variable named here. `name` is an extension: what `notify-test` calls it.
 */
export const NotifyRouteSchema = T.Object(
  {
    type: T.Optional(literalUnion(ROUTE_TYPES, { default: "webhook" })),
    name: T.Optional(T.String({ pattern: ID_PATTERN, description: "extension: the route's name for `campus-power notify-test`" })),
    url: T.Optional(T.String({ pattern: "^https?://", description: "the receiver or robot address as issued, http:// or https://" })),
    secret_env: T.Optional(T.String({ pattern: ENV_NAME_PATTERN, description: "the environment variable that holds the secret" })),
    to: T.Optional(T.Array(T.String({ pattern: "^[^@\\s]+@[^@\\s]+$" }), { minItems: 1 })),
    site: T.Optional(T.String({ pattern: ID_PATTERN, description: "only this site's alerts (absent: every site's)" })),
    min_severity: T.Optional(literalUnion(SEVERITIES)),
    rules: T.Optional(T.Array(literalUnion(RULE_IDS), { minItems: 1 })),
    mention_mobiles: T.Optional(T.Array(T.String({ pattern: MOBILE_PATTERN }))),
    lang: T.Optional(literalUnion(ROUTE_LANGUAGES)),
    digest: T.Optional(T.String({ pattern: DIGEST_TIME_PATTERN })),
  },
  { additionalProperties: false },
);

export const NotifyRoutesSchema = T.Array(NotifyRouteSchema);

export const DistrictSchema = T.Object(
  {
    district: DistrictInfoSchema,
    // A path (relative to the district file) or an inline campus document, which the campus schema checks.
    sites: T.Array(T.Union([T.String({ minLength: 1 }), T.Object({}, { additionalProperties: true })]), { minItems: 1 }),
    notify: T.Optional(NotifyRoutesSchema),
  },
  { additionalProperties: false },
);

export type DistrictFile = Static<typeof DistrictSchema>;
export type DistrictInfo = Static<typeof DistrictInfoSchema>;
export type NotifyRoute = Static<typeof NotifyRouteSchema>;
