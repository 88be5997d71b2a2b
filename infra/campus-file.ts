// Reading a campus file from disk: the I/O half of domain/campus.ts, which only parses and checks text.
import { readFileSync } from "node:fs";
import { type Campus, parseCampusText } from "../domain/campus.js";
import { CampusError, ErrorCodes } from "../domain/errors.js";

/** Reads, parses and validates a campus file; throws a CampusError listing every problem. */
export function loadCampus(file: string): Campus {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new CampusError(ErrorCodes.CONFIG_INVALID, `cannot read campus file ${file}`, [{ path: "CAMPUS_CONFIG", message: (error as Error).message }]);
  }
  const result = parseCampusText(text);
  if (!result.ok) {
    throw new CampusError(ErrorCodes.CONFIG_INVALID, `campus file ${file} is invalid`, result.problems);
  }
  return result.campus;
}
