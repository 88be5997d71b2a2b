// The failed-authentication limiter with a count every instance shares (api/auth-limiter.ts `shared`): two
// limiters over one count, as two API instances over Redis (api/ha/redis-failures.ts), get one allowance
// between them. The shared count here is a plain Map: the Redis one is tested in tests/integration/ha-api.test.ts.
import { describe, expect, it } from "vitest";
import { FailedAuthLimiter, type SharedFailureCount } from "../../../api/auth-limiter.js";

/** One window per key, as the Redis count keeps it (the first failure starts it). */
function sharedCount(): SharedFailureCount & { fail: boolean } {
  const counts = new Map<string, number>();
  return {
    fail: false,
    async count(key) {
      if (this.fail) throw new Error("Redis away");
      counts.set(key, (counts.get(key) ?? 0) + 1);
      return counts.get(key)!;
    },
  };
}
const settled = () => new Promise((resolve) => setImmediate(resolve));
const limits = { maxFailures: 4, windowMs: 60_000, maxAddresses: 100 };

describe("the failed-authentication limiter shared by several instances", () => {
  it("blocks an address on both instances once their failures together reach the limit", async () => {
    const shared = sharedCount();
    const [one, two] = [new FailedAuthLimiter(limits, shared), new FailedAuthLimiter(limits, shared)];
    for (let i = 0; i < 4; i++) {
      (i % 2 === 0 ? one : two).fail("10.0.0.1", 1_000 + i);
      await settled();
    }
    // The fourth failure (on two) reached the limit: two blocks at once; one blocks at its own next failure.
    expect(two.blockedForMs("10.0.0.1", 1_010)).toBeGreaterThan(0);
    expect(one.blockedForMs("10.0.0.1", 1_010)).toBe(0);
    one.fail("10.0.0.1", 1_011);
    await settled();
    expect(one.blockedForMs("10.0.0.1", 1_011)).toBe(60_000);
    expect(two.blockedForMs("10.0.0.2", 1_011)).toBe(0); // per address
  });

  it("still limits each instance on its own count while the shared count cannot be reached", async () => {
    const shared = sharedCount();
    shared.fail = true;
    const limiter = new FailedAuthLimiter(limits, shared);
    for (let i = 0; i < 4; i++) limiter.fail("10.0.0.1", i);
    await settled();
    expect(limiter.blockedForMs("10.0.0.1", 4)).toBe(60_000 - 1);
  });
});
