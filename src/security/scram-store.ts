// SCRAM credentials, durable: brook-scram-credentials.json in the first log dir, replaced atomically
// (write, fsync, rename) and readable by its owner only. Each user has at most one credential per
// mechanism: salt, StoredKey, ServerKey and iterations, as Kafka keeps them. Neither the password nor
// the salted password is stored, so the file alone does not let anyone log in. A change made to the
// file by `brook users --log-dir` while the broker runs is picked up at the next login or change (the
// file's mtime is checked then), so neither side loses the other's users.
import { closeSync, existsSync, fchmodSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { SCRAM_MECHANISMS, type ScramCredential } from "./scram.ts";

export const SCRAM_CREDENTIALS_FILE = "brook-scram-credentials.json";

interface StoredCredential {
  salt: string;
  storedKey: string;
  serverKey: string;
  iterations: number;
}

interface StoredFile {
  version: 1;
  users: Record<string, Record<string, StoredCredential>>;
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));

export interface CredentialChange {
  user: string;
  mechanism: string;
  /** the new credential, or null to delete it */
  credential: ScramCredential | null;
}

export class ScramCredentialStore {
  private readonly users = new Map<string, Map<string, ScramCredential>>();
  /** mtime of the file as last read or written (-1: no file) */
  private loadedMtimeMs = -1;

  private constructor(readonly path: string) {}

  /** Loads the store of a log dir (empty when it has none yet). */
  static open(dir: string): ScramCredentialStore {
    const store = new ScramCredentialStore(join(dir, SCRAM_CREDENTIALS_FILE));
    store.load();
    return store;
  }

  private mtime(): number {
    try {
      return statSync(this.path).mtimeMs;
    } catch {
      return -1;
    }
  }

  private load(): void {
    const mtime = this.mtime();
    this.users.clear();
    this.loadedMtimeMs = mtime;
    if (!existsSync(this.path)) return;
    let parsed: StoredFile;
    try {
      parsed = JSON.parse(readFileSync(this.path, "utf8")) as StoredFile;
      if (parsed.version !== 1 || typeof parsed.users !== "object") throw new Error("unknown format");
    } catch (e) {
      throw new Error(`cannot read SCRAM credentials from ${this.path}: ${(e as Error).message}`);
    }
    for (const [user, creds] of Object.entries(parsed.users)) {
      const m = new Map<string, ScramCredential>();
      for (const [mechanism, c] of Object.entries(creds)) {
        if (!SCRAM_MECHANISMS.some((x) => x.name === mechanism)) continue;
        m.set(mechanism, { salt: unb64(c.salt), storedKey: unb64(c.storedKey), serverKey: unb64(c.serverKey), iterations: c.iterations });
      }
      if (m.size > 0) this.users.set(user, m);
    }
  }

  /** Re-reads the file if someone else (brook users --log-dir) replaced it. */
  private refresh(): void {
    if (this.mtime() === this.loadedMtimeMs) return;
    const before = new Map(this.users);
    try {
      this.load();
    } catch {
      // Only written whole (rename): an unreadable file is someone else's mistake; keep what we had.
      this.users.clear();
      for (const [u, m] of before) this.users.set(u, m);
    }
  }

  get(user: string, mechanism: string): ScramCredential | undefined {
    this.refresh();
    return this.users.get(user)?.get(mechanism);
  }

  has(user: string, mechanism: string): boolean {
    this.refresh();
    return this.users.get(user)?.has(mechanism) ?? false;
  }

  /** Every user with at least one credential, sorted. */
  userNames(): string[] {
    this.refresh();
    return [...this.users.keys()].sort();
  }

  /** A user's credentials by mechanism (none: an empty list). */
  credentialsOf(user: string): { mechanism: string; iterations: number }[] {
    this.refresh();
    const m = this.users.get(user);
    if (!m) return [];
    return SCRAM_MECHANISMS.filter((x) => m.has(x.name)).map((x) => ({ mechanism: x.name, iterations: m.get(x.name)!.iterations }));
  }

  /** Applies changes together: one durable write, then the in-memory view. */
  apply(changes: readonly CredentialChange[]): void {
    if (changes.length === 0) return;
    this.refresh();
    const next = new Map([...this.users].map(([u, m]) => [u, new Map(m)]));
    for (const c of changes) {
      let m = next.get(c.user);
      if (c.credential) {
        if (!m) next.set(c.user, (m = new Map()));
        m.set(c.mechanism, c.credential);
      } else if (m) {
        m.delete(c.mechanism);
        if (m.size === 0) next.delete(c.user);
      }
    }
    const file: StoredFile = { version: 1, users: {} };
    for (const [user, m] of next) {
      file.users[user] = {};
      for (const [mechanism, c] of m)
        file.users[user][mechanism] = { salt: b64(c.salt), storedKey: b64(c.storedKey), serverKey: b64(c.serverKey), iterations: c.iterations };
    }
    writePrivateFileAtomic(this.path, JSON.stringify(file, null, 1) + "\n");
    this.users.clear();
    for (const [u, m] of next) this.users.set(u, m);
    this.loadedMtimeMs = this.mtime();
  }
}

function writePrivateFileAtomic(path: string, text: string): void {
  mkdirSync(join(path, ".."), { recursive: true });
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
