// What the log needs from the operating system beyond node:fs: syncfs(2) (one call makes a whole log
// dir durable, where an fsync per file costs a journal commit each), the boot id (a process crash keeps
// the page cache, a reboot does not), the volume's free space, and the limits on open files and
// mappings that thousands of partitions run into.
import { dlopen } from "bun:ffi";
import fs from "node:fs";

type SyncFs = (fd: number) => number;
let syncfsFn: SyncFs | null | undefined;

function loadSyncfs(): SyncFs | null {
  if (syncfsFn !== undefined) return syncfsFn;
  syncfsFn = null;
  if (process.platform !== "linux") return null;
  try {
    const lib = dlopen("libc.so.6", { syncfs: { args: ["i32"], returns: "i32" } });
    syncfsFn = (fd) => lib.symbols.syncfs(fd) as number;
  } catch {
    // no FFI here (or another libc): callers fall back to fsync per file
  }
  return syncfsFn;
}

/**
 * Writes back everything dirty on the filesystem holding `dir` and waits for it (syncfs(2)). Returns
 * false when that is not available or failed; the caller then fsyncs its files one by one.
 */
export function syncFilesystem(dir: string): boolean {
  const syncfs = loadSyncfs();
  if (!syncfs) return false;
  let fd: number;
  try {
    fd = fs.openSync(dir, "r");
  } catch {
    return false;
  }
  try {
    return syncfs(fd) === 0;
  } finally {
    fs.closeSync(fd);
  }
}

let cachedBootId: string | null | undefined;

/** Changes on every reboot; null where unknown (then every unclean shutdown counts as a power loss). */
export function bootId(): string | null {
  if (cachedBootId !== undefined) return cachedBootId;
  try {
    cachedBootId = fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || null;
  } catch {
    cachedBootId = null;
  }
  return cachedBootId;
}

export interface VolumeSpace {
  /** bytes an unprivileged writer may still use (statfs f_bavail) */
  free: number;
  total: number;
}

export function volumeSpace(dir: string): VolumeSpace {
  const s = fs.statfsSync(dir);
  return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
}

/** The soft limit on open files (RLIMIT_NOFILE), from /proc; 1024 where unknown. */
export function openFileLimit(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync("/proc/self/limits", "utf8"));
    if (m) return m[1] === "unlimited" ? 1 << 20 : Number(m[1]);
  } catch {
    // not Linux
  }
  return 1024;
}

/** vm.max_map_count: how many mappings a process may hold; Linux's default where unknown. */
export function mapCountLimit(): number {
  try {
    const n = Number(fs.readFileSync("/proc/sys/vm/max_map_count", "utf8").trim());
    if (Number.isSafeInteger(n) && n > 0) return n;
  } catch {
    // not Linux
  }
  return 65530;
}

/** Is this error the volume (or a quota) being full? */
export function isNoSpace(e: unknown): boolean {
  const code = (e as { code?: string } | null)?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}
