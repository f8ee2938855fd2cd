// DescribeGroups v0–v5. State, protocol type, and members (client id, host as "/address"); member metadata,
// assignments and the protocol name only for a Stable group, as Kafka does. An unknown group is described
// as Dead with no error (Kafka's answer before v6). Authorized operations (v3+) are not computed: Brook has
// no ACLs, so the "not requested" sentinel is returned.
import { DescribeGroups } from "../../protocol/apis/15-describe-groups.ts";
import { handler } from "./handler.ts";

export default handler(DescribeGroups, (req, ctx) => ({
  throttleTimeMs: 0,
  groups: req.groups.map((id) => ctx.broker.groups.describeGroup(id)),
}));
