// `campus-power notify-test ROUTE`: sends one sample message (a test overload on a device of the route's
// school) to one route of `notify:` and prints the receiver's answer, so a deployer can check a robot or a
// mail server before an emergency. ROUTE is the route's position in `notify:` (0 = the first) or its `name`
// (an extension of CONTRACT §14). Exit 0 when the vendor or SMTP server accepted it; 1 on a refusal (HTTP 200
// with a non-zero errcode/code, an SMTP error), an HTTP error or no answer. The secret comes from the variable
// the route names, the mail server from SMTP_URL and SMTP_FROM; neither is ever printed.
import { sendEmail, SmtpFailure, smtpServer } from "../alerts/notify/email-channel.js";
import { emailMessage } from "../alerts/notify/email-text.js";
import { notificationLink, placeOf } from "../alerts/notify/index.js";
import { postToRobot, robotMessage } from "../alerts/notify/robot-channel.js";
import { sign } from "../alerts/notify/webhook.js";
import { redactUrl } from "../alerts/notify/robots/robot.js";
import type { Alert } from "../domain/alert.js";
import type { Campus } from "../domain/campus.js";
import type { NotifyRoute } from "../domain/district/schema.js";
import { readEnv } from "../domain/env.js";
import { smtpSettingsOf } from "../domain/env-alerts.js";
import type { Problem } from "../domain/errors.js";
import { loadCampus } from "../infra/campus-file.js";
import { UsageError } from "./runtime.js";
import { postJson } from "../alerts/notify/post-json.js";

const TIMEOUT_MS = 10_000;

/** The route ROUTE names: an index into `notify:` or a route's `name`. */
export function findRoute(routes: readonly NotifyRoute[], which: string): { route: NotifyRoute; index: number } {
  const index = /^\d+$/.test(which) ? Number(which) : routes.findIndex((r) => r.name === which);
  const route = routes[index];
  if (route === undefined) {
    const names = routes.map((r, i) => (r.name ? `${i} (${r.name})` : String(i))).join(", ");
    throw new UsageError(`no notification route "${which}": the file has ${routes.length === 0 ? "none" : names}`);
  }
  return { route, index };
}

/** A sample alert on a device of the route's school (any school's when the route has none). */
function sampleAlert(campus: Campus, route: NotifyRoute, nowMs: number): Alert {
  const device = campus.devices.find((d) => route.site === undefined || d.site === route.site) ?? campus.devices[0];
  if (!device) throw new UsageError("the campus file has no device to describe in a sample message");
  const rating = device.rating_a ?? 16;
  const at = new Date(nowMs).toISOString();
  return {
    id: `notify-test-${nowMs}`, rule: "overload", device: device.id, building: device.building, site: device.site,
    ...(device.room ? { room: device.room } : {}), severity: "major", state: "firing", value: rating * 1.2, threshold: rating,
    message: "notify-test: a sample message, not a real alert", started_at: at, updated_at: at,
  };
}

export async function notifyTestCommand(which: string, environment: NodeJS.ProcessEnv): Promise<number> {
  const env = readEnv(environment);
  const campus = loadCampus(env.campusConfig);
  const { route, index } = findRoute(campus.notify, which);
  const type = route.type ?? "webhook";
  const now = Date.now();
  const alert = sampleAlert(campus, route, now);
  const text = { publicUrl: notificationLink(environment, env.httpPort), place: placeOf(campus) };
  if (type === "email") return emailTest(route, index, alert, text, environment);
  const secret = route.secret_env === undefined ? undefined : environment[route.secret_env];
  if (route.secret_env !== undefined && !secret) throw new UsageError(`${route.secret_env} is not set: notify[${index}] signs its messages with it`);
  const where = redactUrl(route.url!);
  process.stdout.write(`notify[${index}]${route.name ? ` (${route.name})` : ""}: ${type} at ${where}\n`);
  if (type === "webhook") {
    const body = JSON.stringify({ event: "opened", alert, test: true });
    const response = await postJson(route.url!, body, { "x-campus-signature": sign(body, secret!), "x-campus-delivery": alert.id }, TIMEOUT_MS);
    process.stdout.write(`answer: HTTP ${response.status} ${response.text.slice(0, 500)}\n`);
    return response.ok ? 0 : 1;
  }
  const robot = { type, url: route.url!, secret, lang: route.lang ?? "zh-CN", mentions: route.mention_mobiles ?? [] } as const;
  const message = robotMessage(robot, [{ event: "opened", alert }], text);
  const answer = await postToRobot(robot, { ...message, title: testTitle(robot.lang, message.title) }, now, TIMEOUT_MS);
  process.stdout.write(`answer: HTTP ${answer.status}, ${type === "feishu" ? "code" : "errcode"} ${answer.code ?? "(none)"}: ${answer.message}\n`);
  process.stdout.write(answer.ok ? "delivered\n" : "refused by the vendor\n");
  return answer.ok ? 0 : 1;
}

const testTitle = (lang: "zh-CN" | "en", title: string) => `${lang === "en" ? "[Test] " : "【测试】"}${title}`;

/** The sample as a mail through SMTP_URL: the server's reply printed (never the URL's user info). */
async function emailTest(route: NotifyRoute, index: number, alert: Alert, text: Parameters<typeof emailMessage>[2], environment: NodeJS.ProcessEnv): Promise<number> {
  const problems: Problem[] = [];
  const smtp = smtpSettingsOf(environment, [index], problems);
  if (smtp === null) throw new UsageError(problems.map((p) => `${p.path} ${p.message}`).join("; "));
  const lang = route.lang ?? "zh-CN";
  process.stdout.write(`notify[${index}]${route.name ? ` (${route.name})` : ""}: email to ${route.to!.join(", ")} through ${smtpServer(smtp.url)}\n`);
  const message = emailMessage({ items: [{ event: "opened", alert }] }, lang, text);
  try {
    const reply = await sendEmail(smtp, route.to!, { ...message, subject: testTitle(lang, message.subject) }, TIMEOUT_MS);
    process.stdout.write(`answer: ${reply}\ndelivered\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof SmtpFailure)) throw error;
    process.stdout.write(`answer: ${error.smtpCode ?? "no code"}: ${error.response ?? error.message}\nrefused by the mail server\n`);
    return 1;
  }
}
