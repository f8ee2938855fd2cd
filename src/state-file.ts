// Small JSON state files (client quotas, telemetry subscriptions, dynamic broker configs): one that
// cannot be read stops the start with a message naming it, rather than running without what it held.
import { readFileSync } from "node:fs";

/** The file's JSON; throws an error that says which file, what it holds and what to do. */
export function readStateFile(path: string, holds: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`cannot read ${path} (${(e as Error).message}), which holds ${holds}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(
      `${path} is unreadable (${(e as Error).message}; ${text.length} bytes). It holds ${holds}: restore it from a backup, ` +
        "or remove it to start without them",
    );
  }
}
