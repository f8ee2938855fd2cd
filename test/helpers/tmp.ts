// Temporary directories that remove themselves.
//   await using dir = await tempDir("brook-e2e-");   // dir.path; removed at scope exit
//   const dir = await tempDir(); ... await dir.remove();
import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TempDir extends AsyncDisposable {
  readonly path: string;
  /** A path inside the directory (not created). */
  join(...parts: string[]): string;
  remove(): Promise<void>;
}

// Safety net: directories still there when the test process exits are removed then.
const pending = new Set<string>();
process.on("exit", () => {
  for (const p of pending) rmSync(p, { recursive: true, force: true });
});

export async function tempDir(prefix = "brook-test-"): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  pending.add(path);
  let removed = false;
  const remove = async () => {
    if (removed) return;
    removed = true;
    pending.delete(path);
    await rm(path, { recursive: true, force: true });
  };
  return {
    path,
    join: (...parts: string[]) => join(path, ...parts),
    remove,
    [Symbol.asyncDispose]: remove,
  };
}

/** A unique topic name for one test (Kafka topic names: [a-zA-Z0-9._-], at most 249 characters). */
let topicCounter = 0;
export function topicName(label: string): string {
  const clean = label.replace(/[^a-zA-Z0-9._-]/g, "-").slice(0, 80);
  return `${clean}-${process.pid}-${++topicCounter}`;
}
