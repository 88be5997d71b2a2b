// aedes-persistence's own conformance suite (node:test), run against the broker's persistence.
import { test } from "node:test";
import { createRequire } from "node:module";
import { indexedMemoryPersistence } from "../../../broker/persistence.js";

const require = createRequire(import.meta.url);
const abstractPersistence = require("aedes-persistence/abstract.js") as (opts: object) => void;

abstractPersistence({ test, persistence: () => indexedMemoryPersistence() });
