// Structure-aware request generation: walks Brook's API definitions (protocol/apis) for one version,
// builds a request as a tree (fuzz/tree.ts) with plausible values — topic names from the fuzz pool,
// small partition numbers, valid and broken record batches — then mutates it: integers at their limits,
// lengths and counts off by one, huge or negative, overlong varints, unknown, duplicated and mis-sized
// tagged fields, garbage strings, truncated or padded bodies, unknown API keys and versions. Raw random
// frames and framing that lies (size prefix too big, too small, negative) are made here too.
import { allApis } from "../protocol/apis/index.ts";
import type { ApiDefinition, Field, FieldType } from "../protocol/types.ts";
import { BatchPool } from "./records.ts";
import type { Rng } from "./rng.ts";
import { allNodes, array, bytes, clone, int16, int32, int64, int8, raw, serialize, seq, string, type Node, type Prefix, type TagField } from "./tree.ts";

export interface Pools {
  topics: readonly string[];
  groups: readonly string[];
  transactionalIds: readonly string[];
  memberIds: string[];
  /** producer ids and epochs seen in InitProducerId answers */
  producers: { id: number; epoch: number }[];
  /** allow decompression bombs in record batches */
  bombs: boolean;
  /** "now" for timestamp fields (fixed for a run, so a seed replays the same bytes) */
  now?: number;
}

export type Expect = "response" | "none-or-close" | "close";

export interface FuzzRequest {
  /** what the request is, for reports: "Produce v7 [len-huge, tag-unknown]" */
  label: string;
  apiKey: number;
  version: number;
  correlationId: number;
  bytes: Uint8Array;
  /** false: the size prefix does not match what is sent; the stream is out of step from here */
  wellFramed: boolean;
  expect: Expect;
  /** time the broker may legitimately wait before answering (a long poll); Infinity = unbounded */
  waitMs: number;
  /** true: the response (if any) should decode with this API and version */
  checkResponse: boolean;
}

const CONFIG_NAMES = [
  "retention.ms", "retention.bytes", "segment.bytes", "segment.ms", "cleanup.policy", "max.message.bytes",
  "min.insync.replicas", "compression.type", "message.timestamp.type", "delete.retention.ms",
  "min.compaction.lag.ms", "min.cleanable.dirty.ratio", "flush.messages", "index.interval.bytes",
  "log.retention.ms", "message.max.bytes", "log.cleaner.backoff.ms", "log.segment.bytes", "no.such.config", "",
];
const CONFIG_VALUES = ["1", "0", "-1", "-2", "100", "1048576", "delete", "compact", "compact,delete", "gzip", "zstd", "producer", "LogAppendTime", "abc", "", "9223372036854775807", "99999999999999999999"];

const WAIT_FIELDS = /^(maxWaitMs|rebalanceTimeoutMs|sessionTimeoutMs)$/;

function present(f: Field, version: number): boolean {
  return version >= (f.since ?? 0) && version <= (f.until ?? Number.POSITIVE_INFINITY);
}
function nullableAt(f: Field, version: number): boolean {
  return f.nullable === true || (typeof f.nullable === "number" && version >= f.nullable);
}

class Generator {
  constructor(
    private readonly rng: Rng,
    private readonly pools: Pools,
    private readonly batches: BatchPool,
  ) {}

  topic(): string {
    const r = this.rng;
    if (r.chance(0.9)) return r.pick(this.pools.topics);
    return r.pick(["", ".", "..", "a".repeat(250), "bad/name", "fz-unknown-" + r.int(4), "ü", "fz-auto-" + r.int(8)]);
  }

