// The single executable as a user gets it: `npm run build` once, then dist/brook copied alone into an
// empty directory and run from there with a PATH that has no Bun, no node_modules or sources beside it.
// kcat produces and consumes through it (lz4 in and out, which needs the embedded native binding), the
// binary's own subcommands work, two listeners answer with their own advertised addresses (the README's
// docker run), and SIGTERM stops it cleanly.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT, spawnBroker, type SpawnedBroker } from "./helpers/broker.ts";
import { kcat, kcatConsume, kcatHeaders, kcatMetadata } from "./helpers/clients.ts";
import { describeFailure, run } from "./helpers/run.ts";
import { storedCodecs, CODEC_ID } from "./helpers/stored.ts";
import { tempDir, type TempDir } from "./helpers/tmp.ts";

setDefaultTimeout(120_000);

// No Bun and no Node on it: only the system's own tools (and kcat, which the test runs, not the binary).
const BARE_ENV = { PATH: "/usr/bin:/bin", NODE_PATH: undefined, BUN_INSTALL: undefined, npm_config_prefix: undefined };

let dir: TempDir;
let bin: string;
let broker: SpawnedBroker;
let host: { address: string };
let docker: { address: string };

beforeAll(async () => {
  const built = await run(["npm", "run", "build"], { cwd: REPO_ROOT, timeoutMs: 180_000 });
  if (built.exitCode !== 0) throw new Error(describeFailure(built));
  dir = await tempDir("brook-binary-");
  bin = dir.join("brook");
  copyFileSync(join(REPO_ROOT, "dist", "brook"), bin);
  chmodSync(bin, 0o755);
  expect(Bun.which("bun", { PATH: BARE_ENV.PATH })).toBeNull();
  // Two listeners, as the README's docker run has them: one for host clients, one for containers.
  broker = await spawnBroker({
    command: [bin],
    cwd: dir.path,
    dataDir: dir.join("data"),
    env: BARE_ENV,
    overrides: {
      listeners: "HOST://127.0.0.1:0,DOCKER://127.0.0.1:0",
      "listener.security.protocol.map": "HOST:PLAINTEXT,DOCKER:PLAINTEXT",
      "advertised.listeners": "HOST://127.0.0.1:0,DOCKER://localhost:0",
      "group.initial.rebalance.delay.ms": 0,
    },
  });
  const lines = broker.output().stdout.trim().split("\n");
  expect(lines).toHaveLength(2);
  const [first, second] = lines.map((l) => ({ address: /^brook listening on (\S+)$/.exec(l)![1]! }));
  host = first!;
  docker = second!;
});

afterAll(async () => {
  await broker?.stop();
  await dir?.remove();
});

const brook = (...args: string[]) => run([bin, ...args], { cwd: dir.path, env: BARE_ENV, timeoutMs: 60_000 });

test("the directory holds nothing but the binary and its data; --version reports the embedded native modules", async () => {
  expect(readdirSync(dir.path).sort()).toEqual(["brook", "data"]);
  expect(existsSync(dir.join("node_modules"))).toBe(false);
  const r = await brook("--version");
  expect(r.exitCode).toBe(0);
  expect(r.stdout.trim()).toMatch(/^brook \d+\.\d+\.\d+ \(Bun \d+\.\d+\.\d+; crc32c: native; lz4: native\)$/);
});

test("each listener answers Metadata with its own advertised address", async () => {
  const viaHost = await kcatMetadata(host.address);
  const viaDocker = await kcatMetadata(docker.address);
  expect(viaHost.brokers.map((b) => b.name)).toEqual([host.address]);
  expect(viaDocker.brokers.map((b) => b.name)).toEqual([`localhost:${docker.address.split(":")[1]}`]);
});

