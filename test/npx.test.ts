// The package as npx and bunx run it: `npm pack`, installed into an empty prefix the way npx installs a
// package, then started through its `brook` bin with Node and npm only (no Bun on PATH): the launcher
// finds Bun in the installed `bun` package. kcat talks to the broker it starts; SIGTERM sent to the
// launcher reaches the broker, which shuts down cleanly.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT, spawnBroker } from "./helpers/broker.ts";
import { kcat, kcatConsume } from "./helpers/clients.ts";
import { describeFailure, run } from "./helpers/run.ts";
import { tempDir, type TempDir } from "./helpers/tmp.ts";

setDefaultTimeout(180_000);

// Node and npm (in /usr/bin here), nothing of the outer `npm test`: its npm_* variables would point
// npx at this repository instead of the prefix.
const CLEAN_ENV: Record<string, string | undefined> = Object.fromEntries(
  Object.keys(process.env)
    .filter((k) => /^(npm_|NPM_|NODE_|BUN_)/.test(k) || k === "INIT_CWD")
    .map((k) => [k, undefined]),
);
CLEAN_ENV.PATH = "/usr/bin:/bin";

let dir: TempDir;
let prefix: string;

beforeAll(async () => {
  expect(Bun.which("node", { PATH: CLEAN_ENV.PATH })).not.toBeNull();
  expect(Bun.which("bun", { PATH: CLEAN_ENV.PATH })).toBeNull();
  dir = await tempDir("brook-npx-");
  const packed = await run(["npm", "pack", "--pack-destination", dir.path], { cwd: REPO_ROOT, env: CLEAN_ENV, timeoutMs: 120_000 });
  if (packed.exitCode !== 0) throw new Error(describeFailure(packed));
  const tarball = readdirSync(dir.path).find((f) => f.endsWith(".tgz"));
  expect(tarball).toBeDefined();
  prefix = dir.join("prefix");
  // The registry, or the local npm cache when it has everything (as the fresh-clone test does).
  const installed = await run(["npm", "install", "--prefix", prefix, "--prefer-offline", "--no-audit", "--no-fund", join(dir.path, tarball!)], {
    cwd: dir.path,
    env: CLEAN_ENV,
    timeoutMs: 240_000,
  });
  if (installed.exitCode !== 0) throw new Error(describeFailure(installed));
});

afterAll(async () => {
  await dir?.remove();
});

test("the package holds the runtime files only", () => {
  const pkg = join(prefix, "node_modules", "brook");
  expect(readdirSync(pkg).sort()).toEqual(["README.md", "bin", "package.json", "protocol", "scripts", "src", "tsconfig.json"]);
  expect(existsSync(join(pkg, "test"))).toBe(false);
});

test("npx brook --version and --help run on Node with the Bun from npm", async () => {
  const version = await run(["npx", "--no", "--", "brook", "--version"], { cwd: prefix, env: CLEAN_ENV, timeoutMs: 60_000 });
  expect(version.exitCode).toBe(0);
  expect(version.stdout.trim()).toMatch(/^brook \d+\.\d+\.\d+ \(Bun \d+\.\d+\.\d+; crc32c: native; lz4: native\)$/);
  const help = await run(["npx", "--no", "--", "brook", "topics", "--help"], { cwd: prefix, env: CLEAN_ENV, timeoutMs: 60_000 });
  expect(help.exitCode).toBe(0);
  expect(help.stdout).toContain("usage: brook topics");
});

test("bunx brook: with Node on PATH through the launcher, and with --bun inside Bun itself", async () => {
  const bunx = join(prefix, "node_modules", ".bin", "bunx");
  for (const args of [["brook", "--version"], ["--bun", "brook", "--version"]]) {
    const r = await run([bunx, ...args], { cwd: prefix, env: CLEAN_ENV, timeoutMs: 60_000 });
    if (r.exitCode !== 0) throw new Error(describeFailure(r));
    expect(r.stdout.trim()).toMatch(/^brook \d+\.\d+\.\d+ \(Bun /);
  }
});

test("the bin starts a broker kcat can use; SIGTERM to the launcher stops it cleanly", async () => {
  await using data = await tempDir("brook-npx-data-");
  const broker = await spawnBroker({ command: [join(prefix, "node_modules", ".bin", "brook")], cwd: prefix, dataDir: data.path, env: CLEAN_ENV });
  try {
    await kcat(["-b", broker.address, "-P", "-t", "via-npx", "-K:"], { stdin: "k1:one\nk2:two\n" });
    expect((await kcatConsume(broker.address, "via-npx")).map((m) => `${m.key}=${m.payload}`)).toEqual(["k1=one", "k2=two"]);
    const listed = await run(["npx", "--no", "--", "brook", "topics", "-b", broker.address, "list"], { cwd: prefix, env: CLEAN_ENV, timeoutMs: 60_000 });
    expect(listed.stdout.trim().split("\n")).toEqual(["via-npx"]);
  } finally {
    expect(await broker.stop(15_000)).toBe(0);
  }
  expect(broker.output().stderr).toContain("broker stopped");
});
