// Headless Chromium as every browser test (and bench:district's dashboard timing) starts it: Debian's
// /usr/bin/chromium (.ci/run installs it), no sandbox (CI runs as root), nothing that reaches the network by itself.
import { type BrowserContext, chromium } from "playwright-core";

export const CHROMIUM_PATH = "/usr/bin/chromium";
export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

type ContextOptions = NonNullable<Parameters<typeof chromium.launchPersistentContext>[1]>;

/** A persistent context in `profileDir` (en-US unless said); `args` are added to CHROMIUM_ARGS. */
export function launchChromium(profileDir: string, options: Omit<ContextOptions, "executablePath" | "headless"> = {}): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, { locale: "en-US", ...options, executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS, ...(options.args ?? [])] });
}