  str(path: string[], name: string): string {
    const r = this.rng;
    const parent = path[path.length - 2] ?? "";
    if (/^(topic|topicName|topicNames|topics)$/.test(name)) return this.topic();
    if (name === "name" && /topic|Topic/.test(parent)) return this.topic();
    if (name === "name" && parent === "configs") return r.pick(CONFIG_NAMES);
    if (name === "value" && parent === "configs") return r.pick(CONFIG_VALUES);
    if (name === "configurationKeys") return r.pick(CONFIG_NAMES);
    if (name === "resourceName") return r.pick([...this.pools.topics, "1", "", "2", "fz-nope"]);
    if (/^(groupId|groups|groupsNames)$/.test(name)) return r.pick(this.pools.groups);
    if (name === "coordinatorKeys" || name === "key") return r.pick([...this.pools.groups, ...this.pools.transactionalIds]);
    if (/transactionalId/i.test(name)) return r.pick(this.pools.transactionalIds);
    if (name === "memberId") return this.pools.memberIds.length > 0 && r.chance(0.6) ? r.pick(this.pools.memberIds) : r.pick(["", "m-" + r.int(5)]);
    if (name === "groupInstanceId") return "inst-" + r.int(3);
    if (name === "protocolType") return r.pick(["consumer", "consumer", "", "connect"]);
    if (name === "protocolName" || (name === "name" && parent === "protocols")) return r.pick(["range", "roundrobin", "cooperative-sticky", ""]);
    if (name === "clientSoftwareName") return r.pick(["brook-fuzz", "a", "-bad-", ""]);
    if (name === "clientSoftwareVersion") return r.pick(["1.0", "x", ""]);
    if (name === "rackId") return r.pick(["", "r1"]);
    if (/^(statesFilter|stateFilters)$/.test(name)) return r.pick(["Empty", "Stable", "Ongoing", "Dead", "x"]);
    if (name === "reason") return r.pick(["", "fuzz"]);
    return r.pick(["", "x", "fuzz", "a".repeat(r.range(1, 40))]);
  }

  int(name: string, width: number): number | bigint {
    const r = this.rng;
    const small = () => r.range(-1, 4);
    switch (name) {
      case "partition":
      case "partitionIndex":
      case "index":
      case "partitions":
      case "partitionIndexes":
        return r.chance(0.9) ? r.range(0, 3) : r.pick([-1, 4, 100, 2147483647]);
      case "acks":
        return r.pick([1, 1, -1, -1, -1, 0]);
      case "timeoutMs":
        return r.range(0, 3000);
      case "maxWaitMs":
        return r.range(0, 100);
      case "minBytes":
        return r.pick([0, 1, 1, 100, 100000]);
      case "maxBytes":
      case "partitionMaxBytes":
        return r.pick([0, 1, 1024, 65536, 1048576, 52428800]);
      case "numPartitions":
        return r.chance(0.95) ? r.range(1, 4) : r.pick([-1, 0, -2, 300]);
      case "count":
        return r.chance(0.99) ? r.range(1, 6) : 300;
      case "replicationFactor":
        return r.pick([1, 1, -1, 2, 0]);
      case "sessionTimeoutMs":
        return r.range(6000, 10000);
      case "rebalanceTimeoutMs":
        return r.range(0, 1000);
      case "transactionTimeoutMs":
        return r.range(1000, 60000);
      case "generationId":
      case "generationIdOrMemberEpoch":
        return r.range(-1, 3);
      case "producerId": {
        const p = this.pools.producers;
        return p.length > 0 && r.chance(0.7) ? r.pick(p).id : r.pick([-1, 0, 1, 2, 1000]);
      }
      case "producerEpoch": {
        const p = this.pools.producers;
        return p.length > 0 && r.chance(0.7) ? r.pick(p).epoch : r.pick([-1, 0, 1]);
      }
      case "fetchOffset":
      case "offset":
      case "committedOffset":
      case "logStartOffset":
        return r.chance(0.8) ? r.range(0, 50) : r.pick([-1, -2, 1000000]);
      case "timestamp":
        return r.pick([-1, -2, -3, 0, this.pools.now ?? Date.now()]);
      case "resourceType":
        return r.pick([2, 2, 4, 4, 0, 1, 99]);
      case "configOperation":
        return r.range(0, 3);
      case "isolationLevel":
        return r.range(0, 1);
      case "keyType":
        return r.range(0, 1);
      case "replicaId":
        return -1;
      case "sessionId":
        return r.chance(0.9) ? 0 : 1;
      case "sessionEpoch":
        return r.pick([-1, 0, 0]);
      case "currentLeaderEpoch":
      case "lastFetchedEpoch":
      case "committedLeaderEpoch":
      case "leaderEpoch":
        return r.pick([-1, -1, 0]);
      case "brokerIds":
      case "brokerId":
      case "nodeId":
        return r.pick([1, 1, 2, -1]);
      case "maxNumOffsets":
        return 1;
      case "durationFilter":
        return -1;
      case "producerIdFilters":
        return r.range(0, 5);
      default:
        return width === 8 ? BigInt(small()) : small();
    }
  }

