// Devices for the failure drills: real mqtt.js clients, each given both brokers (CONTRACT §12: a device may be
// given several broker URLs and uses any that answers), publishing QoS 1 readings at a steady rate. They keep
// what was not acknowledged and resend it after a reconnect, as devices in the field do, and the drills count
// what was acknowledged against what InfluxDB holds.
import mqtt, { type MqttClient } from "mqtt";
import { devicePassword } from "../../domain/credentials.js";

export interface DeviceOptions {
  brokerPorts: readonly number[];
  devices: readonly string[];
  key: string;
  /** Readings per second per device. */
  rate: number;
}

export class DrillDevices {
  private readonly clients = new Map<string, MqttClient>();
  /** Per device, the timestamps of its readings the broker acknowledged. */
  readonly acked = new Map<string, Set<number>>();
  /** Published and not yet acknowledged. */
  inFlight = 0;
  published = 0;
  /** Fields each device sends besides its current (a breach: `{temperature_c: 90}`). */
  private readonly extra = new Map<string, Record<string, number>>();
  /** When each disconnected device lost its connection (absent: connected). */
  private readonly lostAt = new Map<string, number>();
  /** How long each reconnection took, ms, since `markReconnects()`. */
  reconnectMs: number[] = [];
  private timer: NodeJS.Timeout | null = null;
  private lastTs = 0;

  constructor(private readonly options: DeviceOptions) {}

  async connect(): Promise<void> {
    const { brokerPorts, devices, key } = this.options;
    await Promise.all(devices.map((id, i) => {
      // Spread over the brokers: device i starts on broker i mod n and moves round the list.
      const servers = brokerPorts.map((_, k) => ({ host: "127.0.0.1", port: brokerPorts[(i + k) % brokerPorts.length]!, protocol: "mqtt" as const }));
      const client = mqtt.connect({ servers, clientId: id, username: id, password: devicePassword(id, key), clean: false, reconnectPeriod: 500, connectTimeout: 5_000, keepalive: 10 });
      this.clients.set(id, client);
      this.acked.set(id, new Set());
      client.on("close", () => { if (!this.lostAt.has(id)) this.lostAt.set(id, Date.now()); });
      client.on("connect", () => {
        const since = this.lostAt.get(id);
        this.lostAt.delete(id);
        if (since !== undefined) this.reconnectMs.push(Date.now() - since);
      });
      client.on("error", () => undefined); // refused or reset: mqtt.js reconnects
      return new Promise<void>((resolve) => client.once("connect", () => resolve()));
    }));
  }

  /** Starts publishing every device's reading `rate` times a second, spread over the second. */
  start(): void {
    const { devices, rate } = this.options;
    let next = 0;
    const perTick = Math.max(1, Math.round((devices.length * rate) / 50));
    this.timer = setInterval(() => {
      for (let n = 0; n < perTick; n++) this.publish(devices[next++ % devices.length]!);
    }, 20);
  }

  /** Sets fields the device sends with every reading from now on (undefined: back to normal). */
  set(device: string, fields: Record<string, number> | undefined): void {
    if (fields) this.extra.set(device, fields);
    else this.extra.delete(device);
  }

  private publish(id: string): void {
    const client = this.clients.get(id)!;
    // Strictly increasing timestamps, so two readings never share a point in InfluxDB.
    const ts = (this.lastTs = Math.max(Date.now(), this.lastTs + 1));
    const payload = JSON.stringify({ ts, current_a: 3 + (ts % 7) / 10, power_w: 700, voltage_v: 221, ...this.extra.get(id) });
    this.published++;
    this.inFlight++;
    client.publish(`campus/devices/${id}/telemetry`, payload, { qos: 1 }, (error) => {
      this.inFlight--;
      if (!error) this.acked.get(id)!.add(ts);
    });
  }

  /** Devices not connected now. */
  get disconnected(): number {
    return this.lostAt.size;
  }

  /** Forgets the reconnections so far (call right before a drill's kill). */
  markReconnects(): void {
    this.reconnectMs = [];
  }

  get ackedCount(): number {
    let total = 0;
    for (const set of this.acked.values()) total += set.size;
    return total;
  }

  /** Stops publishing; resolves once everything published was acknowledged (or `timeoutMs` passed). */
  async stopPublishing(timeoutMs = 60_000): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  }

  async end(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.endAsync(true)));
  }
}
