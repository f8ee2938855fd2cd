#!/usr/bin/env node
// The package's `brook` command (npx brook, bunx brook, npm i -g brook). Brook runs on Bun, but npx starts
// this file with Node, so under Node it finds a Bun executable and runs src/cli.ts with it; under Bun it
// just loads the CLI. Plain JavaScript on purpose: Node cannot run the TypeScript sources.
//
// Where Bun comes from, in order: the `bun` npm package this package depends on (its postinstall
// places the binary at bun/bin/bun.exe), the platform package that postinstall would have used
// (@oven/bun-<os>-<arch>..., present when install scripts were skipped), then `bun` on PATH.
import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const cli = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "cli.ts");

if (process.versions.bun) {
  await import(cli);
} else {
  const bun = findBun();
  if (!bun) {
    console.error(
      "brook: cannot find Bun. It normally comes with the `bun` npm package Brook depends on; " +
        "reinstall without --ignore-scripts/--no-optional, or put `bun` on PATH (https://bun.sh).",
    );
    process.exit(1);
  }
  run(bun);
}

function findBun() {
  const require = createRequire(import.meta.url);
  let bunDir = null;
  try {
    bunDir = dirname(require.resolve("bun/package.json"));
  } catch {
    // not installed as a package (a source checkout without node_modules)
  }
  const exe = process.platform === "win32" ? "bun.exe" : "bun";
  const candidates = [];
  if (bunDir) {
    // Before the postinstall runs this is a small placeholder text file, not the binary.
    candidates.push(join(bunDir, "bin", "bun.exe"));
    const fromBun = createRequire(join(bunDir, "package.json"));
    for (const name of platformPackages()) {
      try {
        candidates.push(join(dirname(fromBun.resolve(`@oven/${name}/package.json`)), "bin", exe));
      } catch {
        // that platform package is not installed
      }
    }
  }
  for (const dir of (process.env.PATH ?? "").split(delimiter)) if (dir) candidates.push(join(dir, exe));
  return candidates.find(isBinary) ?? null;
}

/** The @oven/bun-* packages that can run here, most specific first (as bun's own installer orders them). */
function platformPackages() {
  const os = { darwin: "darwin", linux: "linux", freebsd: "freebsd", win32: "windows", android: "linux" }[process.platform];
  const arch = { x64: "x64", arm64: "aarch64" }[process.arch];
  if (!os || !arch) return [];
  const base = `bun-${os}-${arch}`;
  if (process.platform === "android") return [`${base}-android`];
  if (process.platform === "linux" && isMusl()) return [`${base}-musl`, `${base}-musl-baseline`];
  return [base, `${base}-baseline`];
}

function isMusl() {
  try {
    return !process.report.getReport().header.glibcVersionRuntime;
  } catch {
    return existsSync("/etc/alpine-release");
  }
}

function isBinary(path) {
  try {
    const s = statSync(path);
    return s.isFile() && s.size > 1024 * 1024;
  } catch {
    return false;
  }
}

function run(bun) {
  const child = spawn(bun, [cli, ...process.argv.slice(2)], { stdio: "inherit" });
  // Ctrl-C reaches the whole process group; a signal sent to this process alone (kill, a supervisor)
  // is passed on, so Brook always shuts down cleanly and this process waits for it.
  const forward = (signal) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, forward);
  child.on("error", (e) => {
    console.error(`brook: cannot start ${bun}: ${e.message}`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => {
    if (signal) {
      for (const s of ["SIGINT", "SIGTERM", "SIGHUP"]) process.removeAllListeners(s);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
}
