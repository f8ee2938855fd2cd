// Regression tests for what the protocol fuzzer (fuzz/) found, each as the smallest raw request that
// showed it. Frames by hand from shared/kafka-protocol/message/*.json; the record batch from RECORDS.md.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startBroker, type BrokerHandle } from "../src/broker.ts";
import { tempDir, type TempDir } from "./helpers/tmp.ts";
import { bytes, concat, int16, int32, RawClient, requestFrame, str } from "./helpers/wire.ts";

let dir: TempDir;
let broker: BrokerHandle;
let correlation = 1;

beforeAll(async () => {
  dir = await tempDir("brook-fuzz-findings-");
  broker = await startBroker({ dataDir: dir.path, logLevel: "silent", overrides: { "group.initial.rebalance.delay.ms": 0 } });
});
afterAll(async () => {
  await broker?.close();
  await dir?.remove();
});

const connect = () => RawClient.connect(broker.host, broker.port);
/** A STRING of raw bytes: int16 length, then the bytes (which need not be UTF-8). */
const rawStr = (b: Uint8Array) => concat(int16(b.length), b);

test("a group id of invalid UTF-8 that would not fit back into a response is refused, and ListGroups stays readable", async () => {
  // 12,000 bytes of 0xff decode to 12,000 U+FFFD: 36,000 bytes of UTF-8, past an int16 length. Before,
  // the group was created and every ListGroups answer after it carried a wrapped (negative) length.
  const c = await connect();
  let id = correlation++;
  // JoinGroup v0: group_id, session_timeout_ms, member_id, protocol_type, protocols [name, metadata].
  c.send(
    requestFrame(
      { apiKey: 11, apiVersion: 0, correlationId: id },
      concat(rawStr(new Uint8Array(12_000).fill(0xff)), int32(10_000), str(""), str("consumer"), int32(1), str("range"), bytes(new Uint8Array(0))),
    ),
  );
  // JoinGroup has a top-level error code: INVALID_REQUEST (42) for a body that cannot be read.
  let r = await c.response();
  expect(r.int32()).toBe(id);
  expect(r.int16()).toBe(42);

  id = correlation++;
  // ListGroups v0: no body. Response: error_code, groups [group_id, protocol_type].
  c.send(requestFrame({ apiKey: 16, apiVersion: 0, correlationId: id }, new Uint8Array(0)));
  r = await c.response();
  expect(r.int32()).toBe(id);
  expect(r.int16()).toBe(0);
  const n = r.int32();
  for (let i = 0; i < n; i++) {
    expect(r.string()).not.toBeNull();
    r.string();
  }
  expect(r.remaining).toBe(0);
  c.close();

  // The same in a request header's client id (echoed in member ids): the header is unreadable, closed.
  const h = await connect();
  const header = concat(int16(18), int16(0), int32(correlation++), rawStr(new Uint8Array(12_000).fill(0xff)));
  h.send(concat(int32(header.length), header));
  expect((await h.next()).kind).toBe("closed");
});
