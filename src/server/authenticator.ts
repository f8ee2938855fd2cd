// The SASL gate of a SASL_PLAINTEXT / SASL_SSL connection, in front of dispatch, as Kafka's
// SaslServerAuthenticator is in front of its request handlers. Until the client has authenticated only
// ApiVersions and the SASL exchange are served: SaslHandshake, then the mechanism's tokens, in
// SaslAuthenticate requests after a v1 handshake or as bare size-prefixed frames after v0. Anything else
// closes the connection. A failed authentication is answered with SASL_AUTHENTICATION_FAILED and its
// message after connection.failed.authentication.delay.ms, and the connection is then closed.
//
// Sessions (KIP-368): when connections.max.reauth.ms or the credential (an OAUTHBEARER token) bounds
// the session, its lifetime goes to the client in SaslAuthenticate v1+; a SaslHandshake on the
// authenticated connection starts a re-authentication (same mechanism, same principal), and the first
// other request after the session has expired closes the connection.
import { SaslAuthenticate } from "../../protocol/apis/36-sasl-authenticate.ts";
import { SaslHandshake } from "../../protocol/apis/17-sasl-handshake.ts";
import { allApis } from "../../protocol/apis/index.ts";
import { requestCodec } from "../../protocol/codec.ts";
import { ErrorCode, ProtocolError } from "../../protocol/errors.ts";
import { API_VERSIONS_KEY, readRequestHeader, skipHeaderTags, type RequestHeader } from "../../protocol/header.ts";
import { Reader } from "../../protocol/reader.ts";
import type { Session } from "../handlers/handler.ts";
import type { Logger } from "../log.ts";
import type { SaslSettings } from "../security/sasl-settings.ts";
import { SaslFailure, type SaslMechanism, type SaslServer } from "../security/sasl/mechanism.ts";
import type { Connection, Responder } from "./connection.ts";
import { encodeResponse } from "./dispatch.ts";

/** Kafka starts at most one re-authentication a second per connection; a quicker handshake goes to the handlers. */
const MIN_REAUTH_INTERVAL_MS = 1000;

type State = "handshake" | "authenticate" | "complete" | "failed";

const apiName = (key: number) => allApis.find((d) => d.key === key)?.name ?? `API key ${key}`;

export class SaslAuthenticator {
  private state: State = "handshake";
  private server: SaslServer | null = null;
  private mechanism: SaslMechanism | null = null;
  /** tokens travel in SaslAuthenticate requests (SaslHandshake v1+), else as bare frames */
  private framed = true;
  /** set while re-authenticating: what the new session must keep */
  private previous: { mechanism: SaslMechanism; principal: string } | null = null;
  private badReauthMechanism: string | null = null;
  private sessionExpiresAt: number | null = null;
  private lastReauthStart = 0;
  /** socket.request.max.bytes, the frame limit once authenticated */
  private readonly requestMaxBytes: number;

  constructor(
    private readonly conn: Connection,
    private readonly inner: Responder,
    private readonly session: Session,
    private readonly settings: SaslSettings,
    private readonly log: Logger,
    private readonly peer: string,
    /** told of each authentication's outcome (the listener's authentication metrics) */
    private readonly onOutcome: (ok: boolean) => void = () => {},
  ) {
    this.requestMaxBytes = conn.maxFrameBytes;
    conn.maxFrameBytes = Math.min(conn.maxFrameBytes, settings.maxReceiveSize);
  }

  readonly respond: Responder = (frame) => {
    switch (this.state) {
      case "complete": {
        if (this.sessionExpiresAt === null) return this.inner(frame);
        const apiKey = (frame[0]! << 8) | frame[1]!;
        const now = Date.now();
        if (apiKey === SaslHandshake.key && now - this.lastReauthStart >= MIN_REAUTH_INTERVAL_MS) {
          this.lastReauthStart = now;
          this.previous = { mechanism: this.mechanism!, principal: this.session.principal };
          return this.handshake(frame);
        }
        if (now > this.sessionExpiresAt) {
          this.log.info(`closing connection from ${this.peer}: the SASL session of ${this.session.principal} expired and was not re-authenticated`);
          return "close";
        }
        return this.inner(frame);
      }
      case "handshake":
        return this.handshake(frame);
      case "authenticate":
        return this.framed ? this.authenticateFramed(frame) : this.authenticateUnframed(frame);
      case "failed":
        return { response: null }; // waiting to close: nothing more is served
    }
  };

