// `npm run docs:env`: writes the README's environment table from the one environment schema
// (domain/env/variables.ts, domain/env-alerts.ts); tests/unit/domain/env-docs.test.ts fails until it is run.
import { readFileSync, writeFileSync } from "node:fs";
import { renderEnvTable, withEnvTable } from "../domain/env/docs.js";

const readme = new URL("../README.md", import.meta.url);
writeFileSync(readme, withEnvTable(readFileSync(readme, "utf8"), renderEnvTable()));
process.stdout.write("README.md: environment table written\n");
