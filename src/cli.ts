#!/usr/bin/env bun
// brook [--config server.properties] [--override key=value ...]
// Starts a broker (default PLAINTEXT://127.0.0.1:9092, data in ./data), prints exactly one line
// "brook listening on HOST:PORT" to stdout once it accepts connections, and on SIGTERM/SIGINT stops
// accepting, answers in-flight requests, flushes and exits 0.
import { ConfigError } from "./config.ts";
import { startBroker, type BrokerHandle } from "./broker.ts";

const USAGE = `usage: brook [--config server.properties] [--override key=value]...
       brook consumer-groups --bootstrap-server HOST:PORT (--list | --describe | --delete) ...  (see --help there)

Options use Apache Kafka's property names, e.g.
  --override listeners=PLAINTEXT://127.0.0.1:9092
  --override log.dirs=./data
  --override num.partitions=3
Environment: BROOK_LOG_LEVEL=debug|info|warn|error (default info; logs go to stderr)`;

function parseArgs(argv: string[]): { configFile?: string; overrides: [string, string][] } {
  const overrides: [string, string][] = [];
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (flag: string) => {
      const eq = arg.indexOf("=");
      if (arg.startsWith(`${flag}=`)) return arg.slice(eq + 1);
      const next = argv[++i];
      if (next === undefined) throw new ConfigError(`${flag} needs a value`);
      return next;
    };
    if (arg === "-h" || arg === "--help") {
      console.log(USAGE);
      process.exit(0);
    } else if (arg === "--config" || arg.startsWith("--config=")) {
      configFile = value("--config");
    } else if (arg === "--override" || arg.startsWith("--override=")) {
      const kv = value("--override");
      const eq = kv.indexOf("=");
      if (eq <= 0) throw new ConfigError(`--override expects key=value, got "${kv}"`);
      overrides.push([kv.slice(0, eq).trim(), kv.slice(eq + 1)]);
    } else {
      throw new ConfigError(`unknown argument "${arg}"\n${USAGE}`);
    }
  }
  return { configFile, overrides };
}

async function main(): Promise<void> {
  let handle: BrokerHandle;
  try {
    const { configFile, overrides } = parseArgs(process.argv.slice(2));
    handle = await startBroker({ configFile, overrides, ephemeralPort: false });
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`brook: ${e.message}`);
      process.exit(2);
    }
    console.error(`brook: failed to start: ${(e as Error).message}`);
    process.exit(1);
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    handle.broker.log.info(`${signal} received, shutting down`);
    try {
      await handle.close();
      process.exit(0);
    } catch (e) {
      console.error(`brook: error during shutdown: ${(e as Error).stack}`);
      process.exit(1);
    }
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  // One line per listener, written only once every one of them accepts connections — and once a
  // SIGTERM sent as soon as it is read stops the broker cleanly.
  process.stdout.write(handle.listeners.map((l) => `brook listening on ${l.address}\n`).join(""));
}

if (process.argv[2] === "consumer-groups") {
  const { runConsumerGroups } = await import("./consumer-groups-cli.ts");
  process.exit(await runConsumerGroups(process.argv.slice(3)));
} else {
  await main();
}
