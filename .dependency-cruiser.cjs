// The boundaries of docs/architecture.md, checked rather than hoped for (`npm run check:deps`, run by CI
// before the tests). Services meet only over MQTT and InfluxDB; the domain is pure; nothing imports in a cycle.
const SERVICES = "(broker|ingest|alerts|api|simulator)";
/** Node built-ins and packages that do I/O: the domain may use none of them. */
const IO = [
  "^node:(fs|fs/promises|net|http|https|http2|tls|dgram|dns|child_process|cluster|worker_threads|readline|stream)$",
  "^(fs|fs/promises|net|http|https|http2|tls|dgram|dns|child_process|cluster|worker_threads|readline)$",
  "^(mqtt|aedes|aedes-.*|mqemitter|fastify|@fastify/.*|ws|pino|prom-client|playwright-core)$",
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-service-imports-another",
      comment: "A service imports domain/, infra/ and libraries, never another service: only cli/ composes them.",
      severity: "error",
      from: { path: `^${SERVICES}/` },
      to: { path: `^${SERVICES}/`, pathNot: "^$1/" },
    },
    {
      name: "domain-imports-no-service-or-infra",
      comment: "domain/ is the pure core every service shares.",
      severity: "error",
      from: { path: "^domain/" },
      to: { path: `^(${SERVICES.slice(1, -1)}|infra|cli)/` },
    },
    {
      name: "domain-does-no-io",
      comment: "domain/ takes time and data as parameters; reading files, sockets and logs belongs to infra/ and the services.",
      severity: "error",
      from: { path: "^domain/" },
      to: { path: IO },
    },
    {
      name: "infra-imports-no-service",
      comment: "infra/ holds adapters every service may use; it knows no service.",
      severity: "error",
      from: { path: "^infra/" },
      to: { path: `^(${SERVICES.slice(1, -1)}|cli)/` },
    },
    {
      name: "no-cycles",
      comment: "A cycle is a missing module (STYLE.md).",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|data|\\.tmp)/" },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"], extensions: [".ts", ".js", ".mjs", ".json"] },
    moduleSystems: ["es6", "cjs"],
  },
};