  private header(frame: Uint8Array): { header: RequestHeader; reader: Reader } | null {
    const reader = new Reader(frame);
    try {
      return { header: readRequestHeader(reader), reader };
    } catch {
      this.log.warn(
        `closing connection from ${this.peer}: not a Kafka request during SASL authentication on listener ${this.settings.listener} ` +
          `(a client configured with the wrong security.protocol?)`,
      );
      return null;
    }
  }

  private handshake(frame: Uint8Array): ReturnType<Responder> {
    const parsed = this.header(frame);
    if (!parsed) return "close";
    const { header, reader } = parsed;
    if (header.apiKey === API_VERSIONS_KEY && !this.previous) return this.inner(frame);
    if (header.apiKey !== SaslHandshake.key) {
      this.log.warn(`closing connection from ${this.peer}: ${apiName(header.apiKey)} request before SASL authentication (client ${header.clientId})`);
      return "close";
    }
    const version = header.apiVersion;
    if (version < SaslHandshake.versions[0] || version > SaslHandshake.versions[1]) {
      this.log.warn(`closing connection from ${this.peer}: SaslHandshake v${version} is not supported`);
      return "close";
    }
    let mechanism: string;
    try {
      mechanism = requestCodec(SaslHandshake, version).decode(reader).mechanism;
    } catch (e) {
      if (!(e instanceof ProtocolError) && !(e instanceof RangeError)) throw e;
      this.log.warn(`closing connection from ${this.peer}: malformed SaslHandshake request (${e.message})`);
      return "close";
    }
    const enabled = this.settings.mechanisms as readonly string[];
    const answer = (errorCode: number) => encodeResponse(SaslHandshake, version, header.correlationId, { errorCode, mechanisms: [...enabled] });
    if (!enabled.includes(mechanism)) {
      this.logFailure(`SASL mechanism ${JSON.stringify(mechanism)} is not enabled (enabled: ${enabled.join(", ")})`);
      return this.fail(answer(ErrorCode.UNSUPPORTED_SASL_MECHANISM));
    }
    const m = mechanism as SaslMechanism;
    this.framed = version >= 1;
    this.badReauthMechanism =
      this.previous && this.previous.mechanism !== m
        ? `SASL mechanism '${m}' requested by client is not supported for re-authentication of mechanism '${this.previous.mechanism}'`
        : null;
    this.mechanism = m;
    this.server = this.settings.newServer(m);
    this.state = "authenticate";
    this.conn.maxFrameBytes = Math.min(this.requestMaxBytes, this.settings.maxReceiveSize);
    if (!this.framed) this.conn.minFrameBytes = 0; // a bare token may be shorter than a request header
    return { response: answer(ErrorCode.NONE) };
  }

  private authenticateFramed(frame: Uint8Array): ReturnType<Responder> {
    const parsed = this.header(frame);
    if (!parsed) return "close";
    const { header, reader } = parsed;
    if (header.apiKey !== SaslAuthenticate.key) {
      this.log.warn(`closing connection from ${this.peer}: ${apiName(header.apiKey)} request during SASL authentication (client ${header.clientId})`);
      return "close";
    }
    const version = header.apiVersion;
    if (version < SaslAuthenticate.versions[0] || version > SaslAuthenticate.versions[1]) {
      this.log.warn(`closing connection from ${this.peer}: SaslAuthenticate v${version} is not supported`);
      return "close";
    }
    let token: Uint8Array;
    try {
      if (version >= SaslAuthenticate.flexible) skipHeaderTags(reader);
      token = requestCodec(SaslAuthenticate, version).decode(reader).authBytes;
    } catch (e) {
      if (!(e instanceof ProtocolError) && !(e instanceof RangeError)) throw e;
      this.log.warn(`closing connection from ${this.peer}: malformed SaslAuthenticate request (${e.message})`);
      return "close";
    }
    const answer = (body: { errorCode: number; errorMessage?: string; authBytes?: Uint8Array; sessionLifetimeMs?: number }) =>
      encodeResponse(SaslAuthenticate, version, header.correlationId, body);
    const outcome = this.evaluate(token);
    if (outcome instanceof SaslFailure) {
      const message = outcome.clientMessage ?? this.genericFailureMessage();
      return this.fail(answer({ errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: message }));
    }
    return { response: answer({ errorCode: ErrorCode.NONE, authBytes: outcome.token, sessionLifetimeMs: outcome.sessionLifetimeMs }) };
  }

