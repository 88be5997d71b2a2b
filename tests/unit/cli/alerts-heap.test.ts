import { describe, expect, it } from "vitest";
import { alertsYoungGenerationMb } from "../../../cli/alerts-heap.js";

describe("the alerts thread's young generation", () => {
  it("is 4 MB semi-spaces (12 MB in all) for a school of up to 1,000 devices, the demo's few included", () => {
    expect(alertsYoungGenerationMb(0)).toBe(12);
    expect(alertsYoungGenerationMb(10)).toBe(12);
    expect(alertsYoungGenerationMb(1_000)).toBe(12);
  });

  it("grows by 4 MB semi-spaces per 1,000 devices more", () => {
    expect(alertsYoungGenerationMb(1_001)).toBe(24);
    expect(alertsYoungGenerationMb(2_000)).toBe(24);
    expect(alertsYoungGenerationMb(3_000)).toBe(36);
  });

  it("is V8's own default from 4,000 devices on (a district's 20,000 were slowed by a third at 4 MB)", () => {
    expect(alertsYoungGenerationMb(3_001)).toBeUndefined();
    expect(alertsYoungGenerationMb(4_000)).toBeUndefined();
    expect(alertsYoungGenerationMb(20_000)).toBeUndefined();
  });
});
