// Public API: embed a broker in a process or a test suite.
//   await using broker = await startBroker({ dataDir });
//   new Kafka({ brokers: [broker.address] })
export { startBroker, Broker, type BrokerHandle, type BrokerOptions } from "./broker.ts";
export { buildConfig, ConfigError, PROPERTIES } from "./config.ts";
export { FaultInjector, FaultSpecError, type FaultSpec, type FaultInfo, type FaultHandle } from "./faults/injector.ts";
export { faultRoutes } from "./faults/http.ts";
