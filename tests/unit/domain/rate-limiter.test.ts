import { describe, expect, it } from "vitest";
import { RateLimiter } from "../../../domain/rate-limiter.js";

describe("the refusal log rate limiter", () => {
  it("logs the first refusal of a device and holds back the rest of that minute", () => {
    const limiter = new RateLimiter(60_000);
    expect(limiter.check("brk-1", 0)).toEqual({ log: true, suppressed: 0 });
    expect(limiter.check("brk-1", 1_000).log).toBe(false);
    expect(limiter.check("brk-1", 59_999).log).toBe(false);
  });

  it("logs again after a minute and tells how many were held back", () => {
    const limiter = new RateLimiter(60_000);
    limiter.check("brk-1", 0);
    limiter.check("brk-1", 10);
    limiter.check("brk-1", 20);
    expect(limiter.check("brk-1", 60_000)).toEqual({ log: true, suppressed: 2 });
    expect(limiter.check("brk-1", 60_001)).toEqual({ log: false, suppressed: 1 });
  });

  it("limits each device on its own", () => {
    const limiter = new RateLimiter(60_000);
    expect(limiter.check("a", 0).log).toBe(true);
    expect(limiter.check("b", 1).log).toBe(true);
    expect(limiter.check("a", 2).log).toBe(false);
  });

  it("remembers a bounded number of devices", () => {
    const limiter = new RateLimiter(60_000, 3);
    for (const key of ["a", "b", "c", "d", "e"]) expect(limiter.check(key, 0).log).toBe(true);
    // "a" was forgotten to make room, so it logs again; memory stayed at 3 keys.
    expect(limiter.check("a", 1).log).toBe(true);
  });
});
