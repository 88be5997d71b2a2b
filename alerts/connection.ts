// The alerts service's MQTT connection: the service account, one client id and a persistent session
// (clean: false), so the broker keeps the inputs published while the service is away and hands them to
// whichever instance connects next under that id (with REDIS_URL: the one holding the lease, ./failover.ts).
import { SERVICE_USERNAME } from "../domain/campus.js";
import { type MqttClient, openMqtt } from "../infra/mqtt.js";
import type { ServiceContext } from "../infra/service.js";
import { COMMAND_INPUT_FILTERS } from "./commands/inputs.js";
import { ALERT_INPUT_FILTERS } from "./decode.js";
import type { ActiveTerm } from "./failover.js";

export const ALERTS_CLIENT_ID = "campus-alerts";

export interface AlertsConnection {
  client: MqttClient;
  /** Removes the lease's watch on 'close' (before a deliberate end, which must not reconnect). */
  unwatch(): void;
}

/** Connects; the caller attaches its handlers at once, before CONNACK can deliver a queued message. */
export function openConnection(ctx: ServiceContext, term: ActiveTerm | null): AlertsConnection {
  // MQTT_URL may list several brokers (CONTRACT §12): openMqtt moves to the next one on each (re)connection.
  // With a lease, mqtt.js never reconnects by itself: the lease is checked first (./failover.ts, layer b).
  // The reconnection keeps mqtt.js's stores, so what waited for the connection is still sent.
  const c = openMqtt(
    { url: ctx.env.mqttUrl, clientId: ALERTS_CLIENT_ID, username: SERVICE_USERNAME, password: ctx.env.servicePassword, clean: false },
    term ? { reconnectPeriod: 0 } : {},
  );
  const onClose = () => term?.connectionClosed(() => c.reconnect({ incomingStore: c.incomingStore, outgoingStore: c.outgoingStore }));
  if (term) c.on("close", onClose);
  return { client: c, unwatch: () => c.off("close", onClose) };
}

/** What the service subscribes to on every (re)connection. */
export const subscriptionFilters = () => ({
  ...Object.fromEntries(Object.values(ALERT_INPUT_FILTERS).map((f) => [f, { qos: 1 as const }])),
  [COMMAND_INPUT_FILTERS.relays]: { qos: 1 as const },
  // QoS 0: the persistent session must not keep requests for later. One handled after the API gave up
  // would switch a circuit for someone who was told nothing happened (requests also carry answer_by).
  [COMMAND_INPUT_FILTERS.requests]: { qos: 0 as const },
});

/**
 * Resolves on the first CONNACK. Alone, rejects on the first error. With a lease, a failed first attempt (a
 * broker gone, a CONNACK not in time while a loaded node restores the session) is retried like a lost
 * connection, through the lease check, for as long as the lease is ours: a new active that gave up here left
 * the district without an alerts service until its supervisor restarted it (two failure-drill runs of
 * four); it rejects only when the service stood down first.
 */
export function firstConnect(c: MqttClient, term: ActiveTerm | null): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => {
      c.end(true);
      reject(error);
    };
    c.once("connect", () => {
      c.off("error", onError);
      resolve();
    });
    if (!term) c.once("error", onError);
    else c.once("end", () => reject(new Error("stood down before the MQTT connection opened")));
  });
}
