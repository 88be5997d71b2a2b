// The campus file (CONTRACT §2): one TypeBox schema (./campus/schema.ts), the checks it cannot express
// (./campus/references.ts), and YAML text → a validated, frozen `Campus` (./campus/parse.ts), with every
// problem listed (path and reason). The rest of the code imports this module.
export {
  BRIDGE_FORMATS,
  BUILDING_KINDS,
  CampusSchema,
  DEVICE_FORMATS,
  DEVICE_KINDS,
  type Bridge,
  type Building,
  type BuildingKind,
  type CampusFile,
  type Device,
  type DeviceFormat,
  type DeviceKind,
  type Schedule,
  type Site,
} from "./campus/schema.js";
export { SERVICE_USERNAME } from "./campus/references.js";
export { type Campus, type CampusResult, DEFAULT_REPORT_INTERVAL_S, parseCampusText, validateCampus } from "./campus/parse.js";
