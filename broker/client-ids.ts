// Which account a client id belongs to. MQTT lets a new connection with the same client id take over
// the old one's connection and session [MQTT-3.1.4-2]; without this, any device could knock the
// ingest off the broker by reusing its client id, or resume a service's persistent session and be
// handed the QoS 1 messages queued for it. A client id is therefore held by the account that uses it:
// while it is connected, and, for a persistent session (CleanSession 0), for the broker's lifetime
// (memory persistence: the session lives exactly that long). Reconnects by the same account are fine,
// and the service account may always take an id over, so a device squatting on a service's client id
// while that service reconnects cannot lock it out.
export class ClientIdRegistry {
  private readonly live = new Map<string, { account: string; connections: number }>();
  private readonly persistent = new Map<string, string>();

  /** Bound on remembered persistent-session ids; the least recently used is forgotten first. */
  constructor(private readonly maxPersistentIds = 100_000) {}

  /** Records the claim and returns true, or returns false when another account holds the id. */
  claim(clientId: string, account: string, clean: boolean, privileged = false): boolean {
    if (clientId === "") return true; // the broker assigns a fresh id [MQTT-3.1.3-6]
    const entry = this.live.get(clientId);
    const holder = entry?.account ?? this.persistent.get(clientId);
    if (holder !== undefined && holder !== account && !privileged) return false;
    if (entry && entry.account === account) entry.connections += 1;
    else this.live.set(clientId, { account, connections: 1 }); // a privileged takeover resets the count
    if (!clean) {
      this.persistent.delete(clientId); // re-insert: Map order is our recency order
      this.persistent.set(clientId, account);
      if (this.persistent.size > this.maxPersistentIds) this.persistent.delete(this.persistent.keys().next().value!);
    }
    return true;
  }

  /** One connection that claimed this id has closed. */
  release(clientId: string): void {
    const entry = this.live.get(clientId);
    if (!entry) return;
    entry.connections -= 1;
    if (entry.connections <= 0) this.live.delete(clientId);
  }
}
