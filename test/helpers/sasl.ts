// SASL from the outside, for tests: the client-side settings stock clients take (kcat/librdkafka, kafka-python,
// kafkajs), and the SaslHandshake / SaslAuthenticate frames written by hand from the message definitions
// in shared/kafka-protocol/message (SaslHandshake{Request,Response}.json, SaslAuthenticate{Request,Response}.json).
import { ByteReader, bytes, RawClient, requestFrame, str } from "./wire.ts";

export const PLAIN_LOGIN_MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule";

/** A PLAIN JAAS entry with these users (name → password). */
export function plainJaas(users: Record<string, string>): string {
  return `${PLAIN_LOGIN_MODULE} required ${Object.entries(users)
    .map(([u, p]) => `user_${u}="${p}"`)
    .join(" ")};`;
}

/** librdkafka properties (kcat -X, confluent_kafka config) for a SASL login. */
export function rdkafkaSasl(protocol: "SASL_PLAINTEXT" | "SASL_SSL", mechanism: string, username: string, password: string): Record<string, string> {
  return { "security.protocol": protocol, "sasl.mechanisms": mechanism, "sasl.username": username, "sasl.password": password };
}

/** The same as kcat arguments. */
export const kcatArgs = (props: Record<string, string>): string[] => Object.entries(props).flatMap(([k, v]) => ["-X", `${k}=${v}`]);

// Error codes (clients/src/main/java/org/apache/kafka/common/protocol/Errors.java).
export const UNSUPPORTED_SASL_MECHANISM = 33;
export const ILLEGAL_SASL_STATE = 34;
export const SASL_AUTHENTICATION_FAILED = 58;

/** SaslHandshake request (key 17, v0/v1): mechanism STRING. */
export const handshakeFrame = (mechanism: string, version = 1, correlationId = 1) =>
  requestFrame({ apiKey: 17, apiVersion: version, correlationId }, str(mechanism));

/** SaslAuthenticate request (key 36, v0/v1, not flexible): auth_bytes BYTES. */
export const authenticateFrame = (token: Uint8Array | string, version = 1, correlationId = 2) =>
  requestFrame({ apiKey: 36, apiVersion: version, correlationId }, bytes(typeof token === "string" ? new TextEncoder().encode(token) : token));

export interface HandshakeResponse {
  correlationId: number;
  errorCode: number;
  mechanisms: string[];
}

export async function readHandshake(c: RawClient): Promise<HandshakeResponse> {
  const r = await c.response();
  const correlationId = r.int32();
  const errorCode = r.int16();
  const n = r.int32();
  const mechanisms: string[] = [];
  for (let i = 0; i < n; i++) mechanisms.push(r.string()!);
  return { correlationId, errorCode, mechanisms };
}

export interface AuthenticateResponse {
  correlationId: number;
  errorCode: number;
  errorMessage: string | null;
  authBytes: Uint8Array;
  sessionLifetimeMs?: bigint;
}

/** Reads a SaslAuthenticate v0/v1 response. */
export async function readAuthenticate(c: RawClient, version = 1): Promise<AuthenticateResponse> {
  const r: ByteReader = await c.response();
  const correlationId = r.int32();
  const errorCode = r.int16();
  const errorMessage = r.string();
  const n = r.int32();
  const authBytes = r.buf.slice(r.offset, r.offset + n);
  r.offset += n;
  const out: AuthenticateResponse = { correlationId, errorCode, errorMessage, authBytes };
  if (version >= 1) out.sessionLifetimeMs = r.int64();
  return out;
}

/** Handshake + one PLAIN token over SaslAuthenticate v1; returns the authenticate response. */
export async function plainLogin(c: RawClient, user: string, password: string): Promise<AuthenticateResponse> {
  c.send(handshakeFrame("PLAIN"));
  const hs = await readHandshake(c);
  if (hs.errorCode !== 0) throw new Error(`SaslHandshake failed with error ${hs.errorCode}`);
  c.send(authenticateFrame(`\0${user}\0${password}`));
  return readAuthenticate(c);
}
