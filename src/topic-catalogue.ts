// The topic catalogue, `brook-topics.json` in the first log dir, read against what the log dirs hold.
// It is the only record of which topics exist, their ids and configs, so it is never guessed at:
//  - missing while partition directories with data exist: the start is refused (an empty broker next to
//    that data would later re-create a topic over it), unless brook.topic.catalogue.rebuild asks for it
//    to be rebuilt from the directories;
//  - unreadable (truncated, garbage, the wrong shape): refused likewise; with the rebuild, the unreadable
//    file is kept beside it as brook-topics.json.unreadable-<time>;
//  - a rebuild takes each topic's partitions from its directories, its id from the log dir checkpoint and
//    its leader epoch from leader-epoch-checkpoint; configs are stored nowhere else, so every rebuilt
//    topic gets retention.ms=-1 and retention.bytes=-1 (nothing is deleted before its configs are set
//    again) and a warning says so.
// A topic is deleted by renaming each partition directory to `<dir>.<topic id>-delete` (Kafka's
// suffix) before the catalogue forgets it: after a crash, a catalogue that still lists the topic next to
// such a directory is the deletion interrupted, and it is finished; `-delete` directories are removed.
// Partition directories the catalogue does not list (a topic whose creation the crash interrupted) are
// removed when they hold no data; one that holds data stops the start, as the catalogue cannot be
// right about it.
import fs from "node:fs";
import path from "node:path";

export const CATALOGUE = "brook-topics.json";
const LEGAL_NAME = /^[a-zA-Z0-9._-]+$/;
const PARTITION_DIR = /^(.+)-(\d+)$/;
const DELETING_DIR = /^(.+)-(\d+)\.([0-9a-f]{32})-delete$/;
const TOPIC_ID = /^[0-9a-f]{32}$/;
/** What a rebuilt topic gets in place of its lost configs: nothing is deleted until they are set again. */
export const REBUILT_TOPIC_CONFIGS: Readonly<Record<string, string>> = { "retention.ms": "-1", "retention.bytes": "-1" };

export interface CatalogueEntry {
  name: string;
  id: string;
  partitions: number;
  configs: Record<string, string>;
  internal?: boolean;
  dirs: string[];
  replicationFactor?: number;
  leaderEpoch?: number;
}

/** The catalogue file; older versions wrote only the topic list. */
export interface Catalogue {
  topics: CatalogueEntry[];
  /** the last leader epoch of each deleted topic name, so a re-created topic starts above it */
  retiredLeaderEpochs?: Record<string, number>;
  /** meta.properties' cluster id, kept here too so that a lost meta.properties can be written again */
  clusterId?: string;
}

export type CatalogueRead = { kind: "missing" } | { kind: "unreadable"; reason: string } | { kind: "ok"; catalogue: Catalogue };

/** Reads and checks the catalogue's shape (every field the broker relies on). */
export function readCatalogue(file: string): CatalogueRead {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return { kind: "missing" };
    return { kind: "unreadable", reason: (e as Error).message };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { kind: "unreadable", reason: `${(e as Error).message} (${text.length} bytes)` };
  }
  const catalogue: Catalogue = Array.isArray(parsed) ? { topics: parsed } : (parsed as Catalogue);
  const problem = checkCatalogue(catalogue);
  return problem ? { kind: "unreadable", reason: problem } : { kind: "ok", catalogue };
}

function checkCatalogue(c: Catalogue): string | null {
  if (c === null || typeof c !== "object" || !Array.isArray(c.topics)) return "no topic list";
  const names = new Set<string>();
  for (const [i, t] of c.topics.entries()) {
    const what = `topic #${i + 1}`;
    if (t === null || typeof t !== "object") return `${what} is not an object`;
    if (typeof t.name !== "string" || !LEGAL_NAME.test(t.name)) return `${what} has no valid name`;
    if (names.has(t.name)) return `topic ${t.name} is listed twice`;
    names.add(t.name);
    if (typeof t.id !== "string" || !TOPIC_ID.test(t.id)) return `topic ${t.name} has no valid id`;
    if (!Number.isSafeInteger(t.partitions) || t.partitions < 1) return `topic ${t.name} has no valid partition count`;
    if (t.configs === null || typeof t.configs !== "object" || Object.values(t.configs).some((v) => typeof v !== "string")) return `topic ${t.name} has no valid configs`;
    if (!Array.isArray(t.dirs) || t.dirs.some((d) => typeof d !== "string")) return `topic ${t.name} has no valid log dirs`;
    if (t.leaderEpoch !== undefined && !Number.isSafeInteger(t.leaderEpoch)) return `topic ${t.name} has no valid leader epoch`;
  }
  if (c.clusterId !== undefined && typeof c.clusterId !== "string") return "the cluster id is not a string";
  return null;
}

