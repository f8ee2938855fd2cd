// A TLS listener's settings (SSL, SASL_SSL) from Kafka's ssl.* properties, each overridable per listener
// with listener.name.<listener>.ssl.*, turned into options for Bun's TLS server (BoringSSL):
//   keystore   PEM (ssl.keystore.location holding key + chain, or inline ssl.keystore.key /
//              ssl.keystore.certificate.chain; ssl.key.password for an encrypted key) or PKCS12
//              (ssl.keystore.location + ssl.keystore.password); Kafka's default type JKS is read as PKCS12
//              when the file is one (as Java does), a real JKS file is refused with the command to convert it
//   truststore PEM (file or inline ssl.truststore.certificates) or PKCS12: the CAs client certificates are
//              checked against
//   ssl.client.auth  none | requested | required; for SASL_SSL only a listener-prefixed value counts (KIP-684)
//   ssl.enabled.protocols, ssl.cipher.suites (IANA names, as Java takes them)
// Everything is read and checked at startup (ConfigError), keys are decrypted once, and the server gets
// plain PEM. PKCS12 is parsed with node-forge (pure JavaScript; it reads OpenSSL 3's AES/PBKDF2 files as
// well as Java's and OpenSSL 1's legacy 3DES/RC2 ones, which Bun's crypto cannot).
import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import forge from "node-forge";
import { ConfigError, listenerSetting, type BrokerConfig } from "../config.ts";
import { SslPrincipalMapper } from "./principal.ts";

export type ClientAuth = "none" | "requested" | "required";

export interface TlsSettings {
  readonly listener: string;
  /** for Bun.listen({ tls }) */
  readonly options: {
    key: string;
    cert: string;
    ca?: string[];
    requestCert: boolean;
    rejectUnauthorized: boolean;
    ciphers?: string;
    secureOptions?: number;
  };
  readonly clientAuth: ClientAuth;
  readonly principalMapper: SslPrincipalMapper;
  /** TLS 1.3 suites allowed when ssl.cipher.suites names some (BoringSSL cannot restrict them itself) */
  readonly tls13Suites: ReadonlySet<string> | null;
}

// OpenSSL's SSL_OP_NO_* bits, which BoringSSL honours.
const SSL_OP_NO_TLSv1 = 0x04000000;
const SSL_OP_NO_TLSv1_1 = 0x10000000;
const SSL_OP_NO_TLSv1_2 = 0x08000000;
const SSL_OP_NO_TLSv1_3 = 0x20000000;
const PROTOCOL_BITS: Record<string, number> = { TLSv1: SSL_OP_NO_TLSv1, "TLSv1.1": SSL_OP_NO_TLSv1_1, "TLSv1.2": SSL_OP_NO_TLSv1_2, "TLSv1.3": SSL_OP_NO_TLSv1_3 };
const TLS13_SUITES = new Set(["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]);

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

export function pemBlocks(text: string): { label: string; pem: string }[] {
  return [...text.matchAll(PEM_BLOCK)].map((m) => ({ label: m[1]!, pem: m[0] }));
}

const derToPem = (label: string, der: string) => `-----BEGIN ${label}-----\n${forge.util.encode64(der).replace(/.{1,64}/g, "$&\n")}-----END ${label}-----\n`;

interface Material {
  key: KeyObject | null;
  certs: string[];
}

export function readFile(path: string, property: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ConfigError(`${property}: cannot read ${path}: ${(e as Error).message}`);
  }
}

/** Java reads a PKCS12 file under type JKS; a real JKS (magic 0xFEEDFEED) cannot be read here. */
export function effectiveType(type: string, file: Buffer | null, property: string): string {
  if (type !== "JKS") return type;
  if (!file) throw new ConfigError(`${property}: a JKS store needs a location`);
  if (file.length >= 4 && file.readUInt32BE(0) === 0xfeedfeed)
    throw new ConfigError(
      `${property}: JKS key stores are not supported by Brook; convert it to PKCS12 ` +
        `(keytool -importkeystore -srckeystore FILE -destkeystore FILE.p12 -deststoretype PKCS12) and set the type to PKCS12`,
    );
  return "PKCS12";
}

export function readPkcs12(file: Buffer, password: string | null, property: string): Material {
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(file.toString("binary")));
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, false, password ?? "");
  } catch (e) {
    const why = /MAC could not be verified/.test((e as Error).message) ? "wrong password" : (e as Error).message;
    throw new ConfigError(`${property}: cannot read the PKCS12 store (${why})`);
  }
  const keyBags = [
    ...(p12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag! })[forge.pki.oids.pkcs8ShroudedKeyBag!] ?? []),
    ...(p12.getBags({ bagType: forge.pki.oids.keyBag! })[forge.pki.oids.keyBag!] ?? []),
  ];
  const certBags = p12.getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!] ?? [];
  let key: KeyObject | null = null;
  let leafKeyId: string | undefined;
  const keyBag = keyBags[0];
  if (keyBag) {
    const info = keyBag.key ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(keyBag.key)) : keyBag.asn1;
    key = createPrivateKey(derToPem("PRIVATE KEY", forge.asn1.toDer(info).getBytes()));
    leafKeyId = keyBag.attributes?.localKeyId?.[0];
  }
  const certs = certBags.map((b) => ({
    pem: derToPem("CERTIFICATE", forge.asn1.toDer(b.cert ? forge.pki.certificateToAsn1(b.cert) : b.asn1!).getBytes()),
    leaf: leafKeyId !== undefined && b.attributes?.localKeyId?.[0] === leafKeyId,
  }));
  // The key's own certificate first, then the rest of the chain.
  certs.sort((a, b) => Number(b.leaf) - Number(a.leaf));
  return { key, certs: certs.map((c) => c.pem) };
}

