// Reading CAMPUS_CONFIG from disk: the I/O half of domain/district/parse.ts, which only parses and checks
// text. A campus file is a district of one; a district file's site paths are relative to it (CONTRACT §9).
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Campus, CampusResult } from "../domain/campus.js";
import { parseConfigText } from "../domain/district/parse.js";
import { CampusError, ErrorCodes } from "../domain/errors.js";

/** Reads, parses and validates a campus or district file; every problem, or the campus. */
export function readCampusConfig(file: string): CampusResult {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    return { ok: false, problems: [{ path: file, message: `cannot read: ${(error as Error).message}` }] };
  }
  return parseConfigText(text, file, (path) => {
    try {
      return { ok: true, text: readFileSync(resolve(dirname(file), path), "utf8") };
    } catch (error) {
      return { ok: false, message: (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message };
    }
  });
}

/** Reads, parses and validates a campus or district file; throws a CampusError listing every problem. */
export function loadCampus(file: string): Campus {
  const result = readCampusConfig(file);
  if (!result.ok) throw new CampusError(ErrorCodes.CONFIG_INVALID, `campus file ${file} is invalid`, result.problems);
  return result.campus;
}
