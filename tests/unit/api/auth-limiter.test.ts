import { describe, expect, it } from "vitest";
import { FailedAuthLimiter } from "../../../api/auth-limiter.js";

describe("the failed-authentication limiter", () => {
  it("blocks an address after too many wrong tokens within the window, for one window", () => {
    const limiter = new FailedAuthLimiter({ maxFailures: 3, windowMs: 60_000, maxAddresses: 100 });
    limiter.fail("10.0.0.1", 0);
    limiter.fail("10.0.0.1", 1_000);
    expect(limiter.blockedForMs("10.0.0.1", 1_000)).toBe(0);
    limiter.fail("10.0.0.1", 2_000);
    expect(limiter.blockedForMs("10.0.0.1", 2_000)).toBe(60_000);
    expect(limiter.blockedForMs("10.0.0.2", 2_000)).toBe(0); // per address
    expect(limiter.blockedForMs("10.0.0.1", 62_000)).toBe(0);
  });

  it("starts counting afresh when failures are spread over more than a window", () => {
    const limiter = new FailedAuthLimiter({ maxFailures: 3, windowMs: 1_000, maxAddresses: 100 });
    for (let t = 0; t < 10_000; t += 600) limiter.fail("a", t);
    expect(limiter.blockedForMs("a", 10_000)).toBe(0);
  });

  it("keeps memory bounded when many addresses fail", () => {
    const limiter = new FailedAuthLimiter({ maxFailures: 3, windowMs: 1_000, maxAddresses: 50 });
    for (let i = 0; i < 1_000; i++) limiter.fail(`10.0.${i >> 8}.${i & 255}`, i);
    expect(limiter.size).toBeLessThanOrEqual(51);
  });
});
