// SASL/PLAIN (RFC 4616) as Kafka serves it: one message "authzid NUL authcid NUL password", checked
// against the user_<name>="<password>" options of the listener's PlainLoginModule JAAS entry. An
// authorization id, if sent, must equal the user name.
import { timingSafeEqual } from "node:crypto";
import { SaslFailure, strictUtf8, utf8, type SaslServer } from "./mechanism.ts";

export function plainServer(users: ReadonlyMap<string, string>): SaslServer {
  let complete = false;
  let user = "";
  return {
    mechanism: "PLAIN",
    get complete() {
      return complete;
    },
    get authorizationId() {
      return user;
    },
    evaluate(token) {
      if (complete) throw new SaslFailure("PLAIN exchange already complete");
      let text: string;
      try {
        text = strictUtf8.decode(token);
      } catch {
        throw new SaslFailure("Invalid SASL/PLAIN response: not UTF-8");
      }
      const parts = text.split("\0");
      if (parts.length !== 3) throw new SaslFailure(`Invalid SASL/PLAIN response: expected 3 tokens, got ${parts.length}`);
      const [authzid, username, password] = parts as [string, string, string];
      if (username === "") throw new SaslFailure("Authentication failed: username not specified");
      if (password === "") throw new SaslFailure("Authentication failed: password not specified");
      const expected = users.get(username);
      if (expected === undefined || !sameSecret(expected, password))
        throw new SaslFailure(`Invalid username or password for user ${JSON.stringify(username)}`, "Authentication failed: Invalid username or password");
      if (authzid !== "" && authzid !== username)
        throw new SaslFailure(
          `authorization id ${JSON.stringify(authzid)} differs from user ${JSON.stringify(username)}`,
          "Authentication failed: Client requested an authorization id that is different from username",
        );
      user = username;
      complete = true;
      return new Uint8Array(0);
    },
  };
}

function sameSecret(a: string, b: string): boolean {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
