// ListPartitionReassignments v0: the reassignments in progress. With one broker a reassignment completes
// as soon as it is accepted (see AlterPartitionReassignments), so there are never any: the answer lists
// no topics, for named partitions (unknown ones are left out, as Kafka does) and for all (null).
import { ListPartitionReassignments } from "../../protocol/apis/46-list-partition-reassignments.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { handler } from "./handler.ts";

export default handler(ListPartitionReassignments, () => ({
  throttleTimeMs: 0,
  errorCode: ErrorCode.NONE,
  errorMessage: null,
  topics: [],
}));