  private authenticateUnframed(frame: Uint8Array): ReturnType<Responder> {
    const outcome = this.evaluate(frame);
    // Without SaslAuthenticate there is no way to say why: the connection just closes.
    if (outcome instanceof SaslFailure) return this.fail(null);
    const out = new Uint8Array(4 + outcome.token.length);
    new DataView(out.buffer).setInt32(0, outcome.token.length);
    out.set(outcome.token, 4);
    return { response: out };
  }

  /** Feeds one token to the mechanism; on completion sets up the session. */
  private evaluate(token: Uint8Array): { token: Uint8Array; sessionLifetimeMs: number } | SaslFailure {
    let failure: SaslFailure;
    try {
      if (this.badReauthMechanism) throw new SaslFailure(this.badReauthMechanism, this.badReauthMechanism);
      const out = this.server!.evaluate(token);
      if (!this.server!.complete) return { token: out, sessionLifetimeMs: 0 };
      const principal = `User:${this.server!.authorizationId}`;
      if (this.previous && this.previous.principal !== principal) {
        const dotted = (p: string) => p.replace(":", ".");
        const message = `Cannot change principals during re-authentication from ${dotted(this.previous.principal)}: ${dotted(principal)}`;
        throw new SaslFailure(message, message);
      }
      return { token: out, sessionLifetimeMs: this.completeSession(principal) };
    } catch (e) {
      if (!(e instanceof SaslFailure)) throw e;
      failure = e;
    }
    this.logFailure(failure.detail);
    return failure;
  }

  /** Kafka's session lifetime: the shorter of connections.max.reauth.ms and the credential's remaining life. */
  private completeSession(principal: string): number {
    const now = Date.now();
    const maxReauthMs = this.settings.maxReauthMs[this.mechanism!] ?? 0;
    const expiresAt = this.server!.credentialExpiresAt;
    let lifetime = 0;
    if (expiresAt !== undefined || maxReauthMs > 0) {
      if (expiresAt === undefined) lifetime = maxReauthMs;
      else if (maxReauthMs <= 0) lifetime = Math.max(0, expiresAt - now);
      else lifetime = Math.max(0, Math.min(expiresAt - now, maxReauthMs));
      this.sessionExpiresAt = now + lifetime;
    } else this.sessionExpiresAt = null;
    const what = this.previous ? "re-authenticated" : "authenticated";
    this.log.debug(`${this.peer} ${what} as ${principal} with ${this.mechanism} on listener ${this.settings.listener}` + (lifetime > 0 ? ` (session lifetime ${lifetime} ms)` : ""));
    this.session.principal = principal;
    this.onOutcome(true);
    this.state = "complete";
    this.server = null;
    this.previous = null;
    this.conn.minFrameBytes = 8;
    this.conn.maxFrameBytes = this.requestMaxBytes;
    return lifetime;
  }

  private genericFailureMessage(): string {
    const during = this.previous ? "re-authentication" : "authentication";
    return `Authentication failed during ${during} due to invalid credentials with SASL mechanism ${this.mechanism}`;
  }

  private logFailure(detail: string): void {
    this.log.warn(
      `failed ${this.previous ? "re-authentication" : "authentication"} with ${this.peer} on listener ${this.settings.listener}` +
        `${this.mechanism ? ` (${this.mechanism})` : ""}: ${detail}`,
    );
  }

  /** Answers (if there is a way to) after connection.failed.authentication.delay.ms, then closes. */
  private fail(response: Uint8Array | null): ReturnType<Responder> {
    this.state = "failed";
    this.server = null;
    this.onOutcome(false);
    const delay = this.settings.failedAuthenticationDelayMs;
    if (delay <= 0) return { response, close: true };
    return { response: new Promise<Uint8Array | null>((resolve) => setTimeout(() => resolve(response), delay)), close: true };
  }
}
