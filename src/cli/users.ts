// brook users: SCRAM users, with kafka-configs.sh's options.
//
// Against a running broker (Brook or Apache Kafka), through Describe/AlterUserScramCredentials:
//   brook users --bootstrap-server HOST:PORT [--command-config client.properties] --describe [--entity-name alice]
//   brook users --bootstrap-server HOST:PORT --alter --entity-name alice \
//       --add-config 'SCRAM-SHA-256=[iterations=8192,password=alice-secret],SCRAM-SHA-512=[password=alice-secret]'
//   brook users --bootstrap-server HOST:PORT --alter --entity-name alice --delete-config SCRAM-SHA-512
// Before the broker starts (bootstrap users, like kafka-storage.sh format --add-scram): the same with
// --config server.properties or --log-dir DIR instead of --bootstrap-server (a broker running on that log
// dir picks the change up at its next SCRAM login).
// --entity-type users is accepted and implied. The salted password is computed here; the password itself
// never leaves this process.
import { randomBytes } from "node:crypto";
import { AlterUserScramCredentials } from "../../protocol/apis/51-alter-user-scram-credentials.ts";
import { DescribeUserScramCredentials } from "../../protocol/apis/50-describe-user-scram-credentials.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { WireClient } from "../client.ts";
import { buildConfig, readPropertiesFile } from "../config.ts";
import { clientSecurity } from "../security/client-config.ts";
import { ScramCredentialStore, type CredentialChange } from "../security/scram-store.ts";
import {
  SCRAM_DEFAULT_ITERATIONS,
  SCRAM_MAX_ITERATIONS,
  SCRAM_MIN_ITERATIONS,
  credentialFromSaltedPassword,
  saltedPassword,
  scramMechanism,
  scramMechanismOfType,
  type ScramMechanismInfo,
} from "../security/scram.ts";

export const USERS_USAGE = `usage: brook users (--bootstrap-server HOST:PORT [--command-config FILE] | --config server.properties | --log-dir DIR)
         (--describe [--entity-name USER]
          | --alter --entity-name USER (--add-config 'SCRAM-SHA-256=[iterations=N,password=P],...' | --delete-config SCRAM-SHA-256,...))
  SCRAM users of a running broker (--bootstrap-server, any Kafka broker; --command-config holds client
  security properties: security.protocol, sasl.mechanism, sasl.jaas.config, ssl.truststore.location, ...),
  or of a stopped broker's log dir (--config or --log-dir), e.g. to create the first users.
  iterations: ${SCRAM_MIN_ITERATIONS}-${SCRAM_MAX_ITERATIONS}, default ${SCRAM_DEFAULT_ITERATIONS}. --entity-type users is implied.`;

class UsageError extends Error {}

interface Options {
  bootstrap?: string;
  commandConfig?: string;
  configFile?: string;
  logDir?: string;
  describe: boolean;
  alter: boolean;
  user?: string;
  add?: string;
  del?: string;
}

function parse(argv: string[]): Options {
  const o: Options = { describe: false, alter: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => {
      if (eq > 0) return arg.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--bootstrap-server":
        o.bootstrap = value();
        break;
      case "--command-config":
        o.commandConfig = value();
        break;
      case "--config":
        o.configFile = value();
        break;
      case "--log-dir":
        o.logDir = value();
        break;
      case "--describe":
        o.describe = true;
        break;
      case "--alter":
        o.alter = true;
        break;
      case "--entity-name":
      case "--user":
        o.user = value();
        break;
      case "--entity-type":
        if (value() !== "users") throw new UsageError("only --entity-type users is supported");
        break;
      case "--add-config":
        o.add = value();
        break;
      case "--delete-config":
        o.del = value();
        break;
      default:
        throw new UsageError(`unknown argument "${arg}"`);
    }
  }
  const targets = [o.bootstrap, o.configFile, o.logDir].filter((x) => x !== undefined).length;
  if (targets !== 1) throw new UsageError("give exactly one of --bootstrap-server, --config, --log-dir");
  if (o.describe === o.alter) throw new UsageError("give --describe or --alter");
  if (o.alter && !o.user) throw new UsageError("--alter needs --entity-name");
  if (o.alter && !o.add && !o.del) throw new UsageError("--alter needs --add-config or --delete-config");
  return o;
}

interface Upsert {
  mechanism: ScramMechanismInfo;
  iterations: number;
  password: string;
}

/** kafka-configs.sh's 'SCRAM-SHA-256=[iterations=8192,password=secret],SCRAM-SHA-512=[password=secret]'. */
export function parseAddConfig(text: string): Upsert[] {
  const out: Upsert[] = [];
  const re = /\s*([A-Za-z0-9-]+)=\[([^\]]*)\]\s*(?:,|$)/gy;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while (consumed < text.length && (m = re.exec(text))) {
    consumed = re.lastIndex;
    const mechanism = scramMechanism(m[1]!.toUpperCase());
    if (!mechanism) throw new UsageError(`unknown SCRAM mechanism ${m[1]} (SCRAM-SHA-256 or SCRAM-SHA-512)`);
    const fields = new Map<string, string>();
    for (const part of m[2]!.split(",")) {
      const eq = part.indexOf("=");
      if (eq <= 0) throw new UsageError(`${m[1]}: expected key=value, got "${part.startsWith("password") ? "password…" : part}"`);
      fields.set(part.slice(0, eq).trim(), part.slice(eq + 1));
    }
    const password = fields.get("password");
    if (password === undefined || password === "") throw new UsageError(`${m[1]}: a password is required`);
    const iterations = fields.has("iterations") ? Number(fields.get("iterations")) : SCRAM_DEFAULT_ITERATIONS;
    if (!Number.isInteger(iterations)) throw new UsageError(`${m[1]}: iterations must be an integer`);
    out.push({ mechanism, iterations, password });
  }
  if (consumed !== text.length || out.length === 0) throw new UsageError(`cannot read --add-config (expected 'SCRAM-SHA-256=[iterations=8192,password=...]')`);
  return out;
}