  gen(type: FieldType, field: Field, version: number, flexible: boolean, path: string[]): Node {
    const r = this.rng;
    const name = field.name;
    const nullable = nullableAt(field, version);
    const lenPrefix: Prefix = flexible ? "compact" : "int16";
    const widePrefix: Prefix = flexible ? "compact" : "int32";
    if (typeof type === "string") {
      switch (type) {
        case "bool":
          return int8(r.int(2), name);
        case "int8":
          return int8(Number(this.int(name, 1)), name);
        case "int16":
          return int16(Number(this.int(name, 2)), name);
        case "uint16":
          return { k: "u", width: 2, value: r.int(65536), name };
        case "int32":
          return int32(Number(this.int(name, 4)), name);
        case "uint32":
          return { k: "u", width: 4, value: r.next(), name };
        case "int64":
          return int64(this.int(name, 8), name);
        case "float64":
          return { k: "f64", value: r.pick([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) };
        case "uuid":
          return raw(r.chance(0.6) ? new Uint8Array(16) : r.bytes(16), "uuid");
        case "string":
          if (nullable && r.chance(0.2)) return string(null, lenPrefix);
          return string(this.str(path, name), lenPrefix);
        case "bytes":
          if (nullable && r.chance(0.2)) return bytes(null, widePrefix);
          return bytes(this.groupBytes(name), widePrefix);
        case "records": {
          if (nullable && r.chance(0.03)) return bytes(null, widePrefix, "records");
          const batch = this.batches.pick(r, r.chance(0.7));
          return bytes(batch, widePrefix, "records");
        }
      }
    }
    if (type.kind === "struct") {
      if (!nullable) return this.fields(type.fields, version, flexible, path);
      // A nullable struct starts with a presence byte: -1 null, 1 present.
      if (r.chance(0.3)) return int8(-1, name);
      return seq(int8(1, name), this.fields(type.fields, version, flexible, path));
    }
    // Arrays: a few elements, more for arrays of plain values.
    if (nullable && r.chance(0.1)) return array(null, widePrefix);
    const n = r.chance(0.85) ? r.range(/topics|Topics|topicData|partitions|partitionData/.test(name) ? 1 : 0, 3) : r.range(4, 12);
    const items: Node[] = [];
    const element: Field = { ...field, nullable: undefined }; // the array may be null, its elements not
    for (let i = 0; i < n; i++) items.push(this.gen(type.of, element, version, flexible, path));
    return array(items, widePrefix);
  }

  /** Consumer-protocol bytes (group metadata, assignments) or junk. */
  groupBytes(name: string): Uint8Array {
    const r = this.rng;
    if (/metadata|assignment|Metadata|Assignment/.test(name) && r.chance(0.6)) {
      // ConsumerProtocolSubscription v0: version, topics [string], user_data (nullable bytes).
      const topic = new TextEncoder().encode(r.pick(this.pools.topics));
      const b = new Uint8Array(2 + 4 + 2 + topic.length + 4);
      const v = new DataView(b.buffer);
      v.setInt16(0, 0);
      v.setInt32(2, 1);
      v.setInt16(6, topic.length);
      b.set(topic, 8);
      v.setInt32(8 + topic.length, -1);
      return b;
    }
    return r.bytes(r.range(0, 24));
  }

  fields(fields: readonly Field[], version: number, flexible: boolean, path: string[]): Node {
    const items: Node[] = [];
    const tagged: TagField[] = [];
    for (const f of fields) {
      if (!present(f, version)) continue;
      if (f.tag !== undefined) {
        if (flexible && this.rng.chance(0.3)) tagged.push({ tag: f.tag, body: this.gen(f.type, f, version, flexible, [...path, f.name]) });
        continue;
      }
      items.push(this.gen(f.type, f, version, flexible, [...path, f.name]));
    }
    if (flexible) items.push({ k: "tags", fields: tagged });
    return seq(...items);
  }
}

// ---- mutations ----------------------------------------------------------------------------------

const LIMITS: Record<number, (number | bigint)[]> = {
  1: [0, -1, 1, 127, -128],
  2: [0, -1, 1, 32767, -32768, 32766],
  // 10,010: past the 10,000-partition cap for any pool topic (allowed sizes cost an fsync per partition)
  4: [0, -1, 1, 2147483647, -2147483648, 2147483646, 10010, 100000],
  8: [0n, -1n, 1n, 9223372036854775807n, -9223372036854775808n, 9007199254740993n],
};

type Mutation = (root: Node, rng: Rng) => boolean;

const pickNode = <K extends Node["k"]>(root: Node, rng: Rng, kinds: K[], filter: (n: Extract<Node, { k: K }>) => boolean = () => true) => {
  const all = allNodes(root).filter((n) => (kinds as string[]).includes(n.k) && filter(n as Extract<Node, { k: K }>)) as Extract<Node, { k: K }>[];
  return all.length === 0 ? null : rng.pick(all);
};

const MUTATIONS: Record<string, Mutation> = {
  "int-limit": (root, rng) => {
    const n = pickNode(root, rng, ["int"]);
    if (!n) return false;
    n.value = rng.pick(LIMITS[n.width]!);
    if (n.width === 8) n.value = BigInt(n.value);
    return true;
  },
  "uint-limit": (root, rng) => {
    const n = pickNode(root, rng, ["u"]);
    if (!n) return false;
    n.value = rng.pick([0, 1, n.width === 2 ? 65535 : 4294967295]);
    return true;
  },
  "len-off-by-one": (root, rng) => {
    const n = pickNode(root, rng, ["sized", "array"], (x) => !x.nil);
    if (!n) return false;
    const actual = n.k === "sized" ? serialize(n.body).length : n.items.length;
    const v = actual + (rng.chance(0.5) ? 1 : -1);
    if (n.k === "sized") n.lengthOverride = v;
    else n.countOverride = v;
    return true;
  },
  "len-huge": (root, rng) => {
    const n = pickNode(root, rng, ["sized", "array"]);
    if (!n) return false;
    const v = n.prefix === "int16" ? rng.pick([32767, 32766]) : n.prefix === "int32" ? rng.pick([2147483647, 2147483646, 1 << 24]) : rng.pick([4294967294, 2147483647, 1 << 24]);
    if (n.k === "sized") n.lengthOverride = v;
    else n.countOverride = v;
    n.nil = false;
    return true;
  },
  "len-negative": (root, rng) => {
    const n = pickNode(root, rng, ["sized", "array"], (x) => x.prefix !== "compact");
    if (!n) return false;
    const v = rng.pick([-1, -2, -32768]);
    if (n.k === "sized") n.lengthOverride = v;
    else n.countOverride = v;
    if (v === -1) n.nil = true;
    return true;
  },
  "varint-overlong": (root, rng) => {
    const n = pickNode(root, rng, ["sized", "array", "uvarint"], (x) => x.k === "uvarint" || x.prefix === "compact");
    if (!n) return false;
    n.overlong = rng.range(1, 6);
    return true;
  },
  "tag-unknown": (root, rng) => {
    const n = pickNode(root, rng, ["tags"]);
    if (!n) return false;
    n.fields.push({ tag: rng.pick([rng.range(5, 100), 10000, 2147483647, 4294967295]), body: raw(rng.bytes(rng.range(0, 8))) });
    return true;
  },
  "tag-duplicate": (root, rng) => {
    const n = pickNode(root, rng, ["tags"], (x) => x.fields.length > 0);
    if (!n) return false;
    const f = rng.pick(n.fields);
    n.fields.push({ ...f, body: clone(f.body) });
    return true;
  },
  "tag-size": (root, rng) => {
    const n = pickNode(root, rng, ["tags"], (x) => x.fields.length > 0);
    if (!n) return false;
    const f = rng.pick(n.fields);
    const size = serialize(f.body).length;
    f.sizeOverride = rng.pick([size + 1, Math.max(0, size - 1), 2147483647, 0]);
    return true;
  },
  "tag-count": (root, rng) => {
    const n = pickNode(root, rng, ["tags"]);
    if (!n) return false;
    n.countOverride = rng.pick([n.fields.length + 1, n.fields.length + 100, 4294967295]);
    return true;
  },
  "string-garbage": (root, rng) => {
    const n = pickNode(root, rng, ["raw"], (x) => x.role === "string");
    if (!n) return false;
    n.bytes = rng.bytes(rng.chance(0.8) ? rng.range(1, 30) : rng.range(1000, 40000));
    return true;
  },
  "array-drop": (root, rng) => {
    const n = pickNode(root, rng, ["array"], (x) => x.items.length > 0);
    if (!n) return false;
    n.items.splice(rng.int(n.items.length), 1);
    return true;
  },
  "array-dup": (root, rng) => {
    const n = pickNode(root, rng, ["array"], (x) => x.items.length > 0);
    if (!n) return false;
    const i = rng.int(n.items.length);
    n.items.splice(i, 0, clone(n.items[i]!));
    return true;
  },
};
const MUTATION_NAMES = Object.keys(MUTATIONS);

// ---- frames -------------------------------------------------------------------------------------

const SERVED = allApis;

function header(apiKey: number, version: number, correlationId: number, clientId: string | null, flexible: boolean): Node {
  const items: Node[] = [int16(apiKey), int16(version), int32(correlationId), string(clientId, "int16")];
  if (flexible) items.push({ k: "tags", fields: [] });
  return seq(...items);
}

function frame(body: Uint8Array, sizeOverride?: number): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setInt32(0, sizeOverride ?? body.length);
  out.set(body, 4);
  return out;
}