function decryptKey(pem: string, password: string | null, property: string): KeyObject {
  try {
    return createPrivateKey(password === null ? pem : { key: pem, passphrase: password });
  } catch (e) {
    const encrypted = pem.includes("ENCRYPTED");
    throw new ConfigError(`${property}: cannot read the private key${encrypted ? " (is ssl.key.password right?)" : ""}: ${(e as Error).message}`);
  }
}

export function tlsSettings(config: BrokerConfig, listener: string, securityProtocol: string): TlsSettings {
  const get = (name: string) => listenerSetting(config, listener, name);
  const str = (name: string) => get(name) as string | null;
  const prop = (name: string) => `ssl.${name.replace(/^ssl\./, "")} (listener ${listener})`;

  // Keystore: the server's key and certificate chain.
  const ksLocation = str("ssl.keystore.location");
  const ksFile = ksLocation ? readFile(ksLocation, prop("ssl.keystore.location")) : null;
  const inlineChain = str("ssl.keystore.certificate.chain");
  const inlineKey = str("ssl.keystore.key");
  let ksType = str("ssl.keystore.type")!;
  if ((inlineChain || inlineKey) && ksType === "JKS" && !ksLocation) ksType = "PEM";
  let key: KeyObject | null;
  let chain: string[];
  if (!ksFile && !inlineKey)
    throw new ConfigError(
      `listener ${listener} (${securityProtocol}) needs a key store: ssl.keystore.location (PKCS12 or PEM), or ssl.keystore.key and ssl.keystore.certificate.chain`,
    );
  ksType = effectiveType(ksType, ksFile, prop("ssl.keystore.location"));
  if (ksType === "PEM") {
    if (str("ssl.keystore.password") !== null)
      throw new ConfigError(`${prop("ssl.keystore.password")}: a PEM key store has no store password, only ssl.key.password for an encrypted key`);
    const text = ksFile ? ksFile.toString("utf8") : `${inlineKey ?? ""}\n${inlineChain ?? ""}`;
    const blocks = pemBlocks(text);
    const keyBlock = blocks.find((b) => b.label.endsWith("PRIVATE KEY"));
    if (!keyBlock) throw new ConfigError(`${prop(ksFile ? "ssl.keystore.location" : "ssl.keystore.key")}: no private key (PEM) found`);
    key = decryptKey(keyBlock.pem, str("ssl.key.password"), prop(ksFile ? "ssl.keystore.location" : "ssl.keystore.key"));
    chain = blocks.filter((b) => b.label === "CERTIFICATE").map((b) => b.pem);
  } else {
    const m = readPkcs12(ksFile!, str("ssl.keystore.password"), prop("ssl.keystore.location"));
    key = m.key;
    chain = m.certs;
  }
  if (!key) throw new ConfigError(`${prop("ssl.keystore.location")}: the key store holds no private key`);
  if (chain.length === 0) throw new ConfigError(`${prop("ssl.keystore.location")}: the key store holds no certificate`);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(chain[0]!);
  } catch (e) {
    throw new ConfigError(`${prop("ssl.keystore.location")}: unreadable certificate: ${(e as Error).message}`);
  }
  if (!leaf.checkPrivateKey(key)) throw new ConfigError(`${prop("ssl.keystore.location")}: the private key does not belong to the certificate ${leaf.subject.replace(/\n/g, ", ")}`);

  // Truststore: the CAs that sign client certificates.
  const tsLocation = str("ssl.truststore.location");
  const tsInline = str("ssl.truststore.certificates");
  let ca: string[] | undefined;
  if (tsLocation || tsInline) {
    const tsFile = tsLocation ? readFile(tsLocation, prop("ssl.truststore.location")) : null;
    let tsType = str("ssl.truststore.type")!;
    if (tsInline && !tsLocation) tsType = "PEM";
    tsType = effectiveType(tsType, tsFile, prop("ssl.truststore.location"));
    if (tsType === "PEM") {
      if (str("ssl.truststore.password") !== null) throw new ConfigError(`${prop("ssl.truststore.password")}: a PEM trust store has no password`);
      ca = pemBlocks(tsFile ? tsFile.toString("utf8") : tsInline!)
        .filter((b) => b.label === "CERTIFICATE")
        .map((b) => b.pem);
    } else ca = readPkcs12(tsFile!, str("ssl.truststore.password"), prop("ssl.truststore.location")).certs;
    if (ca.length === 0) throw new ConfigError(`${prop("ssl.truststore.location")}: the trust store holds no certificate`);
  }

  // Client authentication. On SASL_SSL the broker-wide ssl.client.auth does not apply, only the listener's own.
  const prefixedAuth = config.raw.get(`listener.name.${listener.toLowerCase()}.ssl.client.auth`);
  const clientAuth = (securityProtocol === "SASL_SSL" ? (prefixedAuth?.trim() ?? "none") : str("ssl.client.auth")!) as ClientAuth;
  if (clientAuth !== "none" && !ca)
    throw new ConfigError(`listener ${listener}: ssl.client.auth=${clientAuth} needs a trust store (ssl.truststore.location or ssl.truststore.certificates)`);

  // Protocols and cipher suites.
  const protocols = (get("ssl.enabled.protocols") as string[]).map((p) => p.trim());
  for (const p of protocols)
    if (!(p in PROTOCOL_BITS)) throw new ConfigError(`${prop("ssl.enabled.protocols")}: unknown protocol ${p} (known: ${Object.keys(PROTOCOL_BITS).join(", ")})`);
  const suites = (get("ssl.cipher.suites") as string[]).map((s) => s.trim()).filter((s) => s !== "");
  const tls12Suites = suites.filter((s) => !TLS13_SUITES.has(s));
  const tls13Suites = suites.filter((s) => TLS13_SUITES.has(s));
  let secureOptions = 0;
  for (const [p, bit] of Object.entries(PROTOCOL_BITS)) if (!protocols.includes(p)) secureOptions |= bit;
  // As in Java, a protocol version none of whose listed suites apply is not negotiated.
  if (suites.length > 0 && tls13Suites.length === 0) secureOptions |= SSL_OP_NO_TLSv1_3;
  if (suites.length > 0 && tls12Suites.length === 0) secureOptions |= SSL_OP_NO_TLSv1_2 | SSL_OP_NO_TLSv1_1 | SSL_OP_NO_TLSv1;
  const enabled = ["TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1"].filter((p) => !(secureOptions & PROTOCOL_BITS[p]!));
  if (enabled.length === 0) throw new ConfigError(`listener ${listener}: no TLS protocol left to negotiate (ssl.enabled.protocols, ssl.cipher.suites)`);

  const principalMapper = new SslPrincipalMapper(str("ssl.principal.mapping.rules")!, `ssl.principal.mapping.rules (listener ${listener})`);
  const keyPem = key.export({ type: "pkcs8", format: "pem" }) as string;
  return {
    listener,
    options: {
      key: keyPem,
      cert: chain.map((pem) => pem.trimEnd() + "\n").join(""),
      ...(ca ? { ca } : {}),
      requestCert: clientAuth !== "none",
      rejectUnauthorized: clientAuth === "required",
      ...(tls12Suites.length > 0 ? { ciphers: tls12Suites.join(":") } : {}),
      ...(secureOptions ? { secureOptions } : {}),
    },
    clientAuth,
    principalMapper,
    tls13Suites: tls13Suites.length > 0 && tls13Suites.length < TLS13_SUITES.size ? new Set(tls13Suites) : null,
  };
}
