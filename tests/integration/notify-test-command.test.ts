// `campus-power notify-test ROUTE` as a deployer runs it (the real command in a child process) against local
// robots that check signatures as their vendors do (tests/helpers/robots/): it sends one sample message to
// the one route named, prints the vendor's answer, exits 0 when accepted and 1 when refused, and never
// prints the secret or the robot's token.
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, startCli } from "../helpers/cli.js";
import { startDingtalk } from "../helpers/robots/dingtalk.js";
import { startFeishu } from "../helpers/robots/feishu.js";
import type { Receiver } from "../helpers/robots/receiver.js";
import { type MailServer, parseMail, startMailServer } from "../helpers/smtp.js";

const dir = mkdtempSync(join(tmpdir(), "campus-power-notify-test-"));
const SECRET = "SEC-robot-secret-for-notify-test";
let dingtalk: Receiver;
let feishu: Receiver;
let mail: MailServer;
const MAIL_PASSWORD = "mail-password-for-notify-test";
let env: NodeJS.ProcessEnv;

/** Runs the command to its end without blocking this process (the receivers answer from it). */
async function notifyTest(args: string[], extra: NodeJS.ProcessEnv = {}) {
  const cli = startCli(["notify-test", ...args], { ...env, ...extra });
  const [code] = (await once(cli.child, "exit")) as [number | null];
  return { code, output: cli.output() };
}

beforeAll(async () => {
  dingtalk = await startDingtalk({ token: "dt-token", secret: SECRET });
  feishu = await startFeishu({ hook: "fs-hook" });
  mail = await startMailServer({ user: "alerts", password: MAIL_PASSWORD });
  writeFileSync(join(dir, "campus.yaml"), `site: { id: east, name: 东区实验学校, timezone: Asia/Shanghai }
buildings: [ { id: lab-1, name: 实验楼1号, kind: lab } ]
devices: [ { id: brk-1, kind: breaker, building: lab-1, room: "101", rating_a: 16 } ]
`);
  writeFileSync(join(dir, "district.yaml"), `district: { id: d, name: D }
sites: [ campus.yaml ]
notify:
  - { type: dingtalk, name: duty, url: "${dingtalk.origin}/robot/send?access_token=dt-token", secret_env: DT_SECRET, mention_mobiles: ["13800138000"] }
  - { type: feishu, url: "${feishu.origin}/open-apis/bot/v2/hook/fs-hook", lang: en }
  - { type: email, name: mail, to: [duty@school.example] }
`);
  env = { CAMPUS_CONFIG: join(dir, "district.yaml"), DATA_DIR: join(dir, "data"), LOG_LEVEL: "silent", PUBLIC_URL: "https://campus.example" };
});

afterAll(async () => {
  await Promise.all([dingtalk?.close(), feishu?.close(), mail?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe("campus-power notify-test", () => {
  it("sends a sample to the route named, prints the vendor's answer and exits 0", async () => {
    const { code, output } = await notifyTest(["duty"], { DT_SECRET: SECRET });
    expect(output).toContain("errcode 0: ok");
    expect(code).toBe(0);
    const [sample] = dingtalk.accepted();
    expect((sample!.body.markdown as { title: string }).title).toMatch(/^【测试】【严重】过载/);
    expect((sample!.body.markdown as { text: string }).text).toContain("https://campus.example/#/device/brk-1");
    expect(output).not.toContain(SECRET);
    expect(output).not.toContain("dt-token");
  });

  it("takes the route's position in notify: too", async () => {
    const { code, output } = await notifyTest(["1"]);
    expect(output).toContain("code 0: success");
    expect(code).toBe(0);
    expect(feishu.accepted()).toHaveLength(1);
  });

  it("prints the vendor's refusal of a wrong secret and exits 1", async () => {
    const { code, output } = await notifyTest(["duty"], { DT_SECRET: "SEC-a-wrong-secret" });
    expect(output).toContain("errcode 310000: sign not match");
    expect(code).toBe(1);
    expect(dingtalk.refused()).toHaveLength(1);
    expect(output).not.toContain("SEC-a-wrong-secret");
  });

  it("sends a sample mail to an e-mail route through SMTP_URL, prints the server's reply, and its refusal of a wrong password", async () => {
    const smtp = (password: string) => ({ SMTP_URL: `smtp://alerts:${password}@127.0.0.1:${mail.port}`, SMTP_FROM: "alerts@school.example" });
    const sent = await notifyTest(["mail"], smtp(MAIL_PASSWORD));
    expect(sent.output).toContain(`notify[2] (mail): email to duty@school.example through 127.0.0.1:${mail.port}`);
    expect(sent.output).toMatch(/answer: 250 .*\ndelivered/);
    expect(sent.code).toBe(0);
    expect(parseMail(mail.received[0]!.raw).headers.subject).toBe("【测试】【严重】过载 · 新告警 · 东区实验学校 / 实验楼1号 101室");
    const refused = await notifyTest(["mail"], smtp("a-wrong-mail-password"));
    expect(refused.output).toContain("answer: EAUTH: 535");
    expect(refused.output).toContain("refused by the mail server");
    expect(refused.code).toBe(1);
    for (const output of [sent.output, refused.output]) for (const secret of [MAIL_PASSWORD, "a-wrong-mail-password"]) expect(output).not.toContain(secret);
    const missing = runCli(["notify-test", "mail"], env);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("SMTP_URL is not set: notify[2] (email) sends through it");
  });

  it("check-config lists SMTP_URL and SMTP_FROM for an e-mail route, never printing a bad URL, and passes with both", () => {
    const file = join(dir, "district.yaml");
    const unset = runCli(["check-config", file], { ...env, SMTP_URL: "", SMTP_FROM: "" });
    expect(unset.status).toBe(1);
    expect(unset.stdout).toContain("2 problems in the environment");
    expect(unset.stdout).toMatch(/SMTP_URL[^\n]*\n[\s\S]*SMTP_FROM/);
    const bad = runCli(["check-config", file], { ...env, SMTP_URL: "ftp://alerts:hunter2-secret@mail.example", SMTP_FROM: "alerts@school.example" });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain("SMTP_URL");
    expect(bad.stdout).not.toContain("hunter2-secret");
    const good = runCli(["check-config", file], { ...env, SMTP_URL: `smtp://alerts:${MAIL_PASSWORD}@127.0.0.1:${mail.port}`, SMTP_FROM: "alerts@school.example" });
    expect(good.stdout).toContain("valid");
    expect(good.status).toBe(0);
  });

  it("names an unknown route and the routes there are; has --help", () => {
    const unknown = runCli(["notify-test", "pager"], env);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('no notification route "pager": the file has 0 (duty), 1, 2 (mail)');
    const help = runCli(["notify-test", "--help"], env);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("Usage: campus-power notify-test ROUTE");
  });
});
