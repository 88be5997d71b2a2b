// bench:district's dashboard figure: how long a district admin waits, in headless Chromium (as
// tests/browser runs it), from navigating to the dashboard until every school's tile is drawn (the district
// view, #view-district a.tile, CONTRACT §9 "Dashboard"). A dashboard without that view is measured to its
// first rendered device list instead, and the answer says so. Cold: a fresh profile; warm: a reload.
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "../../tests/helpers/chromium.js";

const TILES = "#view-district a.tile";
const DEVICE_ROWS = "#tree li.device";
const TIMEOUT_MS = 120_000;

export interface DashboardLoad {
  /** What was waited for: every school's tile, or (no district view yet) the first device row. */
  measured: "school tiles" | "first device list";
  coldMs: number;
  warmMs: number;
}

/** Opens `${httpUrl}/#token=…` (the link `up --demo` prints) and times it to the district view, twice. */
export async function measureDashboardLoad(httpUrl: string, token: string, schools: number): Promise<DashboardLoad> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
  try {
    const page = await browser.newPage({ viewport: { width: 1920, height: 1080 }, locale: "en-US" });
    let measured: DashboardLoad["measured"] = "school tiles";
    const load = async (navigate: () => Promise<unknown>) => {
      const started = performance.now();
      await navigate();
      if ((await page.locator("#view-district").count()) === 0) measured = "first device list";
      if (measured === "school tiles") {
        // A locator, not a waitForFunction string: the dashboard's Content-Security-Policy (script-src 'self') refuses eval.
        await page.locator(TILES).nth(schools - 1).waitFor({ timeout: TIMEOUT_MS });
      } else await page.locator(DEVICE_ROWS).first().waitFor({ timeout: TIMEOUT_MS });
      return performance.now() - started;
    };
    const coldMs = await load(() => page.goto(`${httpUrl}/#token=${token}`, { waitUntil: "domcontentloaded" }));
    const warmMs = await load(() => page.reload({ waitUntil: "domcontentloaded" }));
    return { measured, coldMs, warmMs };
  } finally {
    await browser.close();
  }
}
