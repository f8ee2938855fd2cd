// What a new user gets: `git clone` into an empty directory with nothing beside it (no ../shared),
// install, run tests. A quick subset of the suite runs in such a clone; it must pass, and the protocol
// conformance check must say plainly that Kafka's message definitions are absent instead of failing.
// The clone is of the committed HEAD, so this checks what would land, not the working tree.
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./helpers/broker.ts";
import { describeFailure, run } from "./helpers/run.ts";
import { tempDir } from "./helpers/tmp.ts";

const QUICK_SUBSET = ["test/protocol-conformance.test.ts", "test/readme.test.ts", "test/broker-core.test.ts"];

test(
  "a fresh clone with nothing beside it passes a quick subset of the suite",
  async () => {
    expect(existsSync(join(REPO_ROOT, ".git"))).toBe(true);
    await using dir = await tempDir("brook-fresh-clone-");
    const clone = dir.join("brook");
    const cloned = await run(["git", "clone", "--quiet", "--no-hardlinks", REPO_ROOT, clone], { timeoutMs: 120_000 });
    if (cloned.exitCode !== 0) throw new Error(describeFailure(cloned));
    expect(existsSync(join(clone, "..", "shared"))).toBe(false);

    // npm ci as the README says (the registry, or the local npm cache when it has everything).
    const env = { KAFKA_MESSAGE_SPEC_DIR: undefined, npm_config_audit: "false", npm_config_fund: "false" };
    const installed = await run(["npm", "ci", "--prefer-offline", "--no-audit", "--no-fund"], { cwd: clone, env, timeoutMs: 240_000 });
    if (installed.exitCode !== 0) throw new Error(describeFailure(installed));

    const tested = await run([join(clone, "node_modules", ".bin", "bun"), "test", "--timeout", "60000", ...QUICK_SUBSET], {
      cwd: clone,
      env,
      timeoutMs: 240_000,
    });
    if (tested.exitCode !== 0) throw new Error(describeFailure(tested));
    const out = tested.stdout + tested.stderr;
    expect(out).toMatch(/ 0 fail/);
    expect(out).toMatch(/Kafka's message definitions are not at .*NOT checked/);
    expect(out).toMatch(/\(skip\) conformance with Kafka's message definitions: not checked/);
  },
  { timeout: 600_000 },
);