function parseDeleteConfig(text: string): ScramMechanismInfo[] {
  return text.split(",").map((name) => {
    const m = scramMechanism(name.trim().toUpperCase());
    if (!m) throw new UsageError(`unknown SCRAM mechanism ${name} in --delete-config`);
    return m;
  });
}

const describeLine = (user: string, creds: { mechanism: string; iterations: number }[]) =>
  `SCRAM credential configs for user-principal '${user}' are ${creds.map((c) => `${c.mechanism}=iterations=${c.iterations}`).join(", ")}`;

async function online(o: Options, out: (s: string) => void): Promise<number> {
  const security = o.commandConfig ? clientSecurity(readPropertiesFile(o.commandConfig)) : undefined;
  const client = await WireClient.connect(o.bootstrap!, { clientId: "brook-users", security });
  try {
    if (o.describe) {
      const r = await client.request(DescribeUserScramCredentials, { users: o.user ? [{ name: o.user }] : [] }, 0);
      if (r.errorCode !== 0) throw new Error(`${r.errorMessage ?? "describe failed"} (error ${r.errorCode})`);
      for (const u of r.results) {
        if (u.errorCode === ErrorCode.RESOURCE_NOT_FOUND) continue;
        if (u.errorCode !== 0) throw new Error(`${u.user}: ${u.errorMessage} (error ${u.errorCode})`);
        out(describeLine(u.user, u.credentialInfos.map((c) => ({ mechanism: scramMechanismOfType(c.mechanism)?.name ?? `mechanism ${c.mechanism}`, iterations: c.iterations }))));
      }
      return 0;
    }
    const upsertions = (o.add ? parseAddConfig(o.add) : []).map((u) => {
      const salt = new Uint8Array(randomBytes(32));
      return { name: o.user!, mechanism: u.mechanism.type, iterations: u.iterations, salt, saltedPassword: saltedPassword(u.mechanism, u.password, salt, u.iterations) };
    });
    const deletions = (o.del ? parseDeleteConfig(o.del) : []).map((m) => ({ name: o.user!, mechanism: m.type }));
    // One alteration per user per request is all Kafka accepts: send each change on its own.
    for (const d of deletions) check(await client.request(AlterUserScramCredentials, { deletions: [d], upsertions: [] }, 0));
    for (const u of upsertions) check(await client.request(AlterUserScramCredentials, { deletions: [], upsertions: [u] }, 0));
    out(`Completed updating config for user ${o.user}.`);
    return 0;
  } finally {
    client.close();
  }
}

function check(r: { results: { user: string; errorCode: number; errorMessage: string | null }[] }): void {
  for (const x of r.results) if (x.errorCode !== 0) throw new Error(`${x.user}: ${x.errorMessage ?? "failed"} (error ${x.errorCode})`);
}

function offline(o: Options, out: (s: string) => void): number {
  const dir = o.logDir ?? buildConfig(readPropertiesFile(o.configFile!)).logDirs[0]!;
  const store = ScramCredentialStore.open(dir);
  if (o.describe) {
    for (const user of o.user ? [o.user] : store.userNames()) {
      const creds = store.credentialsOf(user);
      if (creds.length > 0) out(describeLine(user, creds));
    }
    return 0;
  }
  const changes: CredentialChange[] = [];
  for (const m of o.del ? parseDeleteConfig(o.del) : []) {
    if (!store.has(o.user!, m.name)) throw new Error(`${o.user}: Attempt to delete a user credential that does not exist`);
    changes.push({ user: o.user!, mechanism: m.name, credential: null });
  }
  for (const u of o.add ? parseAddConfig(o.add) : []) {
    if (u.iterations < SCRAM_MIN_ITERATIONS) throw new Error(`${o.user}: Too few iterations`);
    if (u.iterations > SCRAM_MAX_ITERATIONS) throw new Error(`${o.user}: Too many iterations`);
    const salt = new Uint8Array(randomBytes(32));
    changes.push({ user: o.user!, mechanism: u.mechanism.name, credential: credentialFromSaltedPassword(u.mechanism, salt, saltedPassword(u.mechanism, u.password, salt, u.iterations), u.iterations) });
  }
  store.apply(changes);
  out(`Completed updating config for user ${o.user}.`);
  return 0;
}

/** Runs `brook users ARGS`; returns the exit status (2: wrong command line, 1: failure). */
export async function runUsers(argv: string[], out = (s: string) => console.log(s), err = (s: string) => console.error(s)): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    out(USERS_USAGE);
    return 0;
  }
  try {
    const o = parse(argv);
    return o.bootstrap ? await online(o, out) : offline(o, out);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`brook users: ${e.message}\n${USERS_USAGE}`);
      return 2;
    }
    err(`brook users: ${(e as Error).message.split("\n")[0]}`);
    return 1;
  }
}