/**
 * The largest legitimate wait among the request's wait fields (Infinity past a minute), plus time to
 * create the partitions it asks for (each costs an fsync; 25 ms each is generous on a busy disk).
 */
function waitOf(root: Node): number {
  let wait = 0;
  let partitions = 0;
  for (const n of allNodes(root)) {
    if (n.k !== "int" || !n.name) continue;
    const v = Number(n.value);
    if ((n.name === "numPartitions" || n.name === "count") && v > 0 && v <= 10_000) partitions += v;
    if (!WAIT_FIELDS.test(n.name)) continue;
    if (v > 60_000) return Number.POSITIVE_INFINITY;
    wait = Math.max(wait, v);
  }
  return wait + Math.min(partitions, 10_000) * 25;
}

export interface GenerateOptions {
  /** share of requests left valid (default 0.35) */
  validShare?: number;
}

export class RequestFactory {
  private readonly g: Generator;

  constructor(
    private readonly rng: Rng,
    readonly pools: Pools,
    batches: BatchPool,
    private readonly opts: GenerateOptions = {},
  ) {
    this.g = new Generator(rng, pools, batches);
  }

  /** A request for a served API and version, valid or structurally mutated. */
  structured(correlationId: number, forced?: { api: ApiDefinition; version: number }): FuzzRequest {
    const r = this.rng;
    const api = forced?.api ?? r.pick(SERVED);
    const [min, max] = api.versions;
    let version = forced?.version ?? r.range(min, max);
    const flexible = version >= api.flexible;
    const body = this.g.fields(api.request, version, flexible, []);
    const applied: string[] = [];
    let headerVersion = version;
    let apiKey = api.key;
    if (!forced && !r.chance(this.opts.validShare ?? 0.35)) {
      const n = r.chance(0.7) ? 1 : r.range(2, 3);
      for (let i = 0; i < n; i++) {
        const m = r.pick(MUTATION_NAMES);
        if (MUTATIONS[m]!(body, r)) applied.push(m);
      }
      if (r.chance(0.03)) {
        headerVersion = r.pick([min - 1, max + 1, -1, 32767]);
        applied.push("version-out-of-range");
      } else if (r.chance(0.01)) {
        apiKey = r.pick([-1, 17, 99, 1000, 32767]);
        applied.push("unknown-api-key");
      }
    }
    let bodyBytes = serialize(body);
    if (applied.length > 0 || forced === undefined) {
      if (r.chance(0.04)) {
        bodyBytes = bodyBytes.subarray(0, r.int(bodyBytes.length));
        applied.push("truncated");
      } else if (r.chance(0.03)) {
        const pad = r.bytes(r.range(1, 64));
        const b = new Uint8Array(bodyBytes.length + pad.length);
        b.set(bodyBytes);
        b.set(pad, bodyBytes.length);
        bodyBytes = b;
        applied.push("trailing-bytes");
      }
    }
    const clientId = r.chance(0.95) ? "brook-fuzz" : r.pick([null, "", "x".repeat(300)]);
    const head = serialize(header(apiKey, headerVersion, correlationId, clientId, headerVersion >= api.flexible));
    const all = new Uint8Array(head.length + bodyBytes.length);
    all.set(head);
    all.set(bodyBytes, head.length);

    const acks = api.key === 0 ? allNodes(body).find((n) => n.k === "int" && n.name === "acks") : undefined;
    let expect: Expect = "response";
    if (apiKey !== api.key) expect = "close";
    else if (headerVersion !== version && api.key !== 18) expect = "close";
    else if (acks && acks.k === "int" && Number(acks.value) === 0) expect = "none-or-close";
    if (headerVersion !== version) version = headerVersion;
    return {
      label: `${api.name} v${headerVersion}${apiKey !== api.key ? ` as key ${apiKey}` : ""}${applied.length ? ` [${applied.join(", ")}]` : ""}`,
      apiKey,
      version: headerVersion,
      correlationId,
      bytes: frame(all),
      wellFramed: true,
      expect,
      waitMs: waitOf(body),
      checkResponse: applied.length === 0 && apiKey === api.key,
    };
  }

