// Crash points, for the crash-at-every-step tests: BROOK_CRASH_POINT=<name>:<n> makes the process kill
// itself with SIGKILL the n-th time it passes the named step (n defaults to 1), so a test can crash
// Brook exactly between two writes that a kill from outside would rarely land between. Unset (always, in
// production) every call site costs one branch on a constant: `if (CRASH_POINTS) crashPoint("...")`.
//
// The steps (grep for the names):
//   append.after-journal        a partition announced its change in the log dir's journal, nothing written yet
//   append.after-write          batches written to the segment, not yet acknowledged
//   roll.after-create           the next segment file exists, the previous one is not sealed yet
//   checkpoint.before-rename    the log dir's new checkpoint is written to its temporary file
//   checkpoint.after-rename     the new checkpoint is in place, older journals not yet removed
//   close.before-marker         clean shutdown: final checkpoint written, clean-shutdown marker not yet
//   atomic-write.before-rename  a small file (topic catalogue, producer ids, ...) written, not yet renamed
//   topic.create.before-persist partition directories of a new topic exist, the catalogue does not list it
//   topic.delete.after-rename   a partition directory of a topic being deleted is renamed to *-delete
//   topic.delete.after-persist  the catalogue no longer lists a topic, its directories are still there
//   partitions.add.before-persist new partition directories exist, the catalogue has the old count
//   retention.between-segments  retention removed one segment of several it will remove
//   cleaner.before-swap         a compacted segment is written and synced, the original still in place
//   cleaner.after-swap          the compacted segment replaced the original, its index not yet written
//   offsets.after-append        a committed offset is in the offsets log, the commit not yet answered
//   txn.after-prepare           PrepareCommit/PrepareAbort is in the transaction log, no marker written
//   txn.between-markers         the first transaction marker is written, the others not yet
//   txn.before-complete         every marker is written, CompleteCommit/CompleteAbort not yet logged
import { writeSync } from "node:fs";

const spec = process.env.BROOK_CRASH_POINT ?? "";
const colon = spec.lastIndexOf(":");
const armed = spec === "" ? null : colon > 0 ? spec.slice(0, colon) : spec;
let remaining = colon > 0 ? Math.max(1, Number(spec.slice(colon + 1)) || 1) : 1;

/** True only when BROOK_CRASH_POINT is set: guard every call with it. */
export const CRASH_POINTS = armed !== null;

/** Kills the process (SIGKILL, no cleanup of any kind) when `name` is the armed step's n-th pass. */
export function crashPoint(name: string): void {
  if (name !== armed || --remaining > 0) return;
  try {
    writeSync(2, `brook: crash point ${name} reached: SIGKILL\n`);
  } catch {
    // stderr gone: die all the same
  }
  process.kill(process.pid, "SIGKILL");
}
