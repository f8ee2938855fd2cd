// Several listeners at once, configured with Kafka's properties: named listeners mapped to a security
// protocol, per-listener advertised addresses, Metadata answering with the address of the listener the
// request came in on, and the CLI's one "brook listening on" line per listener.
import { describe, expect, test } from "bun:test";
import { DescribeCluster, FindCoordinator } from "../protocol/apis/index.ts";
import { startBroker } from "../src/broker.ts";
import { KafkaClient } from "../src/client.ts";
import { buildConfig, ConfigError } from "../src/config.ts";
import { spawnBroker } from "./helpers/broker.ts";
import { kcat, kcatConsume, kcatMetadata } from "./helpers/clients.ts";
import { tempDir, topicName } from "./helpers/tmp.ts";

describe("listener configuration", () => {
  const base = (extra: [string, string][]) => buildConfig([["log.dirs", "/tmp/unused"], ...extra]);

  test("named listeners through listener.security.protocol.map, advertised per listener", () => {
    const c = base([
      ["listeners", "INTERNAL://127.0.0.1:9092,EXTERNAL://0.0.0.0:19092"],
      ["listener.security.protocol.map", "INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT"],
      ["advertised.listeners", "EXTERNAL://broker.example.com:29092"],
    ]);
    expect(c.listeners.map((l) => [l.name, l.securityProtocol, l.host, l.port, l.advertised.host, l.advertised.port])).toEqual([
      ["INTERNAL", "PLAINTEXT", "127.0.0.1", 9092, "127.0.0.1", 9092],
      ["EXTERNAL", "PLAINTEXT", "0.0.0.0", 19092, "broker.example.com", 29092],
    ]);
  });

  test("a KRaft controller listener is not opened", () => {
    const c = base([
      ["listeners", "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"],
      ["controller.listener.names", "CONTROLLER"],
      ["listener.security.protocol.map", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"],
    ]);
    expect(c.listeners.map((l) => l.name)).toEqual(["PLAINTEXT"]);
  });

  const errors: [string, [string, string][], RegExp][] = [
    ["a listener name twice", [["listeners", "A://127.0.0.1:1,A://127.0.0.1:2"], ["listener.security.protocol.map", "A:PLAINTEXT"]], /listener name A appears more than once/],
    ["a name with no security protocol", [["listeners", "CLIENT://127.0.0.1:9092"]], /no security protocol for listener CLIENT/],
    ["a map entry that is not NAME:PROTOCOL", [["listeners", "A://127.0.0.1:1"], ["listener.security.protocol.map", "A"]], /expected NAME:PROTOCOL/],
    ["an unknown security protocol", [["listeners", "A://127.0.0.1:1"], ["listener.security.protocol.map", "A:KERBEROS"]], /unknown security protocol KERBEROS/],
    ["two listeners on one port", [["listeners", "A://127.0.0.1:9092,B://127.0.0.1:9092"], ["listener.security.protocol.map", "A:PLAINTEXT,B:PLAINTEXT"]], /both use port 9092/],
    ["an advertised listener that does not exist", [["listeners", "PLAINTEXT://127.0.0.1:9092"], ["advertised.listeners", "OTHER://h:1"]], /OTHER is not one of the listeners/],
    ["a wildcard advertised address", [["listeners", "PLAINTEXT://0.0.0.0:9092"], ["advertised.listeners", "PLAINTEXT://0.0.0.0:9092"]], /not an address a client can connect to/],
  ];
  for (const [label, settings, message] of errors) {
    test(`refused: ${label}`, () => {
      expect(() => base(settings)).toThrow(ConfigError);
      expect(() => base(settings)).toThrow(message);
    });
  }
});

test("Metadata, FindCoordinator and DescribeCluster answer with the advertised address of the listener the request came in on", async () => {
  await using dir = await tempDir();
  await using handle = await startBroker({
    dataDir: dir.path,
    logLevel: "warn",
    overrides: {
      listeners: "INTERNAL://127.0.0.1:0,EXTERNAL://127.0.0.1:0",
      "listener.security.protocol.map": "INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT",
    },
  });
  expect(handle.listeners.map((l) => l.name)).toEqual(["INTERNAL", "EXTERNAL"]);
  const [internal, external] = handle.listeners;
  expect(internal!.port).not.toBe(external!.port);
  for (const l of handle.listeners) {
    const md = await kcatMetadata(l.address);
    expect(md.brokers.map((b: { name: string }) => b.name)).toEqual([l.address]);
    await using c = await KafkaClient.connect(l.address);
    const fc = await c.request(FindCoordinator, 3, { key: "g", keyType: 0 });
    expect([fc.errorCode, fc.host, fc.port]).toEqual([0, l.host, l.port]);
    const dc = await c.request(DescribeCluster, 0, {});
    expect(dc.brokers.map((b) => `${b.host}:${b.port}`)).toEqual([l.address]);
  }
  // Records produced through one listener are read through the other.
  const topic = topicName("listeners");
  await kcat(["-b", internal!.address, "-P", "-t", topic, "-K:"], { stdin: "k:v\n" });
  const msgs = await kcatConsume(external!.address, topic);
  expect(msgs.map((m) => [m.key, m.payload])).toEqual([["k", "v"]]);
});

test("the CLI prints one listening line per listener, each advertised as configured", async () => {
  await using dir = await tempDir();
  await using b = await spawnBroker({
    dataDir: dir.path,
    overrides: {
      listeners: "PLAINTEXT://127.0.0.1:0,CLIENT://127.0.0.1:0",
      "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CLIENT:PLAINTEXT",
      "advertised.listeners": "CLIENT://localhost:0",
    },
  });
  const lines = b.output().stdout.split("\n").filter((l) => l.startsWith("brook listening on"));
  expect(lines.length).toBe(2);
  const client = /^brook listening on (127\.0\.0\.1:\d+)$/.exec(lines[1]!)![1]!;
  expect(client).not.toBe(b.address);
  // Advertised port 0 means "the port actually bound", under the advertised host name.
  const md = await kcatMetadata(client);
  expect(md.brokers.map((br: { name: string }) => br.name)).toEqual([`localhost:${client.split(":")[1]}`]);
  const plain = await kcatMetadata(b.address);
  expect(plain.brokers.map((br: { name: string }) => br.name)).toEqual([b.address]);
});