/** The cluster id the catalogue keeps (null when there is none or it cannot be read). */
export function catalogueClusterId(firstLogDir: string): string | null {
  const r = readCatalogue(path.join(firstLogDir, CATALOGUE));
  return r.kind === "ok" && typeof r.catalogue.clusterId === "string" ? r.catalogue.clusterId : null;
}

export interface DeletingDir {
  path: string;
  name: string;
  index: number;
  topicId: string;
}

export interface LogDirContents {
  /** topic → partition index → the log dir holding `<topic>-<index>` (several: the first) */
  partitions: Map<string, Map<number, string>>;
  /** partition directories of deletions that a crash interrupted */
  deleting: DeletingDir[];
}

/** Partition and `-delete` directories among the names of each log dir (as listed when it was opened). */
export function scanLogDirs(listings: { dir: string; names: readonly string[] }[]): LogDirContents {
  const out: LogDirContents = { partitions: new Map(), deleting: [] };
  for (const { dir, names } of listings) {
    for (const name of names) {
      if (name.startsWith("brook-") || name.startsWith(".")) continue;
      const d = DELETING_DIR.exec(name);
      if (d) {
        out.deleting.push({ path: path.join(dir, name), name: d[1]!, index: Number(d[2]), topicId: d[3]! });
        continue;
      }
      const m = PARTITION_DIR.exec(name);
      if (!m || !LEGAL_NAME.test(m[1]!)) continue; // (not stat'ed: thousands of them; see isDirectory)
      let parts = out.partitions.get(m[1]!);
      if (!parts) out.partitions.set(m[1]!, (parts = new Map()));
      if (!parts.has(Number(m[2]))) parts.set(Number(m[2]), dir);
    }
  }
  return out;
}

/** For names scanLogDirs found that the catalogue does not know: a file of that name is left alone. */
export function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Whether a partition directory holds any record data (a segment file that is not empty). */
export function holdsData(partitionDir: string): boolean {
  let names: string[];
  try {
    names = fs.readdirSync(partitionDir);
  } catch {
    return false;
  }
  return names.some((n) => n.endsWith(".log") && fs.statSync(path.join(partitionDir, n), { throwIfNoEntry: false })?.size);
}

/** The name a partition directory takes while its topic is deleted. */
export function deletingName(partitionDir: string, topicId: string): string {
  // As Kafka's logDeleteDirName: the topic part is cut so the name fits 255 bytes (a 249-character
  // topic name would not); the topic id, not the name, says which topic it was.
  const base = path.basename(partitionDir);
  const dash = base.lastIndexOf("-");
  const suffix = `${base.slice(dash)}.${topicId}-delete`;
  return path.join(path.dirname(partitionDir), base.slice(0, Math.min(dash, 255 - suffix.length)) + suffix);
}

/** A list of topic names for a message (the first ten). */
export function describeTopics(names: string[]): string {
  const shown = names.slice(0, 10).join(", ");
  return names.length > 10 ? `${shown} and ${names.length - 10} more` : shown;
}

/** Why the start stops: the catalogue missing (reason null) or unreadable, next to partition data. */
export function catalogueRefusal(file: string, reason: string | null, topicsWithData: string[]): string {
  const what = reason === null ? `${file} is missing` : `${file} is unreadable (${reason})`;
  const data = topicsWithData.length
    ? `the log dirs hold partition directories with data of ${topicsWithData.length} topic(s) (${describeTopics(topicsWithData)})`
    : "it lists the topics, their ids and configs";
  return (
    `${what}, but ${data}. Starting without it would serve an empty broker next to that data. ` +
    "Restore it from a backup; or start with --override brook.topic.catalogue.rebuild=true to rebuild it from the partition directories " +
    `(topic configs are kept only in the catalogue: rebuilt topics get ${JSON.stringify(REBUILT_TOPIC_CONFIGS)} until you set them again); ` +
    "or remove the partition directories to start empty"
  );
}
