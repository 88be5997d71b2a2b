import { describe, expect, it } from "vitest";
import { planSegments, splitAtStale } from "../../../api/history-source.js";
import { bucketStart } from "../../../api/time.js";

const HOUR = 3_600_000;
const at = (iso: string) => Date.parse(iso);
const NOW = at("2026-11-29T10:30:00Z");
const BOTH = new Set(["rollup_1h", "rollup_1m"]);

describe("rollups only where they are complete", () => {
  it("reads the hours late points made stale from raw points, the rest of the old part from the rollup", () => {
    const stale = [at("2026-11-28T03:00:00Z"), at("2026-11-28T04:00:00Z"), at("2026-11-29T01:00:00Z")];
    const segments = planSegments({ fromMs: at("2026-11-28T00:00:00Z"), toMs: NOW }, HOUR, BOTH, NOW, undefined, stale);
    expect(segments).toEqual([
      { rp: "rollup_1h", fromMs: at("2026-11-28T00:00:00Z"), toMs: at("2026-11-28T03:00:00Z") },
      { rp: "raw", fromMs: at("2026-11-28T03:00:00Z"), toMs: at("2026-11-28T05:00:00Z") },
      { rp: "rollup_1h", fromMs: at("2026-11-28T05:00:00Z"), toMs: at("2026-11-29T01:00:00Z") },
      { rp: "raw", fromMs: at("2026-11-29T01:00:00Z"), toMs: at("2026-11-29T02:00:00Z") },
      { rp: "rollup_1h", fromMs: at("2026-11-29T02:00:00Z"), toMs: at("2026-11-29T09:00:00Z") },
      { rp: "raw", fromMs: at("2026-11-29T09:00:00Z"), toMs: NOW },
    ]);
    // Nothing stale: as before, the rollup then raw points for the newest hours.
    expect(planSegments({ fromMs: at("2026-11-28T00:00:00Z"), toMs: NOW }, HOUR, BOTH, NOW).map((s) => s.rp)).toEqual(["rollup_1h", "raw"]);
  });

  it("widens a stale hour to whole buckets, so no bucket is split between a rollup and raw points", () => {
    const zone = "Asia/Shanghai";
    const day = (ms: number) => bucketStart(ms, "1d", zone);
    const stale = [at("2026-11-20T05:00:00Z")]; // 13:00 in Shanghai
    const { fresh, stale: raw } = splitAtStale({ fromMs: at("2026-11-17T16:00:00Z"), toMs: at("2026-11-24T16:00:00Z") }, stale, 24 * HOUR, day);
    expect(raw).toEqual([{ fromMs: at("2026-11-19T16:00:00Z"), toMs: at("2026-11-20T16:00:00Z") }]); // that local day, whole
    expect(fresh).toEqual([
      { fromMs: at("2026-11-17T16:00:00Z"), toMs: at("2026-11-19T16:00:00Z") },
      { fromMs: at("2026-11-20T16:00:00Z"), toMs: at("2026-11-24T16:00:00Z") },
    ]);
    // Hours outside the range change nothing; stale hours side by side make one raw part.
    expect(splitAtStale({ fromMs: 10 * HOUR, toMs: 20 * HOUR }, [2 * HOUR, 12 * HOUR, 13 * HOUR, 30 * HOUR], HOUR)).toEqual({
      fresh: [{ fromMs: 10 * HOUR, toMs: 12 * HOUR }, { fromMs: 14 * HOUR, toMs: 20 * HOUR }],
      stale: [{ fromMs: 12 * HOUR, toMs: 14 * HOUR }],
    });
  });
});