  /** A well-framed request with a plausible header and a random body. */
  randomBody(correlationId: number): FuzzRequest {
    const r = this.rng;
    const api = r.pick(SERVED);
    const version = r.chance(0.8) ? r.range(api.versions[0], api.versions[1]) : r.range(-2, 20);
    const apiKey = r.chance(0.95) ? api.key : r.range(-5, 120);
    const flexible = version >= api.flexible;
    const head = serialize(header(apiKey, version, correlationId, "brook-fuzz", flexible));
    const body = r.bytes(r.chance(0.9) ? r.range(0, 64) : r.range(64, 8192));
    const all = new Uint8Array(head.length + body.length);
    all.set(head);
    all.set(body, head.length);
    // Random bytes may well decode (a Produce with acks=0 answers nothing), so no answer is not a hang.
    return { label: `random body for key ${apiKey} v${version}`, apiKey, version, correlationId, bytes: frame(all), wellFramed: true, expect: "none-or-close", waitMs: 0, checkResponse: false };
  }

  /** Bytes whose framing lies or is pure noise: the stream is out of step afterwards. */
  chaos(correlationId: number): FuzzRequest {
    const r = this.rng;
    const base = this.structured(correlationId);
    const body = base.bytes.subarray(4);
    const kind = r.int(5);
    let bytes: Uint8Array;
    let label: string;
    if (kind === 0) {
      bytes = frame(body, body.length + r.range(1, 100));
      label = "size prefix too big";
    } else if (kind === 1) {
      bytes = frame(body, Math.max(0, body.length - r.range(1, Math.max(1, body.length))));
      label = "size prefix too small";
    } else if (kind === 2) {
      bytes = frame(body, r.pick([0, -1, -2147483648, 7, 2147483647, 104857601]));
      label = "size prefix invalid";
    } else if (kind === 3) {
      bytes = base.bytes.subarray(0, r.int(base.bytes.length));
      label = "cut mid-frame";
    } else {
      bytes = r.bytes(r.range(1, 512));
      label = "noise";
    }
    return { label: `${label} (${base.label})`, apiKey: base.apiKey, version: base.version, correlationId, bytes, wellFramed: false, expect: "none-or-close", waitMs: Number.POSITIVE_INFINITY, checkResponse: false };
  }
}
