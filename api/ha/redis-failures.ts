// Failed authentications counted by every API instance (./auth-limiter.ts `SharedFailureCount`): one key per
// client address, `campus:auth-failures:<scope>:<key>`, created with the window as its TTL by the first failure
// and incremented by each (INCR keeps the TTL), in one transaction so a key never lives without its TTL.
import type { Redis } from "../../infra/redis.js";
import type { SharedFailureCount } from "../auth-limiter.js";

export const FAILURES_KEY_PREFIX = "campus:auth-failures:";

/** `scope` tells limiters apart (e.g. "address"). */
export function redisFailureCount(redis: Redis, scope: string): SharedFailureCount {
  return {
    async count(key, windowMs) {
      const redisKey = `${FAILURES_KEY_PREFIX}${scope}:${key}`;
      const results = await redis.multi().set(redisKey, 0, "PX", windowMs, "NX").incr(redisKey).exec();
      const counted = results?.[1];
      if (!counted || counted[0] !== null || typeof counted[1] !== "number") throw new Error("Redis did not count the failure");
      return counted[1];
    },
  };
}
