// A SASL listener's settings, resolved once at startup from Kafka's properties with their per-listener
// and per-mechanism overrides: the enabled mechanisms, PLAIN's users from its JAAS entry, session
// lifetimes (connections.max.reauth.ms) and the limits of the exchange. Mistakes are ConfigErrors, so the
// broker refuses to start rather than refusing every client.
import { ConfigError, listenerSetting, type BrokerConfig } from "../config.ts";
import { parseJaasConfig, type JaasEntry } from "./jaas.ts";
import { SASL_MECHANISMS, type SaslMechanism, type SaslServer } from "./sasl/mechanism.ts";
import { plainServer } from "./sasl/plain.ts";
import { scramServer } from "./sasl/scram.ts";
import { oauthBearerServer, type OAuthBearerOptions } from "./sasl/oauthbearer.ts";
import { scramMechanism, type ScramCredential } from "./scram.ts";

/** Where SCRAM credentials are looked up (the broker's ScramCredentialStore). */
export interface ScramLookup {
  get(user: string, mechanism: string): ScramCredential | undefined;
}

const PLAIN_LOGIN_MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule";

export interface SaslSettings {
  /** the listener's name */
  readonly listener: string;
  readonly mechanisms: readonly SaslMechanism[];
  /** PLAIN users and passwords from the PlainLoginModule entry (user_<name>="<password>") */
  readonly plainUsers: ReadonlyMap<string, string>;
  /** connections.max.reauth.ms per mechanism; 0 = sessions do not expire */
  readonly maxReauthMs: Readonly<Record<string, number>>;
  /** connection.failed.authentication.delay.ms */
  readonly failedAuthenticationDelayMs: number;
  /** sasl.server.max.receive.size: the largest frame accepted before authentication completes */
  readonly maxReceiveSize: number;
  /** A fresh server for one exchange with the named (enabled) mechanism. */
  newServer(mechanism: SaslMechanism): SaslServer;
}

function jaasEntries(config: BrokerConfig, listener: string, mechanism: string): { entries: JaasEntry[]; property: string } | null {
  const property = `listener.name.${listener.toLowerCase()}.${mechanism.toLowerCase()}.sasl.jaas.config`;
  const text = listenerSetting(config, listener, "sasl.jaas.config", mechanism) as string | null;
  return text === null ? null : { entries: parseJaasConfig(text, property), property };
}

export function saslSettings(config: BrokerConfig, listener: string, scram: ScramLookup): SaslSettings {
  const enabled = ((listenerSetting(config, listener, "sasl.enabled.mechanisms") as string[] | null) ?? []).map((m) => m.trim().toUpperCase());
  if (enabled.length === 0) throw new ConfigError(`listener ${listener}: no SASL mechanisms are enabled (sasl.enabled.mechanisms)`);
  for (const m of enabled) {
    if (m === "GSSAPI")
      throw new ConfigError(
        `listener ${listener}: SASL mechanism GSSAPI (Kerberos, Kafka's default for sasl.enabled.mechanisms) is not supported by Brook; ` +
          `set sasl.enabled.mechanisms to some of ${SASL_MECHANISMS.join(", ")}`,
      );
    if (!(SASL_MECHANISMS as readonly string[]).includes(m))
      throw new ConfigError(`listener ${listener}: unknown SASL mechanism ${m} in sasl.enabled.mechanisms (supported: ${SASL_MECHANISMS.join(", ")})`);
  }
  const mechanisms = [...new Set(enabled)] as SaslMechanism[];

  const plainUsers = new Map<string, string>();
  if (mechanisms.includes("PLAIN")) {
    const jaas = jaasEntries(config, listener, "PLAIN");
    if (!jaas)
      throw new ConfigError(
        `listener ${listener}: PLAIN needs its users in listener.name.${listener.toLowerCase()}.plain.sasl.jaas.config, e.g. ` +
          `${PLAIN_LOGIN_MODULE} required user_alice="alice-secret";`,
      );
    const entry = jaas.entries.find((e) => e.loginModule === PLAIN_LOGIN_MODULE);
    if (!entry) throw new ConfigError(`${jaas.property}: PLAIN users are read from a ${PLAIN_LOGIN_MODULE} entry, and there is none`);
    for (const [k, v] of entry.options) if (k.startsWith("user_")) plainUsers.set(k.slice("user_".length), v);
  }

  // OAUTHBEARER: the unsecured validator's options, from the listener's OAuthBearerLoginModule entry if any.
  const oauth: OAuthBearerOptions = { principalClaim: "sub", scopeClaim: "scope", requiredScope: [], clockSkewMs: 0 };
  if (mechanisms.includes("OAUTHBEARER")) {
    const jaas = jaasEntries(config, listener, "OAUTHBEARER");
    const opts = jaas?.entries[0]?.options ?? new Map<string, string>();
    const opt = (name: string) => opts.get(`unsecuredValidator${name}`)?.trim() || undefined;
    oauth.principalClaim = opt("PrincipalClaimName") ?? "sub";
    oauth.scopeClaim = opt("ScopeClaimName") ?? "scope";
    oauth.requiredScope = (opt("RequiredScope") ?? "").split(" ").filter((s) => s !== "");
    const skew = opt("AllowableClockSkewMs") ?? "0";
    if (!/^\d+$/.test(skew)) throw new ConfigError(`${jaas!.property}: unsecuredValidatorAllowableClockSkewMs must be a non-negative integer`);
    oauth.clockSkewMs = Number(skew);
  }

  const maxReauthMs: Record<string, number> = {};
  for (const m of mechanisms) maxReauthMs[m] = listenerSetting(config, listener, "connections.max.reauth.ms", m) as number;

  return {
    listener,
    mechanisms,
    plainUsers,
    maxReauthMs,
    failedAuthenticationDelayMs: config.get("connection.failed.authentication.delay.ms") as number,
    maxReceiveSize: config.get("sasl.server.max.receive.size") as number,
    newServer(mechanism) {
      switch (mechanism) {
        case "PLAIN":
          return plainServer(plainUsers);
        case "SCRAM-SHA-256":
        case "SCRAM-SHA-512":
          return scramServer(scramMechanism(mechanism)!, (user) => scram.get(user, mechanism));
        case "OAUTHBEARER":
          return oauthBearerServer(oauth);
      }
    },
  };
}
