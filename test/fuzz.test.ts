// The protocol fuzzer (fuzz/): a fixed-seed slice of the full run `bun run fuzz` does (README). It drives a
// broker child process with structure-aware mutations of every API and version Brook serves, random
// bodies and lying frames over many connections at once, and fails on any finding: a crash, a request
// neither answered nor closed within the deadline, an out-of-order answer, an undecodable answer to a
// valid request, a handler exception, a fresh connection kept waiting, a canary topic that kcat does
// not read back exactly as acknowledged, or memory and sockets not back near their baseline.
import { describe, expect, test } from "bun:test";
import { allApis } from "../protocol/apis/index.ts";
import { requestCodec } from "../protocol/codec.ts";
import { readRequestHeader, skipHeaderTags } from "../protocol/header.ts";
import { Reader } from "../protocol/reader.ts";
import { JoinGroup } from "../protocol/apis/11-join-group.ts";
import { Writer } from "../protocol/writer.ts";
import { fuzz, malformedSubscriptionJoin } from "../fuzz/driver.ts";
import { encodeSubscription } from "../src/group/consumer-protocol.ts";
import { requestFrame } from "./helpers/wire.ts";
import { RequestFactory } from "../fuzz/generate.ts";
import { BatchPool } from "../fuzz/records.ts";
import { Rng } from "../fuzz/rng.ts";
import { requireTools } from "./helpers/clients.ts";

describe("the generator", () => {
  test("unmutated requests for every served API and version are well-formed (they decode completely)", () => {
    const pools = { topics: ["fz-0", "fz-1"], groups: ["g"], transactionalIds: ["t"], memberIds: [], producers: [], bombs: false };
    const factory = new RequestFactory(new Rng(7), pools, new BatchPool(new Rng(8), 32));
    let checked = 0;
    for (const api of allApis)
      for (let version = api.versions[0]; version <= api.versions[1]; version++)
        for (let i = 0; i < 10; i++) {
          const req = factory.structured(i, { api, version });
          const r = new Reader(req.bytes, 4);
          expect(new DataView(req.bytes.buffer).getInt32(0)).toBe(req.bytes.length - 4);
          const h = readRequestHeader(r);
          expect([h.apiKey, h.apiVersion, h.correlationId]).toEqual([api.key, version, i]);
          if (version >= api.flexible) skipHeaderTags(r);
          requestCodec(api, version).decode(r);
          expect(r.remaining).toBe(0);
          checked++;
        }
    expect(checked).toBeGreaterThan(1500);
  });

  test("the same seed generates the same requests", () => {
    const make = () => {
      const pools = { topics: ["fz-0"], groups: ["g"], transactionalIds: ["t"], memberIds: [], producers: [], bombs: false, now: 1_700_000_000_000 };
      const f = new RequestFactory(new Rng(42), pools, new BatchPool(new Rng(43), 16, false, pools.now));
      return Array.from({ length: 200 }, (_, i) => Buffer.from(f.structured(i).bytes).toString("hex")).join();
    };
    expect(make()).toBe(make());
  });
});

describe("what the driver counts as a finding", () => {
  // Found by the 10 M-frame run: a JoinGroup of type "consumer" with garbage metadata, into a consumer
  // group. Kafka 4 answers UNKNOWN_SERVER_ERROR there on purpose, and so does Brook.
  const join = (metadata: Uint8Array) => {
    const w = new Writer();
    requestCodec(JoinGroup, 8).encode(w, {
      groupId: "g", sessionTimeoutMs: 6864, rebalanceTimeoutMs: 661, memberId: "", groupInstanceId: "inst-1",
      protocolType: "consumer", protocols: [{ name: "cooperative-sticky", metadata }], reason: "fuzz",
    });
    return { apiKey: 11, version: 8, wellFramed: true, bytes: requestFrame({ apiKey: 11, apiVersion: 8, correlationId: 1, flexibleHeader: true }, w.finish()) };
  };
  test("UNKNOWN_SERVER_ERROR for a JoinGroup whose consumer subscription does not decode is Kafka's answer, not a finding", () => {
    const found = Buffer.from("00000071000b000800000178000a62726f6f6b2d66757a7a0012667a2d672d32342d313034343934382d3000001ad0000002950107696e73742d3109636f6e73756d65720213636f6f70657261746976652d737469636b7916624c90e39133a959b532ab1fb42b5443def8d7a908000566757a7a00", "hex");
    expect(malformedSubscriptionJoin({ apiKey: 11, version: 8, wellFramed: true, bytes: found })).toBe(true);
    expect(malformedSubscriptionJoin(join(Buffer.from("624c90e39133a959b532ab1fb42b5443def8d7a908", "hex")))).toBe(true);
  });
  test("...but it is one when the subscription is well-formed", () => {
    expect(malformedSubscriptionJoin(join(encodeSubscription(["t"])))).toBe(false);
  });
});

test("fixed-seed fuzz slice: no findings", async () => {
  await requireTools();
  const report = await fuzz({ seed: 20_261_001, frames: 6000, seconds: 35, connections: 24, deadlineMs: 20_000 });
  const summary = { frames: report.frames, responses: report.responses, closes: report.closedByBroker, canary: report.canary, rss: report.rss, stallMaxMs: report.stallMaxMs };
  expect({ findings: report.findings, summary }).toEqual({ findings: [], summary });
  expect(report.frames).toBeGreaterThan(500);
  expect(report.responses).toBeGreaterThan(report.frames / 4);
  expect(report.closedByBroker).toBeGreaterThan(0);
  expect(report.canary.acked).toBeGreaterThan(0);
  expect(report.canary.invalidRejected).toBeGreaterThan(0);
}, 120_000);
