// Stack traces on the TypeScript source's files and lines, for the bin's compiled build (bin/compiled.js).
// Node's own switch (process.setSourceMapsEnabled, --enable-source-maps) reads the map of every module as it loads,
// ours and every dependency's, and keeps them all: 7 MB of heap in each of `up`'s two threads, for maps that
// most processes never use. Here a build file's map is read the first time a stack shows one of its frames, with
// Node's own parser (module.SourceMap), and kept for the next stack. Frames outside the build (node's, the
// dependencies') are printed as V8 prints them.
import { readFileSync, realpathSync } from "node:fs";
import { SourceMap } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

/**
 * Maps the frames of every stack formatted from now on in this thread whose file is under `root` (a file: URL
 * of a folder), by the path given or the real one (Node's loader names a module by its real path).
 */
export function mapStacksUnder(root) {
  const folder = (url) => (url.endsWith("/") ? url : `${url}/`);
  const prefixes = [folder(root.href)];
  try {
    prefixes.push(folder(pathToFileURL(realpathSync(fileURLToPath(root))).href));
  } catch {
    // not there (yet): the path as given
  }
  const maps = new Map(); // file URL → SourceMap, or null when it has none

  const mapOf = (file) => {
    if (!maps.has(file)) {
      let map = null;
      try {
        map = new SourceMap(JSON.parse(readFileSync(new URL(`${file}.map`), "utf8")));
      } catch {
        // no map beside it, or not readable: printed as it is
      }
      maps.set(file, map);
    }
    return maps.get(file);
  };

  const frameText = (frame) => {
    const text = String(frame);
    const file = frame.getFileName();
    const line = frame.getLineNumber();
    const column = frame.getColumnNumber();
    if (!file || !prefixes.some((prefix) => file.startsWith(prefix)) || line === null || column === null) return text;
    const entry = mapOf(file)?.findEntry(line - 1, column - 1);
    if (!entry?.originalSource) return text;
    const source = new URL(entry.originalSource, file).href;
    return text.replace(`${file}:${line}:${column}`, `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`);
  };

  Error.prepareStackTrace = (error, frames) => {
    let header;
    try {
      header = Error.prototype.toString.call(error);
    } catch {
      header = "<error>";
    }
    return frames.length === 0 ? header : `${header}\n    at ${frames.map(frameText).join("\n    at ")}`;
  };
}
