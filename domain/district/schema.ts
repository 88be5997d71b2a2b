// The district file's shape (CONTRACT §9): a district of sites, each a campus file of §2 given by its path
// (relative to the district file) or inline, and per-school notification routes. A plain campus file is a
// district of one site; ./load.ts tells the two apart by the top-level `district` key.
import { type Static, Type as T } from "@sinclair/typebox";
import { ID_PATTERN } from "../campus/device-schema.js";

/** An environment variable's name (POSIX: letters, digits, underscore; not starting with a digit). */
const ENV_NAME_PATTERN = "^[A-Za-z_][A-Za-z0-9_]*$";

export const DistrictInfoSchema = T.Object(
  {
    id: T.String({ pattern: ID_PATTERN }),
    name: T.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);

/** CONTRACT §9: a site's alerts go to its own webhook; the secret stays in the environment, named here. */
export const NotifyRouteSchema = T.Object(
  {
    site: T.String({ pattern: ID_PATTERN }),
    url: T.String({ pattern: "^https?://", description: "the school's webhook, http:// or https://" }),
    secret_env: T.String({ pattern: ENV_NAME_PATTERN, description: "the environment variable that holds the HMAC secret" }),
  },
  { additionalProperties: false },
);

export const DistrictSchema = T.Object(
  {
    district: DistrictInfoSchema,
    // A path (relative to the district file) or an inline campus document, which the campus schema checks.
    sites: T.Array(T.Union([T.String({ minLength: 1 }), T.Object({}, { additionalProperties: true })]), { minItems: 1 }),
    notify: T.Optional(T.Array(NotifyRouteSchema)),
  },
  { additionalProperties: false },
);

export type DistrictFile = Static<typeof DistrictSchema>;
export type DistrictInfo = Static<typeof DistrictInfoSchema>;
export type NotifyRoute = Static<typeof NotifyRouteSchema>;
