// Command-line parsing shared by the `brook` subcommands: long options (--name value, --name=value),
// kcat-style short ones (-t topic, -K: with the value attached), repeatable options, and an action given
// either as a word (`brook topics create orders`) or as the Kafka tools' flag (`--create --topic orders`).

/** A mistake in the command line: reported as one line with a pointer to --help, exit status 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A failure while doing the work (unreachable broker, an error code): one line, exit status 1. */
export class CliError extends Error {
  override name = "CliError";
}

export interface OptionSpec {
  /** every spelling, e.g. ["--topic", "-t"]; the first is the canonical name */
  names: string[];
  /** takes a value (otherwise a switch) */
  value?: boolean;
  /** may be given more than once (values collect in order) */
  repeat?: boolean;
}

export interface Parsed {
  /** the action word or flag, without dashes (e.g. "create"), if the command has actions */
  action?: string;
  /** values by canonical name (without the leading dashes); switches hold "" */
  options: Map<string, string[]>;
  /** arguments that are neither options nor the action */
  positional: string[];
  has(name: string): boolean;
  /** the last value given for an option */
  get(name: string): string | undefined;
  all(name: string): string[];
}

const canonical = (spec: OptionSpec) => spec.names[0]!.replace(/^-+/, "");

/**
 * Parses argv against `specs`. `actions` lists the action names; each may be given as a bare word
 * (first positional argument) or as `--name`; exactly one is required when the list is non-empty.
 */
export function parseArgs(argv: string[], specs: OptionSpec[], actions: string[] = []): Parsed {
  const byName = new Map<string, OptionSpec>();
  for (const s of specs) for (const n of s.names) byName.set(n, s);
  const options = new Map<string, string[]>();
  const positional: string[] = [];
  const chosen: string[] = [];
  const add = (spec: OptionSpec, value: string) => {
    const key = canonical(spec);
    const list = options.get(key);
    if (list && !spec.repeat && spec.value) throw new UsageError(`${spec.names[0]} given more than once`);
    if (list) list.push(value);
    else options.set(key, [value]);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq > 0 ? arg.slice(0, eq) : arg;
      if (actions.includes(name.slice(2)) && !byName.has(name)) {
        if (eq > 0) throw new UsageError(`${name} takes no value`);
        chosen.push(name.slice(2));
        continue;
      }
      const spec = byName.get(name);
      if (!spec) throw new UsageError(`unknown option ${name}`);
      if (!spec.value) {
        if (eq > 0) throw new UsageError(`${name} takes no value`);
        add(spec, "");
        continue;
      }
      if (eq > 0) add(spec, arg.slice(eq + 1));
      else {
        const next = argv[++i];
        if (next === undefined) throw new UsageError(`${name} needs a value`);
        add(spec, next);
      }
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1 && !/^-\d/.test(arg)) {
      // -t topic, -J, or kcat's attached form -K: / -p0
      const name = arg.slice(0, 2);
      const spec = byName.get(name);
      if (!spec || (arg.length > 2 && !spec.value)) throw new UsageError(`unknown option ${arg}`);
      if (!spec.value) add(spec, "");
      else if (arg.length > 2) add(spec, arg.slice(2));
      else {
        const next = argv[++i];
        if (next === undefined) throw new UsageError(`${name} needs a value`);
        add(spec, next);
      }
      continue;
    }
    if (actions.length > 0 && chosen.length === 0 && positional.length === 0 && actions.includes(arg)) {
      chosen.push(arg);
      continue;
    }
    positional.push(arg);
  }
  if (actions.length > 0) {
    if (chosen.length === 0) throw new UsageError(`an action is required: ${actions.join(", ")}`);
    if (chosen.length > 1) throw new UsageError(`only one action at a time (got ${chosen.join(" and ")})`);
  }
  return {
    action: chosen[0],
    options,
    positional,
    has: (name) => options.has(name),
    get: (name) => options.get(name)?.at(-1),
    all: (name) => options.get(name) ?? [],
  };
}

/** An integer option within bounds, or a UsageError naming the option. */
export function intOption(p: Parsed, name: string, fallback: number, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  const raw = p.get(name);
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw.trim())) throw new UsageError(`--${name} expects an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** "key=value" → [key, value]; the value may contain "=". */
export function keyValue(s: string, what: string): [string, string] {
  const eq = s.indexOf("=");
  if (eq <= 0) throw new UsageError(`${what} expects key=value, got "${s}"`);
  return [s.slice(0, eq), s.slice(eq + 1)];
}

/** A time given as milliseconds since the epoch or as anything Date reads (ISO 8601). */
export function parseTimestamp(s: string, what: string): number {
  const t = /^-?\d+$/.test(s.trim()) ? Number(s) : Date.parse(s);
  if (!Number.isFinite(t)) throw new UsageError(`${what}: cannot read "${s}" as a time (ms since the epoch or ISO 8601)`);
  return t;
}
