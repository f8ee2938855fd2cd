// ListGroups v0–v4. Every group the coordinator knows (including groups that only hold committed offsets,
// listed with an empty protocol type); v4 filters by state (case-insensitive, as Kafka) and returns it.
import { ListGroups } from "../../protocol/apis/16-list-groups.ts";
import { handler } from "./handler.ts";

export default handler(ListGroups, (req, ctx) => {
  const r = ctx.broker.groups.listGroups(ctx.version >= 4 ? req.statesFilter : []);
  return { throttleTimeMs: 0, errorCode: r.errorCode, groups: r.groups };
});
