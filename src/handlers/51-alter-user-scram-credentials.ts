// AlterUserScramCredentials v0, with Kafka's validation (ScramControlManager): one alteration per user
// per request (else DUPLICATE_RESOURCE for that user), a non-empty name (UNACCEPTABLE_CREDENTIAL), a
// known mechanism (UNSUPPORTED_SASL_MECHANISM), 4096–16384 iterations (UNACCEPTABLE_CREDENTIAL "Too few /
// Too many iterations"), deleting only what exists (RESOURCE_NOT_FOUND). The accepted changes are stored
// together, durably, before the answer. What is kept is derived from the salted password (StoredKey,
// ServerKey), never the salted password itself. With an authorizer it needs ALTER on the cluster (else
// every user answers CLUSTER_AUTHORIZATION_FAILED), as in Kafka.
import { AlterUserScramCredentials } from "../../protocol/apis/51-alter-user-scram-credentials.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import type { CredentialChange } from "../security/scram-store.ts";
import { SCRAM_MAX_ITERATIONS, SCRAM_MIN_ITERATIONS, credentialFromSaltedPassword, scramMechanismOfType } from "../security/scram.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

interface Result {
  user: string;
  errorCode: number;
  errorMessage: string | null;
}

export default handler(AlterUserScramCredentials, (req, ctx) => {
  if (!ctx.authorize(AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME)) {
    const users = new Set([...req.deletions, ...req.upsertions].map((c) => c.name));
    return { throttleTimeMs: 0, results: [...users].map((user) => ({ user, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null })) };
  }
  const store = ctx.broker.scram;
  const errors = new Map<string, Result>();
  const deletions = new Map<string, CredentialChange>();
  const upsertions = new Map<string, CredentialChange & { iterations: number }>();
  const err = (user: string, code: number, message: string) => errors.set(user, { user, errorCode: code, errorMessage: message });
  const duplicate = (user: string) => err(user, ErrorCode.DUPLICATE_RESOURCE, "A user credential cannot be altered twice in the same request");
  const checkNameAndMechanism = (user: string, type: number) => {
    if (user === "") return err(user, ErrorCode.UNACCEPTABLE_CREDENTIAL, "Username must not be empty"), null;
    const m = scramMechanismOfType(type);
    if (!m) return err(user, ErrorCode.UNSUPPORTED_SASL_MECHANISM, "Unknown SCRAM mechanism"), null;
    return m;
  };

  for (const d of req.deletions) {
    if (errors.has(d.name)) continue;
    if (deletions.delete(d.name)) {
      duplicate(d.name);
      continue;
    }
    const m = checkNameAndMechanism(d.name, d.mechanism);
    if (!m) continue;
    if (!store.has(d.name, m.name)) err(d.name, ErrorCode.RESOURCE_NOT_FOUND, "Attempt to delete a user credential that does not exist");
    else deletions.set(d.name, { user: d.name, mechanism: m.name, credential: null });
  }
  for (const u of req.upsertions) {
    if (errors.has(u.name)) continue;
    if (deletions.delete(u.name) || upsertions.delete(u.name)) {
      duplicate(u.name);
      continue;
    }
    const m = checkNameAndMechanism(u.name, u.mechanism);
    if (!m) continue;
    if (u.iterations < SCRAM_MIN_ITERATIONS) err(u.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, "Too few iterations");
    else if (u.iterations > SCRAM_MAX_ITERATIONS) err(u.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, "Too many iterations");
    else
      upsertions.set(u.name, {
        user: u.name,
        mechanism: m.name,
        iterations: u.iterations,
        credential: credentialFromSaltedPassword(m, u.salt, u.saltedPassword, u.iterations),
      });
  }

  const changes = [...deletions.values(), ...upsertions.values()];
  store.apply(changes);
  if (changes.length > 0)
    ctx.broker.log.info(
      `SCRAM credentials altered by ${ctx.session.principal}: ` +
        [...[...upsertions.values()].map((c) => `${c.user} ${c.mechanism} set (${c.iterations} iterations)`), ...[...deletions.values()].map((c) => `${c.user} ${c.mechanism} deleted`)].join(", "),
    );
  const ok = (c: CredentialChange): Result => ({ user: c.user, errorCode: ErrorCode.NONE, errorMessage: null });
  return { throttleTimeMs: 0, results: [...[...deletions.values()].map(ok), ...[...upsertions.values()].map(ok), ...errors.values()] };
});
