// The decisions behind the device stream's upkeep (ingest/stream-group.ts): what may be trimmed, which
// consumers may be forgotten, and how XINFO replies are read.
import { describe, expect, it } from "vitest";
import { compareIds, consumersToForget, fieldsOf, parseConsumers, trimBelow } from "../../../ingest/stream-group.js";

describe("compareIds", () => {
  it("orders by milliseconds, then sequence, as numbers rather than strings", () => {
    expect(compareIds("9-0", "10-0")).toBe(-1);
    expect(compareIds("10-2", "10-10")).toBe(-1);
    expect(compareIds("1700000000000-5", "1700000000000-5")).toBe(0);
    expect(compareIds("1700000000001-0", "1700000000000-99")).toBe(1);
  });
});

describe("trimBelow", () => {
  it("keeps everything from the oldest pending entry on", () => {
    expect(trimBelow([{ lastDelivered: "500-0", oldestPending: "120-3" }])).toBe("120-3");
  });

  it("trims to the last delivered entry when nothing is pending", () => {
    expect(trimBelow([{ lastDelivered: "500-0", oldestPending: null }])).toBe("500-0");
  });

  it("never goes above the last delivered id read before the pending list", () => {
    // Delivered (and left pending) after XINFO GROUPS answered: above its last-delivered id.
    expect(trimBelow([{ lastDelivered: "500-0", oldestPending: "600-0" }])).toBe("500-0");
  });

  it("takes the slowest of several groups", () => {
    expect(trimBelow([{ lastDelivered: "900-0", oldestPending: null }, { lastDelivered: "700-0", oldestPending: "300-1" }])).toBe("300-1");
  });

  it("trims nothing when no group exists or a group has read nothing yet", () => {
    expect(trimBelow([])).toBeNull();
    expect(trimBelow([{ lastDelivered: "900-0", oldestPending: null }, { lastDelivered: "0-0", oldestPending: null }])).toBeNull();
  });
});

describe("consumers", () => {
  const reply = [
    ["name", "ingest-a", "pending", 0, "idle", 500],
    ["name", "ingest-b", "pending", 12, "idle", 7_200_000],
    ["name", "ingest-c", "pending", 0, "idle", 7_200_000, "inactive", 7_200_000],
    ["name", "ingest-self", "pending", 0, "idle", 9_000_000],
  ];

  it("reads XINFO CONSUMERS of Redis 7.0 and 7.2", () => {
    expect(parseConsumers(reply)).toEqual([
      { name: "ingest-a", pending: 0, idleMs: 500 },
      { name: "ingest-b", pending: 12, idleMs: 7_200_000 },
      { name: "ingest-c", pending: 0, idleMs: 7_200_000 },
      { name: "ingest-self", pending: 0, idleMs: 9_000_000 },
    ]);
    expect(fieldsOf("not an array")).toEqual({});
  });

  it("forgets only others idle long with nothing pending", () => {
    expect(consumersToForget(parseConsumers(reply), "ingest-self", 3_600_000)).toEqual(["ingest-c"]);
  });
});
