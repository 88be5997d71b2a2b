// Failed authentications are rate-limited per client address (brute force of API tokens): after
// `maxFailures` wrong tokens within `windowMs`, every request of that address that needs a token
// answers 429 until `windowMs` has passed — valid tokens too, or the limiter would tell an attacker
// which token is right. Memory is bounded by `maxAddresses`. Pure: the clock is the caller's.
// With REDIS_URL (CONTRACT §12) failures are also counted in a window every API instance shares
// (`shared`, ./ha/redis-failures.ts), so N instances behind a load balancer do not give N allowances:
// an instance blocks the address once the shared count reaches the limit. The count's answer comes after
// the failure is answered (the check stays synchronous, as the auth hook and the live stream call it), so
// all instances together allow one more failure per other instance than one instance does, plus those that
// arrive while Redis's answer is on its way (a write is answered after its fsync). The local count goes on
// as before, so a Redis that is away never lifts the limit.

export interface AuthLimits {
  maxFailures: number;
  windowMs: number;
  maxAddresses: number;
}

export const DEFAULT_AUTH_LIMITS: AuthLimits = { maxFailures: 20, windowMs: 60_000, maxAddresses: 10_000 };

interface Record {
  windowStart: number;
  failures: number;
  blockedUntil: number;
}

/** Failures counted by every instance: resolves with the count of `key`'s current window (it starts at the first failure). */
export interface SharedFailureCount {
  count(key: string, windowMs: number): Promise<number>;
}

export class FailedAuthLimiter {
  private readonly addresses = new Map<string, Record>();

  constructor(
    private readonly limits: AuthLimits = DEFAULT_AUTH_LIMITS,
    private readonly shared?: SharedFailureCount,
  ) {}

  /** Milliseconds the address must still wait; 0 when it may try. */
  blockedForMs(address: string, now: number): number {
    const record = this.addresses.get(address);
    return record && record.blockedUntil > now ? record.blockedUntil - now : 0;
  }

  /** Counts a wrong token presented by `address`. */
  fail(address: string, now: number): void {
    let record = this.addresses.get(address);
    if (!record || now - record.windowStart >= this.limits.windowMs) {
      this.addresses.delete(address);
      record = { windowStart: now, failures: 0, blockedUntil: record?.blockedUntil ?? 0 };
      this.addresses.set(address, record);
      this.bound(now);
    }
    record.failures += 1;
    if (record.failures >= this.limits.maxFailures) record.blockedUntil = now + this.limits.windowMs;
    this.shared?.count(address, this.limits.windowMs).then(
      (failures) => failures >= this.limits.maxFailures && this.block(address, now),
      () => undefined, // Redis away: the local count above still limits this instance
    );
  }

  /** The shared count reached the limit with the failure at `now`: blocks `address` here for a window from then. */
  private block(address: string, now: number): void {
    let record = this.addresses.get(address);
    if (!record) {
      record = { windowStart: now, failures: 0, blockedUntil: 0 };
      this.addresses.set(address, record);
      this.bound(now);
    }
    record.blockedUntil = Math.max(record.blockedUntil, now + this.limits.windowMs);
  }

  get size(): number {
    return this.addresses.size;
  }

  /** Forgets idle addresses first, then the oldest, while over the bound. */
  private bound(now: number): void {
    if (this.addresses.size <= this.limits.maxAddresses) return;
    for (const [address, record] of this.addresses) {
      if (now - record.windowStart >= this.limits.windowMs && record.blockedUntil <= now) this.addresses.delete(address);
    }
    for (const address of this.addresses.keys()) {
      if (this.addresses.size <= this.limits.maxAddresses) break;
      this.addresses.delete(address);
    }
  }
}
