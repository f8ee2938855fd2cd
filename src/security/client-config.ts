// Client-side security from Kafka client properties, for Brook's own tools (`--command-config FILE`, as
// Kafka's tools take it): security.protocol; SASL from sasl.mechanism and sasl.jaas.config (PlainLoginModule
// / ScramLoginModule username= password=, OAuthBearerLoginModule unsecuredLoginStringClaim_sub=) or
// librdkafka's sasl.username / sasl.password; TLS from ssl.truststore.* / ssl.keystore.* (PEM or PKCS12) or
// librdkafka's ssl.ca.location / ssl.certificate.location / ssl.key.location, and
// ssl.endpoint.identification.algorithm ("" turns off the host name check).
import { readFileSync } from "node:fs";
import { ConfigError } from "../config.ts";
import { parseJaasConfig } from "./jaas.ts";
import type { SaslCredentials } from "./sasl/client.ts";
import { effectiveType, pemBlocks, readFile, readPkcs12 } from "./tls.ts";

export interface ClientTls {
  ca?: string[];
  cert?: string;
  key?: string;
  passphrase?: string;
  /** false: trust the chain, skip the host name check */
  checkHostname: boolean;
}

export interface ClientSecurity {
  protocol: string;
  tls?: ClientTls;
  sasl?: SaslCredentials;
}

const b64url = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");

/** An unsecured JWS as Kafka's OAuthBearerUnsecuredLoginCallbackHandler makes it. */
export function unsecuredJws(claims: Record<string, unknown>, lifetimeSeconds = 3600): string {
  const now = Date.now() / 1000;
  return `${b64url({ alg: "none" })}.${b64url({ iat: now, exp: now + lifetimeSeconds, ...claims })}.`;
}

export function clientSecurity(props: ReadonlyMap<string, string>): ClientSecurity {
  const get = (k: string) => {
    const v = props.get(k);
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  };
  const protocol = (get("security.protocol") ?? "PLAINTEXT").toUpperCase();
  if (!["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"].includes(protocol)) throw new ConfigError(`security.protocol: unknown protocol ${protocol}`);
  const out: ClientSecurity = { protocol };

  if (protocol.startsWith("SASL_")) {
    const mechanism = (get("sasl.mechanism") ?? get("sasl.mechanisms") ?? "GSSAPI").toUpperCase();
    const sasl: SaslCredentials = { mechanism, username: get("sasl.username"), password: get("sasl.password") };
    const jaasText = get("sasl.jaas.config");
    if (jaasText) {
      const entry = parseJaasConfig(jaasText, "sasl.jaas.config")[0]!;
      sasl.username = entry.options.get("username") ?? sasl.username;
      sasl.password = entry.options.get("password") ?? sasl.password;
      const sub = entry.options.get("unsecuredLoginStringClaim_sub");
      if (sub) sasl.token = unsecuredJws({ sub }, Number(entry.options.get("unsecuredLoginLifetimeSeconds") ?? 3600));
    }
    if (mechanism === "OAUTHBEARER" && !sasl.token) {
      const principal = /(?:^|\s)principal=(\S+)/.exec(get("sasl.oauthbearer.config") ?? "")?.[1];
      if (principal) sasl.token = unsecuredJws({ sub: principal });
    }
    out.sasl = sasl;
  }

  if (protocol === "SSL" || protocol === "SASL_SSL") {
    const tls: ClientTls = { checkHostname: (props.get("ssl.endpoint.identification.algorithm") ?? "https").trim() !== "" };
    const tsLocation = get("ssl.truststore.location");
    const tsInline = get("ssl.truststore.certificates");
    const caLocation = get("ssl.ca.location");
    if (tsLocation || tsInline || caLocation) {
      const file = tsLocation ? readFile(tsLocation, "ssl.truststore.location") : null;
      const type = tsInline || caLocation ? "PEM" : effectiveType((get("ssl.truststore.type") ?? "JKS").toUpperCase(), file, "ssl.truststore.location");
      tls.ca =
        type === "PEM"
          ? pemBlocks(tsInline ?? readFileSync(caLocation ?? tsLocation!, "utf8"))
              .filter((b) => b.label === "CERTIFICATE")
              .map((b) => b.pem)
          : readPkcs12(file!, get("ssl.truststore.password") ?? null, "ssl.truststore.location").certs;
    }
    const ksLocation = get("ssl.keystore.location");
    if (get("ssl.certificate.location") && get("ssl.key.location")) {
      tls.cert = readFileSync(get("ssl.certificate.location")!, "utf8");
      tls.key = readFileSync(get("ssl.key.location")!, "utf8");
      tls.passphrase = get("ssl.key.password");
    } else if (get("ssl.keystore.key")) {
      tls.key = get("ssl.keystore.key");
      tls.cert = get("ssl.keystore.certificate.chain");
      tls.passphrase = get("ssl.key.password");
    } else if (ksLocation) {
      const file = readFile(ksLocation, "ssl.keystore.location");
      const type = effectiveType((get("ssl.keystore.type") ?? "JKS").toUpperCase(), file, "ssl.keystore.location");
      if (type === "PEM") {
        const blocks = pemBlocks(file.toString("utf8"));
        tls.key = blocks.find((b) => b.label.endsWith("PRIVATE KEY"))?.pem;
        tls.cert = blocks.filter((b) => b.label === "CERTIFICATE").map((b) => b.pem + "\n").join("");
        tls.passphrase = get("ssl.key.password");
      } else {
        const m = readPkcs12(file, get("ssl.keystore.password") ?? null, "ssl.keystore.location");
        tls.key = m.key?.export({ type: "pkcs8", format: "pem" }) as string | undefined;
        tls.cert = m.certs.map((pem) => pem.trimEnd() + "\n").join("");
      }
    }
    out.tls = tls;
  }
  return out;
}
