// The command line as a user runs it: configuration errors before listening, a properties file with
// overrides on top, and a clean SIGTERM shutdown that keeps what was acknowledged.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { Kafka, logLevel } from "kafkajs";
import { CLI, REPO_ROOT, spawnBroker } from "./helpers/broker.ts";
import { kcatConsume, kcatMetadata } from "./helpers/clients.ts";
import { run } from "./helpers/run.ts";
import { tempDir } from "./helpers/tmp.ts";

const bun = process.execPath;

describe("configuration errors exit non-zero before listening", () => {
  const cases: [string, string[], RegExp][] = [
    ["an unknown property", ["--override", "no.such.property=1"], /unknown property: no\.such\.property/],
    ["a non-numeric value", ["--override", "num.partitions=many"], /invalid value "many" for num\.partitions/],
    ["a value below the minimum", ["--override", "num.partitions=0"], /num\.partitions: must be at least 1/],
    ["a bad listener", ["--override", "listeners=127.0.0.1:9092"], /expected NAME:\/\/host:port/],
    ["a non-boolean", ["--override", "auto.create.topics.enable=yes"], /expected true or false/],
    ["a missing config file", ["--config", "/nonexistent/server.properties"], /cannot read config file/],
  ];
  for (const [label, args, message] of cases) {
    test(label, async () => {
      await using dir = await tempDir();
      const r = await run([bun, CLI, "--override", `log.dirs=${dir.path}`, ...args], { cwd: REPO_ROOT, timeoutMs: 20_000 });
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).not.toContain("brook listening on");
    });
  }
});

test("--config reads a Kafka properties file; --override wins over it", async () => {
  await using dir = await tempDir();
  const file = dir.join("server.properties");
  writeFileSync(
    file,
    [
      "# a stock-looking Kafka config",
      "process.roles=broker,controller",
      "num.network.threads=3",
      `log.dirs=${dir.join("data")}`,
      "num.partitions=5",
      "listeners=PLAINTEXT://127.0.0.1:0",
      "",
    ].join("\n"),
  );
  const proc = Bun.spawn([bun, CLI, "--config", file, "--override", "num.partitions=3"], { cwd: REPO_ROOT, stdout: "pipe", stderr: "pipe" });
  try {
    const reader = proc.stdout.getReader();
    let out = "";
    while (!out.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    const m = /^brook listening on (127\.0\.0\.1:\d+)\n$/.exec(out);
    expect(m).not.toBeNull();
    const admin = new Kafka({ brokers: [m![1]!], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const producer = new Kafka({ brokers: [m![1]!], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({ topic: "from-config", messages: [{ value: "x" }] });
    await producer.disconnect();
    const md = await admin.fetchTopicMetadata({ topics: ["from-config"] });
    expect(md.topics[0]!.partitions).toHaveLength(3);
    await admin.disconnect();
  } finally {
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  }
});

test("SIGTERM: exit 0, and everything acknowledged is there after a restart", async () => {
  await using dir = await tempDir();
  let address: string;
  {
    await using broker = await spawnBroker({ dataDir: dir.path });
    address = broker.address;
    const producer = new Kafka({ brokers: [address], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({ topic: "sigterm", acks: -1, messages: Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
    await producer.disconnect();
    expect(await broker.stop()).toBe(0);
    expect(broker.output().stdout.trim().split("\n")).toEqual([`brook listening on ${address}`]);
  }
  await using again = await spawnBroker({ dataDir: dir.path });
  const msgs = await kcatConsume(again.address, "sigterm", { partition: 0 });
  expect(msgs.map((m) => [m.offset, m.key, m.payload])).toEqual(Array.from({ length: 50 }, (_, i) => [i, `k${i}`, `v${i}`]));
});

test("a listener port already in use: a clear error and a non-zero exit; the data dir stays usable", async () => {
  await using dir = await tempDir();
  await using first = await spawnBroker({ dataDir: dir.join("a") });
  const r = await run([bun, CLI, "--override", `log.dirs=${dir.join("b")}`, "--override", `listeners=PLAINTEXT://127.0.0.1:${first.port}`], {
    cwd: REPO_ROOT,
    timeoutMs: 20_000,
  });
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${first.port}`);
  expect(r.stdout).not.toContain("brook listening on");
  await using again = await spawnBroker({ dataDir: dir.join("b") });
  const md = await kcatMetadata(again.address);
  expect(md.brokers.map((b: { name: string }) => b.name)).toEqual([again.address]);
});
