// The README's API table must say exactly what the broker advertises.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { registry } from "../src/handlers/index.ts";

test("README's Supported APIs table matches the handler registry", () => {
  const readme = readFileSync(join(import.meta.dir, "..", "README.md"), "utf8");
  const start = readme.indexOf("## Supported APIs");
  const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
  const rows = [...section.matchAll(/^\| (\d+) \| (\w+) \| (\d+)(?:–(\d+))? \|$/gm)].map((m) => [
    Number(m[1]),
    m[2],
    Number(m[3]),
    Number(m[4] ?? m[3]),
  ]);
  const served = [...registry.values()].map((h) => [h.api.key, h.api.name, h.api.versions[0], h.api.versions[1]]).sort((a, b) => (a[0] as number) - (b[0] as number));
  expect(rows).toEqual(served);
});
