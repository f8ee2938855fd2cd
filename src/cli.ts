#!/usr/bin/env bun
// brook [--config server.properties] [--override key=value ...]
// Starts a broker (default PLAINTEXT://127.0.0.1:9092, data in ./data), prints exactly one line
// "brook listening on HOST:PORT" to stdout once it accepts connections, and on SIGTERM/SIGINT stops
// accepting, answers in-flight requests, flushes and exits 0.
//
// brook COMMAND ...: the client tools in src/cli/ (topics, produce, consume, groups, users), which speak the
// protocol to any Kafka-compatible broker; each answers --help.
import { ConfigError } from "./config.ts";
import { startBroker, type BrokerHandle } from "./broker.ts";
import { version } from "../package.json";
import { crc32cImplementation } from "../protocol/records/crc32c.ts";
import { lz4Implementation } from "../protocol/records/compression.ts";

const USAGE = `usage: brook [--config server.properties] [--override key=value]...   start a broker
       brook topics ...           list, create, describe, delete and alter topics
       brook produce -t TOPIC     messages from stdin to a topic
       brook consume -t TOPIC     records from topics to stdout (alone or in a consumer group)
       brook groups ...           consumer groups: list, describe, delete, reset offsets
                                  (also as "brook consumer-groups")
       brook users ...            SCRAM users: describe, add, delete (a running broker or a log dir)
       brook COMMAND --help       that command's options
       brook --version

Options use Apache Kafka's property names, e.g.
  --override listeners=PLAINTEXT://127.0.0.1:9092
  --override log.dirs=./data
  --override num.partitions=3
  --override brook.http.listener=127.0.0.1:9644   (metrics, health checks and the web console)
Environment: BROOK_LOG_LEVEL=debug|info|warn|error (default info; logs go to stderr)`;

/** Subcommands: loaded on use, so starting a broker loads none of them. Each returns its exit status. */
const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  topics: async (argv) => (await import("./cli/topics.ts")).runTopics(argv),
  produce: async (argv) => (await import("./cli/produce.ts")).runProduce(argv),
  consume: async (argv) => (await import("./cli/consume.ts")).runConsume(argv),
  groups: async (argv) => (await import("./cli/groups.ts")).runGroups(argv),
  "consumer-groups": async (argv) => (await import("./cli/groups.ts")).runGroups(argv, undefined, "consumer-groups"),
  users: async (argv) => (await import("./cli/users.ts")).runUsers(argv),
};

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
    } else if (arg === "--version") {
      console.log(`brook ${version} (Bun ${Bun.version}; crc32c: ${crc32cImplementation}; lz4: ${lz4Implementation})`);
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
  // The single executable embeds these native bindings; say so when one could not be loaded.
  if (crc32cImplementation !== "native") handle.broker.log.warn("CRC-32C runs in pure JavaScript (the native binding did not load): slower on large batches");
  if (lz4Implementation !== "native") handle.broker.log.warn("lz4 is unavailable (the native binding did not load): requests that need the broker to decode or encode lz4 will fail");
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
  process.stdout.write(
    handle.listeners.map((l) => `brook listening on ${l.address}\n`).join("") + (handle.http ? `brook http listening on ${handle.http.url}\n` : ""),
  );
}

const name = process.argv[2] ?? "";
const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
if (command) {
  process.exit(await command(process.argv.slice(3)));
} else {
  await main();
}
