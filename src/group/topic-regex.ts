// Topic regex subscriptions of the consumer group protocol (ConsumerGroupHeartbeat v1). Kafka compiles
// them with RE2/J and a topic matches when the whole name matches; re2js is a port of RE2/J, so the
// accepted syntax (no lookaround, no backreferences, repeat counts up to 1000, ...) and the matching are
// the same as Kafka's.
import { RE2JS } from "re2js";

const cache = new Map<string, RE2JS>();

/** The compile error of an invalid expression, null when it is valid. */
export function regexError(regex: string): string | null {
  try {
    compiled(regex);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

function compiled(regex: string): RE2JS {
  let re = cache.get(regex);
  if (!re) {
    re = RE2JS.compile(regex);
    if (cache.size > 1000) cache.clear();
    cache.set(regex, re);
  }
  return re;
}

/** The topic names the expression matches as a whole (an invalid expression matches nothing). */
export function resolveRegex(regex: string, topics: Iterable<string>): Set<string> {
  const out = new Set<string>();
  let re: RE2JS;
  try {
    re = compiled(regex);
  } catch {
    return out;
  }
  for (const t of topics) if (re.matches(t)) out.add(t);
  return out;
}
