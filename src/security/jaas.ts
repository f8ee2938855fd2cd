// The JAAS configuration syntax of Kafka's sasl.jaas.config:
//   <LoginModuleClass> <flag> [option=value ...];   (one or more entries)
// where a value is a bare word or a double-quoted string with backslash escapes. Values are secrets
// (PLAIN's user_<name>="<password>"), so parse errors never quote them.
import { ConfigError } from "../config.ts";

export interface JaasEntry {
  loginModule: string;
  /** required, requisite, sufficient or optional */
  flag: string;
  options: Map<string, string>;
}

const FLAGS = new Set(["required", "requisite", "sufficient", "optional"]);

type Token = { kind: "word" | "string"; text: string } | { kind: "=" | ";" };

function tokenize(text: string, property: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new ConfigError(`invalid JAAS configuration in ${property}: ${why} (at character ${i + 1})`);
  };
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "=" || c === ";") {
      tokens.push({ kind: c });
      i++;
    } else if (c === '"') {
      let out = "";
      i++;
      for (;;) {
        if (i >= text.length) fail("unterminated quoted string");
        const d = text[i++]!;
        if (d === '"') break;
        if (d === "\\") {
          if (i >= text.length) fail("unterminated quoted string");
          const e = text[i++]!;
          out += e === "n" ? "\n" : e === "t" ? "\t" : e === "r" ? "\r" : e;
        } else out += d;
      }
      tokens.push({ kind: "string", text: out });
    } else if (c === "/" && (text[i + 1] === "/" || text[i + 1] === "*")) {
      // Java's StreamTokenizer, which Kafka's parser uses, skips comments.
      if (text[i + 1] === "/") while (i < text.length && text[i] !== "\n") i++;
      else {
        const end = text.indexOf("*/", i + 2);
        if (end < 0) fail("unterminated comment");
        i = end + 2;
      }
    } else {
      const start = i;
      while (i < text.length && !/[\s=;"]/.test(text[i]!)) i++;
      tokens.push({ kind: "word", text: text.slice(start, i) });
    }
  }
  return tokens;
}

/** Parses a sasl.jaas.config value; `property` names it in errors. */
export function parseJaasConfig(text: string, property: string): JaasEntry[] {
  const tokens = tokenize(text, property);
  const entries: JaasEntry[] = [];
  const fail = (why: string): never => {
    throw new ConfigError(`invalid JAAS configuration in ${property}: ${why}`);
  };
  let i = 0;
  while (i < tokens.length) {
    const module = tokens[i++]!;
    if (module.kind !== "word") fail("expected a login module class name");
    const flag = tokens[i++];
    if (!flag || flag.kind !== "word" || !FLAGS.has(flag.text.toLowerCase()))
      fail(`expected a control flag (required, requisite, sufficient or optional) after ${(module as { text: string }).text}`);
    const options = new Map<string, string>();
    for (;;) {
      const t = tokens[i++];
      if (!t) fail("an entry must end with ';'");
      if (t!.kind === ";") break;
      if (t!.kind !== "word") fail("expected an option name");
      const name = (t as { text: string }).text;
      if (tokens[i++]?.kind !== "=") fail(`expected '=' after option ${name}`);
      const value = tokens[i++];
      if (!value || (value.kind !== "word" && value.kind !== "string")) fail(`expected a value for option ${name}`);
      options.set(name, (value as { text: string }).text);
    }
    entries.push({ loginModule: (module as { text: string }).text, flag: (flag as { text: string }).text.toLowerCase(), options });
  }
  if (entries.length === 0) fail("no login module");
  return entries;
}
