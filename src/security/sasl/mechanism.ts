// What a server-side SASL mechanism is: a state machine fed the client's tokens, answering with the
// server's, until it is complete (the client is authenticated) or it throws SaslFailure.

export interface SaslServer {
  readonly mechanism: string;
  /** Evaluates the client's next token and returns the server's (possibly empty). Throws SaslFailure. */
  evaluate(token: Uint8Array): Uint8Array;
  readonly complete: boolean;
  /** the authenticated user name, once complete */
  readonly authorizationId: string;
  /** when the credential stops being valid (epoch ms; OAUTHBEARER's token expiry), once complete */
  readonly credentialExpiresAt?: number;
}

/**
 * A failed authentication. `clientMessage` is what Kafka tells the client (SaslAuthenticationException);
 * without it the client gets Kafka's generic "invalid credentials" message, which reveals nothing, and
 * `detail` only goes to the broker's log.
 */
export class SaslFailure extends Error {
  constructor(
    readonly detail: string,
    readonly clientMessage?: string,
  ) {
    super(detail);
  }
}

export const SASL_MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export const utf8 = new TextEncoder();
/** Strict UTF-8: a token that is not text is a failure, not a replacement character. */
export const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
