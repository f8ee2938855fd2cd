// Test helpers that edit a stopped broker's log dir checkpoint (src/log/log-dir.ts), to set up the
// states recovery must handle.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LOG_CHECKPOINT_FILE } from "../../src/log/log-dir.ts";

function edit(logDir: string, change: (ckpt: { logs: Record<string, { p?: unknown; po?: number }> } & Record<string, unknown>) => void): void {
  const file = join(logDir, LOG_CHECKPOINT_FILE);
  const ckpt = JSON.parse(readFileSync(file, "utf8"));
  change(ckpt);
  writeFileSync(file, JSON.stringify(ckpt));
}

/** Removes a partition's producer-state snapshot, so the next start rebuilds it from the log. */
export function dropProducerSnapshot(logDir: string, partitionDir: string): void {
  edit(logDir, (c) => {
    const entry = c.logs[partitionDir];
    if (!entry || entry.p === undefined) throw new Error(`no producer snapshot for ${partitionDir} in ${logDir}`);
    delete entry.p;
    delete entry.po;
  });
}
