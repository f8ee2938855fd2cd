// A throwaway PKI for the TLS tests, made with the openssl command line in a temporary directory: a CA, a
// broker certificate for localhost / 127.0.0.1, a client certificate "CN=alice,OU=Eng,O=Example", and a
// second, untrusted CA with its own client; the key and trust stores in the formats Kafka takes (PEM
// file with key and chain, PEM with an encrypted PKCS#8 key, PKCS12, legacy PKCS12). Nothing is committed.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "./run.ts";

export interface TestPki {
  dir: string;
  caPem: string;
  otherCaPem: string;
  /** PEM files */
  brokerCert: string;
  brokerKey: string;
  clientCert: string;
  clientKey: string;
  untrustedClientCert: string;
  untrustedClientKey: string;
  /** key + chain in one PEM file (ssl.keystore.type=PEM) */
  brokerKeystorePem: string;
  /** the same with the key encrypted (ssl.key.password = KEY_PASSWORD) */
  brokerKeystoreEncryptedPem: string;
  /** PKCS12 (OpenSSL 3 defaults: AES-256, PBKDF2), password STORE_PASSWORD */
  brokerKeystoreP12: string;
  /** PKCS12 with the legacy RC2/3DES algorithms Java 8 and OpenSSL 1 wrote */
  brokerKeystoreLegacyP12: string;
  /** the CA as a PKCS12 trust store, password STORE_PASSWORD */
  truststoreP12: string;
  clientKeystoreP12: string;
}

export const STORE_PASSWORD = "store-secret";
export const KEY_PASSWORD = "key-secret";
export const CLIENT_DN = "O=Example,OU=Eng,CN=alice";

async function openssl(dir: string, ...args: string[]): Promise<void> {
  const r = await run(["openssl", ...args], { cwd: dir, timeoutMs: 60_000 });
  if (r.exitCode !== 0) throw new Error(`openssl ${args.join(" ")} failed: ${r.stderr}`);
}

export async function makePki(dir: string): Promise<TestPki> {
  const p = (f: string) => join(dir, f);
  const ca = async (name: string, cn: string) => {
    await openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "2", "-subj", `/CN=${cn}`);
  };
  const leaf = async (name: string, subj: string, caName: string, ext?: string) => {
    await openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subj);
    const extArgs: string[] = [];
    if (ext) {
      writeFileSync(p(`${name}.ext`), ext);
      extArgs.push("-extfile", `${name}.ext`);
    }
    await openssl(dir, "x509", "-req", "-in", `${name}.csr`, "-CA", `${caName}.pem`, "-CAkey", `${caName}.key`, "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", ...extArgs);
  };
  await Promise.all([ca("ca", "Brook Test CA"), ca("other-ca", "Untrusted Test CA")]);
  await Promise.all([
    leaf("broker", "/CN=localhost/O=Brook", "ca", "subjectAltName=DNS:localhost,IP:127.0.0.1\n"),
    leaf("client", "/CN=alice/OU=Eng/O=Example", "ca"),
    leaf("untrusted-client", "/CN=mallory", "other-ca"),
  ]);
  const read = (f: string) => readFileSync(p(f), "utf8");
  writeFileSync(p("broker-keystore.pem"), read("broker.key") + read("broker.pem") + read("ca.pem"));
  await openssl(dir, "pkcs8", "-topk8", "-in", "broker.key", "-out", "broker-encrypted.key", "-passout", `pass:${KEY_PASSWORD}`);
  writeFileSync(p("broker-keystore-encrypted.pem"), read("broker-encrypted.key") + read("broker.pem"));
  await Promise.all([
    openssl(dir, "pkcs12", "-export", "-in", "broker.pem", "-inkey", "broker.key", "-certfile", "ca.pem", "-out", "broker.p12", "-passout", `pass:${STORE_PASSWORD}`),
    openssl(dir, "pkcs12", "-export", "-legacy", "-in", "broker.pem", "-inkey", "broker.key", "-out", "broker-legacy.p12", "-passout", `pass:${STORE_PASSWORD}`),
    openssl(dir, "pkcs12", "-export", "-nokeys", "-in", "ca.pem", "-out", "truststore.p12", "-passout", `pass:${STORE_PASSWORD}`),
    openssl(dir, "pkcs12", "-export", "-in", "client.pem", "-inkey", "client.key", "-out", "client.p12", "-passout", `pass:${STORE_PASSWORD}`),
  ]);
  return {
    dir,
    caPem: p("ca.pem"),
    otherCaPem: p("other-ca.pem"),
    brokerCert: p("broker.pem"),
    brokerKey: p("broker.key"),
    clientCert: p("client.pem"),
    clientKey: p("client.key"),
    untrustedClientCert: p("untrusted-client.pem"),
    untrustedClientKey: p("untrusted-client.key"),
    brokerKeystorePem: p("broker-keystore.pem"),
    brokerKeystoreEncryptedPem: p("broker-keystore-encrypted.pem"),
    brokerKeystoreP12: p("broker.p12"),
    brokerKeystoreLegacyP12: p("broker-legacy.p12"),
    truststoreP12: p("truststore.p12"),
    clientKeystoreP12: p("client.p12"),
  };
}

/** librdkafka (kcat -X, confluent_kafka) TLS properties trusting the test CA. */
export function rdkafkaTls(pki: TestPki, opts: { clientCert?: "trusted" | "untrusted"; ca?: string } = {}): Record<string, string> {
  const props: Record<string, string> = { "ssl.ca.location": opts.ca ?? pki.caPem };
  if (opts.clientCert === "trusted") Object.assign(props, { "ssl.certificate.location": pki.clientCert, "ssl.key.location": pki.clientKey });
  if (opts.clientCert === "untrusted") Object.assign(props, { "ssl.certificate.location": pki.untrustedClientCert, "ssl.key.location": pki.untrustedClientKey });
  return props;
}
