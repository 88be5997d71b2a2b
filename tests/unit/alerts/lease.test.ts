// The alerts lease's pure parts (alerts/lease.ts): reading the lease JSON, the renewal loop's decision, and
// the renewal loop itself on a made-up clock and a lease object in memory (no Redis, no sockets).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { holdLease, type Lease, lapseCause, parseLease, renewalStep } from "../../../alerts/lease.js";

describe("the alerts lease", () => {
  it("reads the lease JSON the API shows, and nothing else", () => {
    expect(parseLease('{"instance":"host-1-42","token":7,"since":"2026-12-01T08:00:00.000Z"}')).toEqual({ instance: "host-1-42", token: 7, since: "2026-12-01T08:00:00.000Z" });
    expect(parseLease(null)).toBeNull();
    expect(parseLease("not json")).toBeNull();
    expect(parseLease('{"instance":"a","token":"7","since":"x"}')).toBeNull();
    expect(parseLease("[]")).toBeNull();
  });

  it("renews while the last renewal is younger than the TTL, waits for one on its way, and stands down after", () => {
    expect(renewalStep(1_000, 5_000, false)).toBe("renew");
    expect(renewalStep(1_000, 5_000, true)).toBe("wait");
    expect(renewalStep(5_000, 5_000, true)).toBe("stand-down");
    expect(renewalStep(9_000, 5_000, false)).toBe("stand-down");
  });

  it("says why a lease lapsed: no renewal run (a blocked or starved process), one unanswered, or failures", () => {
    expect(lapseCause(6_000, null, 1_000)).toBe("this process ran no renewal for 6000 ms (its event loop blocked, or no CPU to run on)");
    expect(lapseCause(6_000, 5_500, 1_000)).toMatch(/^this process ran no renewal for 6000 ms/);
    expect(lapseCause(1_000, 4_200, 1_000)).toBe("a renewal sent 4200 ms ago is still unanswered (Redis slow, or the connection to it)");
    expect(lapseCause(1_000, null, 1_000)).toBe("the last renewals failed (Redis did not answer)");
  });
});

describe("holding the lease", () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** A lease whose renewals answer as `answer` says (true, false, or a Redis error). */
  const leaseAnswering = (answer: () => boolean | Error): Lease & { renewals: number } => {
    const lease = {
      renewals: 0,
      acquire: async () => 1,
      renew: async () => {
        lease.renewals++;
        const value = answer();
        if (value instanceof Error) throw value;
        return value;
      },
      release: async () => true,
      read: async () => null,
    };
    return lease;
  };
  const step = async (ms: number) => {
    now += ms;
    await vi.advanceTimersByTimeAsync(ms);
  };

  it("keeps holding while renewals succeed", async () => {
    now = 0;
    const lost: string[] = [];
    const lease = leaseAnswering(() => true);
    const held = holdLease(lease, 1, { ttlMs: 5_000, sentAt: 0, clock, onLost: (r) => lost.push(r), onRenewalFailure: () => undefined });
    for (let i = 0; i < 20; i++) await step(1_000);
    expect(held.holds()).toBe(true);
    expect(lost).toEqual([]);
    expect(lease.renewals).toBe(20);
    held.drop();
  });

  it("stands down at once when a renewal says the lease is not ours", async () => {
    now = 0;
    const lost: string[] = [];
    const held = holdLease(leaseAnswering(() => false), 1, { ttlMs: 5_000, sentAt: 0, clock, onLost: (r) => lost.push(r), onRenewalFailure: () => undefined });
    await step(1_000);
    expect(lost).toHaveLength(1);
    expect(held.holds()).toBe(false);
  });

  it("stands down once Redis has not answered for longer than the TTL, not before", async () => {
    now = 0;
    const lost: string[] = [];
    let failures = 0;
    const held = holdLease(leaseAnswering(() => new Error("Connection is closed.")), 1, { ttlMs: 5_000, sentAt: 0, clock, onLost: (r) => lost.push(r), onRenewalFailure: () => void failures++ });
    await step(4_000);
    expect(held.holds()).toBe(true);
    expect(lost).toEqual([]);
    expect(failures).toBe(4);
    await step(1_000);
    expect(held.holds()).toBe(false);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toContain("TTL");
    expect(lost[0]).toContain("the last renewals failed");
  });

  it("says a renewal was unanswered when Redis holds it past the TTL, and that the process did not run when it did not", async () => {
    now = 0;
    const lost: string[] = [];
    const never: Lease = { acquire: async () => 1, renew: () => new Promise<boolean>(() => undefined), release: async () => true, read: async () => null };
    holdLease(never, 1, { ttlMs: 5_000, sentAt: 0, clock, onLost: (r) => lost.push(r), onRenewalFailure: () => undefined });
    for (let i = 0; i < 5; i++) await step(1_000);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toContain("a renewal sent 4000 ms ago is still unanswered");

    now = 0;
    const stalled: string[] = [];
    holdLease(leaseAnswering(() => true), 1, { ttlMs: 5_000, sentAt: 0, clock, onLost: (r) => stalled.push(r), onRenewalFailure: () => undefined });
    await step(1_000);
    now += 6_000; // the event loop ran nothing for 6 s, then the next beat
    await vi.advanceTimersByTimeAsync(1_000);
    expect(stalled).toHaveLength(1);
    expect(stalled[0]).toContain("ran no renewal for 6000 ms");
  });

  it("no longer holds a lease past its TTL even before its timer runs (a process woken from a pause)", () => {
    now = 0;
    const held = holdLease(leaseAnswering(() => true), 1, { ttlMs: 5_000, sentAt: 0, clock, onLost: () => undefined, onRenewalFailure: () => undefined });
    now = 30_000; // the clock moved on, no timer has run yet
    expect(held.holds()).toBe(false);
    held.drop();
  });
});
