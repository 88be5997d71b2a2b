// Notification routes in the file (CONTRACT §14), pure: check-config lists every problem of `notify:` in a
// deployer's words, in a district file and in a campus file; the start refuses a route whose secret variable
// is unset (naming the variable, never a value) and, for now, an e-mail route; the old `{site, url,
// secret_env}` route is still a school webhook, and each route gets only the alerts it wants.
import { describe, expect, it } from "vitest";
import { targetsOf, wants, webhookTargets } from "../../../alerts/notify/routes.js";
import type { Alert } from "../../../domain/alert.js";
import { parseConfigText, type ReadSiteFile } from "../../../domain/district/parse.js";
import { CampusError } from "../../../domain/errors.js";

const campus = (id: string, notify = "") => `site: { id: ${id}, name: School ${id}, timezone: Asia/Shanghai }
buildings: [ { id: b-${id}, name: B, kind: classroom } ]
devices: [ { id: d-${id}, kind: breaker, building: b-${id}, rating_a: 16 } ]
${notify}`;
const none: ReadSiteFile = () => ({ ok: false, message: "no such file" });
const problemsOf = (text: string) => {
  const result = parseConfigText(text, "file.yaml", none);
  return result.ok ? [] : result.problems;
};

const BAD_ROUTES = `notify:
  - { type: slack, url: "https://hooks.example/x" }
  - { type: dingtalk, secret_env: DT_SECRET }
  - { type: wecom, url: "https://qyapi.example/cgi-bin/webhook/send?key=k", mention_mobiles: ["13800138000", "12345", "+8613800138000"] }
  - { type: feishu, url: "https://open.example/open-apis/bot/v2/hook/h", site: nowhere, min_severity: urgent, rules: [overload, overheat], lang: fr, digest: "25:00" }
  - { type: email }
  - { url: "https://hooks.example/y" }
  - { type: dingtalk, url: "ftp://x", secret_env: "1BAD", colour: red }
`;
const EXPECTED = [
  { path: "notify[0].type", message: 'unknown type "slack": one of "webhook", "dingtalk", "wecom", "feishu", "email"' },
  { path: "notify[1].url", message: "is required for a dingtalk route" },
  { path: "notify[2].mention_mobiles[1]", message: '"12345" is not a mobile number (11 digits starting with 1)' },
  { path: "notify[2].mention_mobiles[2]", message: '"+8613800138000" is not a mobile number (11 digits starting with 1)' },
  { path: "notify[3].min_severity", message: 'unknown severity "urgent": one of "critical", "major", "minor", "warning", "info"' },
  { path: "notify[3].lang", message: 'unknown language "fr": one of "zh-CN", "en"' },
  { path: "notify[3].digest", message: '"25:00" is not a time of day "HH:MM" (24-hour)' },
  { path: "notify[3].rules[1]", message: expect.stringMatching(/^unknown rule id "overheat": one of "overload", /) },
  { path: "notify[3].site", message: 'unknown site "nowhere"' },
  { path: "notify[4].to", message: "is required for an email route (the addresses to write to)" },
  { path: "notify[5].secret_env", message: "is required for a webhook route (its messages are signed with that secret)" },
  { path: "notify[6].colour", message: "unknown key" },
  { path: "notify[6].url", message: '"ftp://x" is not an http:// or https:// address' },
  { path: "notify[6].secret_env", message: '"1BAD" is not an environment variable\'s name (the secret itself never goes in the file)' },
];

