// SaslAuthenticate v0–v2, as the request handlers see it. The SASL exchange itself happens in the
// connection's authenticator (src/server/authenticator.ts); a SaslAuthenticate that gets here arrived
// without a handshake in progress, and Kafka answers it with ILLEGAL_SASL_STATE.
import { SaslAuthenticate } from "../../protocol/apis/36-sasl-authenticate.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { handler } from "./handler.ts";

export default handler(SaslAuthenticate, () => ({
  errorCode: ErrorCode.ILLEGAL_SASL_STATE,
  errorMessage: "SaslAuthenticate request received after successful authentication",
}));
