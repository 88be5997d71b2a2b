import { describe, expect, it } from "vitest";
import { finishesWithin } from "../../../infra/timeout.js";

const after = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

describe("finishesWithin", () => {
  it("is true when the work resolves in time, false when the time runs out first", async () => {
    expect(await finishesWithin(after(5, "done"), 1_000)).toBe(true);
    const started = Date.now();
    expect(await finishesWithin(after(1_000, "late"), 20)).toBe(false);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it("passes a failure of the work on, and waits not at all for a past deadline", async () => {
    await expect(finishesWithin(Promise.reject(new Error("disk gone")), 1_000)).rejects.toThrow("disk gone");
    expect(await finishesWithin(after(50, "x"), -5)).toBe(false);
  });
});
