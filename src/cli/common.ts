// What every `brook` subcommand shares: where output goes, the connection options, and the rule that a
// failure is one line on stderr and a non-zero exit (2 for a wrong command line, 1 for anything else).
import { ErrorCode } from "../../protocol/errors.ts";
import { CliError, UsageError, intOption, type OptionSpec, type Parsed } from "./args.ts";

export interface Output {
  /** a line of text on stdout */
  out(line: string): void;
  /** a line of text on stderr */
  err(line: string): void;
  /** raw bytes (or text) on stdout, no newline added */
  write(data: string | Uint8Array): void;
}

export const stdio: Output = {
  out: (line) => void process.stdout.write(line + "\n"),
  err: (line) => void process.stderr.write(line + "\n"),
  write: (data) => void process.stdout.write(data),
};

/** Brook's default listener, so `brook topics list` needs no options against a default broker. */
export const DEFAULT_BOOTSTRAP = "127.0.0.1:9092";

export const CONNECTION_OPTIONS: OptionSpec[] = [
  { names: ["--bootstrap-server", "-b", "--bootstrap-servers", "--broker-list"], value: true },
  { names: ["--timeout"], value: true },
  { names: ["--help", "-h"] },
];

export interface Connection {
  bootstrap: string;
  timeoutMs: number;
}

export function connectionOf(p: Parsed): Connection {
  return { bootstrap: p.get("bootstrap-server") ?? DEFAULT_BOOTSTRAP, timeoutMs: intOption(p, "timeout", 30_000, 1) };
}

const ERROR_NAMES = new Map<number, string>(Object.entries(ErrorCode).map(([name, code]) => [code, name]));
export const errorName = (code: number) => ERROR_NAMES.get(code) ?? `error ${code}`;

/** "message (ERROR_NAME)", or just the name when the broker sent no message. */
export function describeError(code: number, message?: string | null): string {
  return message ? `${message} (${errorName(code)})` : errorName(code);
}

/**
 * Runs a subcommand body and turns what it throws into the exit status: usage errors are one line
 * naming --help (status 2), everything else one line (status 1). `--help` prints the usage (status 0).
 */
export async function runCommand(
  name: string,
  usage: string,
  argv: string[],
  io: Output,
  body: (argv: string[]) => Promise<number>,
): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.out(usage);
    return 0;
  }
  try {
    return await body(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`brook ${name}: ${e.message} (see brook ${name} --help)`);
      return 2;
    }
    const message = e instanceof CliError ? e.message : oneLine(e);
    io.err(`brook ${name}: ${message}`);
    return 1;
  }
}

function oneLine(e: unknown): string {
  const err = e as Error & { code?: string };
  const text = (err?.message ?? String(e)).split("\n")[0]!;
  return err?.code && !text.includes(err.code) ? `${text} (${err.code})` : text;
}
