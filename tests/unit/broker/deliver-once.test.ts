import { describe, expect, it } from "vitest";
import { DeliveredPackets } from "../../../broker/deliver-once.js";

describe("DeliveredPackets", () => {
  it("passes a packet numbered before one already given (aedes' own check dropped it), and drops a second copy", () => {
    const delivered = new DeliveredPackets();
    expect(delivered.first("node-a", 7)).toBe(true);
    expect(delivered.first("node-a", 5)).toBe(true); // overtaken on its way, still new to the client
    expect(delivered.first("node-a", 7)).toBe(false); // the copy of a second matching subscription
    expect(delivered.first("node-b", 7)).toBe(true); // another broker's counter
  });

  it("never drops a packet without a broker id (a retained message read back from the store)", () => {
    const delivered = new DeliveredPackets();
    expect([delivered.first(null, 3), delivered.first(null, 3), delivered.first(undefined, undefined)]).toEqual([true, true, true]);
  });

  it("remembers the newest deliveries only, so its cost per client stays fixed", () => {
    const delivered = new DeliveredPackets(4);
    for (const counter of [1, 2, 3, 4]) delivered.first("node-a", counter);
    expect(delivered.first("node-a", 4)).toBe(false);
    delivered.first("node-a", 5); // the fifth pushes the first out
    expect(delivered.first("node-a", 2)).toBe(false);
    expect(delivered.first("node-a", 1)).toBe(true);
  });
});
