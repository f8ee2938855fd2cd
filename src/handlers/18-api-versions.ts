// ApiVersions v0–v4: the list is built from the handler registry, so Brook never advertises an API it
// cannot serve. Unsupported versions are answered by dispatch (v0 + UNSUPPORTED_VERSION + the list).
// v3+ also reports features (KIP-584), as a single-node Kafka 4.0 cluster formatted with the defaults
// does: supported metadata.version 7–25 (3.3-IV3 to 4.0-IV3), kraft.version 0–1, transaction.version
// 0–2, group.version 0–1; finalized metadata.version 25, kraft.version 1, transaction.version 2 (clients
// use transactions v2: EndTxn v5, Produce v12, TxnOffsetCommit v5, all served) and group.version 1
// while the consumer group protocol is enabled. v3 leaves out supported features whose minimum is 0
// (KAFKA-17011); v4 lists them all. `describeFeatures` in Kafka's Admin reads exactly this.
import { ApiVersions } from "../../protocol/apis/18-api-versions.ts";
import { apiVersionsList, handler, type BrokerContext } from "./handler.ts";

const METADATA_VERSION = { min: 7, max: 25 };
/** Stable while the process runs and larger after a restart, like Kafka's metadata offset. */
const FEATURES_EPOCH = Date.now();

function supportedFeatures(version: number) {
  const all = [
    { name: "metadata.version", minVersion: METADATA_VERSION.min, maxVersion: METADATA_VERSION.max },
    { name: "kraft.version", minVersion: 0, maxVersion: 1 },
    { name: "transaction.version", minVersion: 0, maxVersion: 2 },
    { name: "group.version", minVersion: 0, maxVersion: 1 },
  ];
  return version >= 4 ? all : all.filter((f) => f.minVersion > 0);
}

/** Finalized feature levels; a level of 0 is not listed, as in Kafka. */
export function finalizedFeatures(broker: BrokerContext): Record<string, number> {
  const levels: Record<string, number> = {
    "metadata.version": METADATA_VERSION.max,
    "kraft.version": 1,
    "transaction.version": 2,
  };
  if (broker.groups.consumerSettings.enabled) levels["group.version"] = 1;
  return levels;
}

export default handler(ApiVersions, (req, ctx) => {
  if (ctx.version >= 3) {
    ctx.session.clientSoftwareName = req.clientSoftwareName;
    ctx.session.clientSoftwareVersion = req.clientSoftwareVersion;
  }
  return {
    errorCode: 0,
    apiKeys: apiVersionsList(ctx.broker.registry, ctx.broker),
    throttleTimeMs: 0,
    supportedFeatures: supportedFeatures(ctx.version),
    finalizedFeaturesEpoch: FEATURES_EPOCH,
    finalizedFeatures: Object.entries(finalizedFeatures(ctx.broker)).map(([name, level]) => ({ name, maxVersionLevel: level, minVersionLevel: level })),
  };
});
