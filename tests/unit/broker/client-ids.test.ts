import { describe, expect, it } from "vitest";
import { ClientIdRegistry } from "../../../broker/client-ids.js";

describe("client id registry", () => {
  it("refuses a client id another account holds while it is connected", () => {
    const ids = new ClientIdRegistry();
    expect(ids.claim("ingest-1", "campus-service", true, true)).toBe(true);
    expect(ids.claim("ingest-1", "brk-d1-101", true)).toBe(false);
    ids.release("ingest-1");
    expect(ids.claim("ingest-1", "brk-d1-101", true)).toBe(true);
  });

  it("lets the same account reconnect with its own id, even twice at once during a takeover", () => {
    const ids = new ClientIdRegistry();
    expect(ids.claim("brk-d1-101", "brk-d1-101", true)).toBe(true);
    expect(ids.claim("brk-d1-101", "brk-d1-101", true)).toBe(true);
    ids.release("brk-d1-101");
    expect(ids.claim("brk-d1-101", "brk-d1-102", true)).toBe(false); // one connection still open
  });

  it("keeps a persistent session's id for its account after it disconnects", () => {
    const ids = new ClientIdRegistry();
    ids.claim("alerts", "campus-service", false, true);
    ids.release("alerts");
    expect(ids.claim("alerts", "brk-d1-101", true)).toBe(false);
    expect(ids.claim("alerts", "campus-service", false, true)).toBe(true);
  });

  it("lets the service account take any id over", () => {
    const ids = new ClientIdRegistry();
    ids.claim("ingest-1", "brk-d1-101", false);
    expect(ids.claim("ingest-1", "campus-service", true, true)).toBe(true);
    expect(ids.claim("ingest-1", "brk-d1-101", true)).toBe(false);
  });

  it("never refuses an empty client id (the broker assigns one)", () => {
    const ids = new ClientIdRegistry();
    expect(ids.claim("", "a", true)).toBe(true);
    expect(ids.claim("", "b", true)).toBe(true);
  });

  it("forgets the least recently used persistent ids beyond its bound", () => {
    const ids = new ClientIdRegistry(2);
    for (const id of ["a", "b", "c"]) {
      ids.claim(id, "campus-service", false, true);
      ids.release(id);
    }
    expect(ids.claim("a", "brk-d1-101", true)).toBe(true);
    expect(ids.claim("c", "brk-d1-101", true)).toBe(false);
  });
});
