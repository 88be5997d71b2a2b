import { describe, expect, it } from "vitest";
import { alertsYoungGenerationMb } from "../../../cli/alerts-heap.js";

describe("the alerts thread's young generation", () => {
  it("is 4 MB semi-spaces (12 MB in all) for a school of up to 1,000 devices, the demo's few included", () => {
    expect(alertsYoungGenerationMb(0)).toBe(12);
    expect(alertsYoungGenerationMb(10)).toBe(12);
    expect(alertsYoungGenerationMb(1_000)).toBe(12);
  });

  it("is V8's own default above 1,000 devices (2,000 were slower at 8 MB, a district's 20,000 by a third at 4 MB)", () => {
    expect(alertsYoungGenerationMb(1_001)).toBeUndefined();
    expect(alertsYoungGenerationMb(2_000)).toBeUndefined();
    expect(alertsYoungGenerationMb(20_000)).toBeUndefined();
  });
});
