import { describe, expect, it } from "vitest";
import { readEnv } from "../../../domain/env.js";
import { CampusError } from "../../../domain/errors.js";

const refusal = (value: string) => {
  try {
    readEnv({ REDIS_URL: value });
  } catch (error) {
    expect(error).toBeInstanceOf(CampusError);
    return (error as CampusError).problems;
  }
  return expect.unreachable(`REDIS_URL=${value} was accepted`);
};

describe("REDIS_URL (CONTRACT §12)", () => {
  it("is unset by default: one process of each service", () => {
    expect(readEnv({}).redisUrl).toBeNull();
  });

  it("takes a redis:// or rediss:// URL, password included", () => {
    expect(readEnv({ REDIS_URL: "redis://127.0.0.1:6379" }).redisUrl).toBe("redis://127.0.0.1:6379");
    expect(readEnv({ REDIS_URL: "rediss://:s3cret@redis.example:6380/2" }).redisUrl).toBe("rediss://:s3cret@redis.example:6380/2");
  });

  it("refuses anything else without repeating it (it may hold a password)", () => {
    for (const bad of ["http://:hunter22@redis.example:6379", "redis://", "127.0.0.1:6379 hunter22"]) {
      const problems = refusal(bad);
      expect(problems.map((p) => p.path)).toEqual(["REDIS_URL"]);
      expect(problems[0]!.message).toMatch(/redis:\/\/ or rediss:\/\//);
      expect(JSON.stringify(problems)).not.toContain("hunter22");
    }
  });
});