describe("kcat through the binary", () => {
  test("lz4 batches with keys and headers round-trip, and are recompressed to the topic's codec", async () => {
    // The binary's own CLI creates the topic; stored as gzip, so the broker must decode kcat's lz4.
    const created = await brook("topics", "-b", host.address, "create", "bin-lz4", "--partitions", "1", "--config", "compression.type=gzip");
    expect(created.exitCode).toBe(0);
    const input = Array.from({ length: 200 }, (_, i) => `k${i}:value-${i}-${"x".repeat(i % 50)}`).join("\n") + "\n";
    await kcat(["-b", host.address, "-P", "-t", "bin-lz4", "-K:", "-z", "lz4", "-H", "origin=kcat"], { stdin: input });
    const msgs = await kcatConsume(host.address, "bin-lz4", { partition: 0 });
    expect(msgs).toHaveLength(200);
    expect(msgs.map((m) => [m.offset, m.key, m.payload])).toEqual(
      Array.from({ length: 200 }, (_, i) => [i, `k${i}`, `value-${i}-${"x".repeat(i % 50)}`]),
    );
    expect(msgs.every((m) => JSON.stringify(kcatHeaders(m)) === JSON.stringify([["origin", "kcat"]]))).toBe(true);
    const codecs = await storedCodecs(host.address, "bin-lz4", 0);
    expect(codecs.length).toBeGreaterThan(0);
    expect(new Set(codecs)).toEqual(new Set([CODEC_ID.gzip!]));
  });

  test("a topic stored as lz4 (the broker compresses) reads back through kcat and the binary's consume", async () => {
    expect((await brook("topics", "-b", host.address, "create", "bin-store-lz4", "--config", "compression.type=lz4")).exitCode).toBe(0);
    await kcat(["-b", host.address, "-P", "-t", "bin-store-lz4", "-K:"], { stdin: "a:1\nb:2\nc:3\n" });
    expect(new Set(await storedCodecs(host.address, "bin-store-lz4", 0))).toEqual(new Set([CODEC_ID.lz4!]));
    expect((await kcatConsume(host.address, "bin-store-lz4")).map((m) => `${m.key}=${m.payload}`)).toEqual(["a=1", "b=2", "c=3"]);
    const consumed = await brook("consume", "-b", host.address, "-t", "bin-store-lz4", "-o", "beginning", "-e", "-f", "%k=%s\\n");
    expect(consumed.exitCode).toBe(0);
    expect(consumed.stdout).toBe("a=1\nb=2\nc=3\n");
  });
});

test("without a usable TMPDIR the native bindings cannot be unpacked: pure-JS CRC-32C, no lz4, and it still works", async () => {
  const env = { ...BARE_ENV, TMPDIR: dir.join("no-such-dir") };
  const v = await run([bin, "--version"], { cwd: dir.path, env });
  expect(v.stdout.trim()).toMatch(/\(Bun [\d.]+; crc32c: js; lz4: unavailable\)$/);
  await using data = await tempDir("brook-binary-fallback-");
  await using fallback = await spawnBroker({ command: [bin], cwd: dir.path, dataDir: data.path, env });
  expect(fallback.output().stderr).toContain("CRC-32C runs in pure JavaScript");
  expect(fallback.output().stderr).toContain("lz4 is unavailable");
  const big = "y".repeat(8000); // large enough for the native path, had it loaded
  await kcat(["-b", fallback.address, "-P", "-t", "fallback", "-K:", "-z", "gzip"], { stdin: `a:${big}\nb:small\n` });
  expect((await kcatConsume(fallback.address, "fallback")).map((m) => [m.key, m.payload])).toEqual([
    ["a", big],
    ["b", "small"],
  ]);
});

test("SIGTERM: exit 0 after a clean shutdown, and the data is there on the next start", async () => {
  expect(await broker.stop()).toBe(0);
  expect(broker.output().stderr).toContain("broker stopped");
  await using again = await spawnBroker({ command: [bin], cwd: dir.path, dataDir: dir.join("data"), env: BARE_ENV });
  expect((await kcatConsume(again.address, "bin-lz4", { partition: 0 })).length).toBe(200);
  expect(await again.stop()).toBe(0);
});
