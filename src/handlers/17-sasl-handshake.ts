// SaslHandshake v0–v1, as the request handlers see it. On a SASL listener the handshake is answered by the
// connection's authenticator (src/server/authenticator.ts) before any request reaches a handler, and again
// for a KIP-368 re-authentication; a handshake that gets here came on a listener without SASL or after
// authentication with re-authentication off, and Kafka answers it with ILLEGAL_SASL_STATE.
import { SaslHandshake } from "../../protocol/apis/17-sasl-handshake.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { handler } from "./handler.ts";

export default handler(SaslHandshake, () => ({ errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] }));
