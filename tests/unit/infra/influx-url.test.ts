import { describe, expect, it } from "vitest";
import { InfluxClient, redactUrl } from "../../../infra/influx.js";

describe("InfluxDB URLs with credentials", () => {
  it("moves user and password out of the URL, so no request or error message carries them", async () => {
    const client = new InfluxClient({ url: "http://campus:s3cr%40t@127.0.0.1:1/", db: "x", timeoutMs: 500 });
    expect(client.config).toMatchObject({ url: "http://127.0.0.1:1", username: "campus", password: "s3cr@t" });
    const error = await client.write("m f=1 1").catch((e: Error) => e);
    expect(String(error)).not.toContain("s3cr");
  });
  it("redacts credentials for logs", () => {
    expect(redactUrl("http://campus:secret@influx:8086")).toBe("http://redacted:redacted@influx:8086");
    expect(redactUrl("http://influx:8086/")).toBe("http://influx:8086");
  });
});