describe("notify: in the file", () => {
  it("lists every problem of a campus file's routes, in words, each at its path", () => {
    expect(problemsOf(campus("a", BAD_ROUTES))).toEqual(EXPECTED);
  });

  it("lists the same problems in a district file, with the file's name", () => {
    const district = `district: { id: d, name: D }\nsites:\n  - { site: { id: a, name: A, timezone: Asia/Shanghai }, buildings: [ { id: b, name: B, kind: office } ], devices: [] }\n${BAD_ROUTES}`;
    expect(problemsOf(district)).toEqual(EXPECTED.map((p) => ({ ...p, path: `file.yaml: ${p.path}` })));
  });

  it("accepts every kind of route, the §9 school webhook among them", () => {
    const good = `notify:
  - { site: a, url: "https://im.example/hook", secret_env: A_HOOK_SECRET }
  - { type: dingtalk, name: duty, url: "https://oapi.example/robot/send?access_token=t", secret_env: DT_SECRET, mention_mobiles: ["13800138000"], min_severity: major }
  - { type: wecom, url: "https://qyapi.example/cgi-bin/webhook/send?key=k", rules: [overload, leakage], lang: en }
  - { type: feishu, url: "https://open.example/open-apis/bot/v2/hook/h", digest: "07:30" }
  - { type: email, to: ["duty@school.example"] }`;
    expect(problemsOf(campus("a", good))).toEqual([]);
    // A campus file's routes reach the deployment like a district file's, each a school route of its own site.
    const parsed = parseConfigText(campus("a", good), "file.yaml", none);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    expect(parsed.campus.notify.map((r) => r.type ?? "webhook")).toEqual(["webhook", "dingtalk", "wecom", "feishu", "email"]);
    expect(parsed.campus.notify[1]).toMatchObject({ name: "duty", secret_env: "DT_SECRET", mention_mobiles: ["13800138000"] });
  });

  it("names a route's second use of a name", () => {
    expect(problemsOf(campus("a", `notify:\n  - { type: wecom, name: duty, url: "https://x.example/a" }\n  - { type: wecom, name: duty, url: "https://x.example/b" }`))).toEqual([
      { path: "notify[1].name", message: '"duty" is already the name of notify[0]' },
    ]);
  });
});

const alert = (over: Partial<Alert>): Alert => ({ id: "x", rule: "overload", device: "d", building: "b", site: "a", severity: "major", state: "firing", value: 20, threshold: 16, message: "", started_at: "", updated_at: "", ...over });

describe("notify: at start", () => {
  it("refuses robots whose secret variable is unset and e-mail routes without SMTP_URL and SMTP_FROM, naming the variables and never a value", () => {
    let error: unknown;
    try {
      webhookTargets(null, [
        { type: "dingtalk", url: "https://oapi.example/robot/send?access_token=t", secret_env: "DT_SECRET" },
        { type: "email", to: ["duty@school.example"] },
        { type: "feishu", url: "https://open.example/open-apis/bot/v2/hook/h", secret_env: "FS_SECRET" },
      ], { FS_SECRET: "feishu-secret" });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(CampusError);
    // (E-mail routes were refused here as "not built yet" until issue 17 item 3; now they need the mail server.)
    expect((error as CampusError).problems).toEqual([
      { path: "SMTP_URL", message: "is not set: notify[1] (email) sends through it" },
      { path: "SMTP_FROM", message: "is not set: notify[1] (email) sends from it" },
      { path: "DT_SECRET", message: "is not set: notify[0] (dingtalk) signs its messages with it" },
    ]);
    expect(JSON.stringify(error)).not.toContain("feishu-secret");
  });

  it("sends a school's messages to its robots besides its webhook, and each robot only what it wants", () => {
    const targets = webhookTargets(null, [
      { site: "a", url: "https://im.example/hook", secret_env: "A_SECRET" },
      { type: "dingtalk", name: "duty", url: "https://oapi.example/robot/send?access_token=t", site: "a", min_severity: "major" },
      { type: "wecom", url: "https://qyapi.example/cgi-bin/webhook/send?key=k", rules: ["leakage"] },
    ], { A_SECRET: "s" });
    expect(targetsOf({ target: "primary", site: "a" }, targets)).toEqual(["site:a", "duty", "wecom@2"]);
    expect(targetsOf({ target: "primary", site: "b" }, targets)).toEqual(["wecom@2"]);
    expect(targets.robots.duty).toEqual({ type: "dingtalk", url: "https://oapi.example/robot/send?access_token=t", secret: undefined, lang: "zh-CN", mentions: [] });
    const duty = targets.alongside.get("duty")!;
    expect([wants(duty, alert({ severity: "critical" })), wants(duty, alert({ severity: "major" })), wants(duty, alert({ severity: "minor" })), wants(duty, alert({ site: "b" }))]).toEqual([true, true, false, false]);
    const leakageOnly = targets.alongside.get("wecom@2")!;
    expect([wants(leakageOnly, alert({ rule: "leakage" })), wants(leakageOnly, alert({ rule: "overload" }))]).toEqual([true, false]);
  });
});
