// bench:district --notify: every school's alerts go to a DingTalk robot route of its own (CONTRACT §9, §14), as
// a district's schools would route them to their electricians' groups. The robot is a local stand-in that checks
// each request as DingTalk does (tests/helpers/robots/dingtalk.ts: token, 加签 signature, markdown body) and
// counts what it accepted; the alerts service signs with the secret named by `secret_env`.
import { DINGTALK_PATH, startDingtalk } from "../../tests/helpers/robots/dingtalk.js";

const TOKEN = "bench-district-robot-token";
const SECRET_ENV = "BENCH_DINGTALK_SECRET";
const SECRET = "SECbench-district-robot-secret-0123456789";

export interface NotifyBench {
  /** The district file's `notify:` list: one robot route per school. */
  routes: Record<string, unknown>[];
  /** What the alerts service's environment must carry (the routes' secret). */
  env: Record<string, string>;
  /** Messages the robot accepted and refused so far, and how many schools' alerts it heard of. */
  counts(): { accepted: number; refused: number; schools: number };
  close(): Promise<void>;
}

/** `schools`: each school's id and name (a message names its school by name). */
export async function startNotifyBench(schools: { id: string; name: string }[]): Promise<NotifyBench> {
  const robot = await startDingtalk({ token: TOKEN, secret: SECRET });
  const url = `${robot.origin}${DINGTALK_PATH}?access_token=${TOKEN}`;
  return {
    routes: schools.map(({ id }) => ({ type: "dingtalk", site: id, url, secret_env: SECRET_ENV, lang: "en" })),
    env: { [SECRET_ENV]: SECRET },
    counts() {
      const accepted = robot.accepted();
      const bodies = accepted.map((arrival) => JSON.stringify(arrival.body));
      const named = schools.filter(({ name }) => bodies.some((body) => body.includes(name)));
      return { accepted: accepted.length, refused: robot.refused().length, schools: named.length };
    },
    close: () => robot.close(),
  };
}
