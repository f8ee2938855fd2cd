// Temporary directories that remove themselves.
//   await using dir = await tempDir("brook-e2e-");   // dir.path; removed at scope exit
//   const dir = await tempDir(); ... await dir.remove();
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TempDir extends AsyncDisposable {
  readonly path: string;
  /** A path inside the directory (not created). */
  join(...parts: string[]): string;
  remove(): Promise<void>;
}

export async function tempDir(prefix = "brook-test-"): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  let removed = false;
  const remove = async () => {
    if (removed) return;
    removed = true;
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
