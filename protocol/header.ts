// Request header v0–v2 and response header v0–v1. Which version applies follows from whether the
// API version is flexible; ApiVersions responses always use header v0 so that a client can read the
// error even when it asked for a version the broker does not know.
import { Reader } from "./reader.ts";
import { Writer } from "./writer.ts";

export const API_VERSIONS_KEY = 18;

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

/** Reads the fixed part (v1 layout; every API this broker serves uses v1+). Tagged fields come later. */
export function readRequestHeader(r: Reader): RequestHeader {
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const clientId = r.string(false); // never compact, even in header v2
  return { apiKey, apiVersion, correlationId, clientId };
}

/** Skips the header's tagged fields (header v2). */
export function skipHeaderTags(r: Reader): void {
  const count = r.uvarint();
  for (let i = 0; i < count; i++) {
    r.uvarint();
    const size = r.uvarint();
    r.pos += size;
    if (r.pos > r.end) throw new RangeError("header tagged field overruns the frame");
  }
}

/** Starts a response frame: reserves the size, writes the header; call endFrame after the body. */
export function beginResponse(w: Writer, correlationId: number, apiKey: number, flexible: boolean): number {
  const sizeAt = w.reserve(4);
  w.int32(correlationId);
  if (flexible && apiKey !== API_VERSIONS_KEY) w.uvarint(0);
  return sizeAt;
}

export function endFrame(w: Writer, sizeAt: number): Uint8Array {
  w.view.setInt32(sizeAt, w.pos - sizeAt - 4);
  return w.finish();
}

/** endFrame for a sharing writer: the frame as one buffer or as parts to write back to back. */
export function endFrameParts(w: Writer, sizeAt: number): Uint8Array | Uint8Array[] {
  const parts = w.finishParts();
  if (parts instanceof Uint8Array) {
    w.view.setInt32(sizeAt, w.pos - sizeAt - 4);
    return parts;
  }
  // The size sits in the first part (a view of the buffer as it was when the first range was shared).
  const first = parts[0]!;
  new DataView(first.buffer, first.byteOffset, first.byteLength).setInt32(sizeAt, w.totalLength - sizeAt - 4);
  return parts;
}
