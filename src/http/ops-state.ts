// The broker's startup and shutdown state as the HTTP listener reports it (/readyz, the console).
import type { ListenerContext } from "../handlers/handler.ts";

/** Startup and shutdown state, set by startBroker. */
export interface OpsState {
  /** recovery is done and the Kafka listeners accept connections */
  ready: boolean;
  stopping: boolean;
  /** the first Kafka listener: the console's admin calls run as if they came in on it */
  listener: ListenerContext | null;
  /** every Kafka listener as bound (port 0 resolved) and advertised, for the console */
  listeners: { name: string; securityProtocol: string; host: string; port: number; advertised: string }[];
}
