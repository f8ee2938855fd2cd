// Every API definition Brook serves, by key. `allApis` is the list the dispatcher and ApiVersions use.
import { Produce } from "./00-produce.ts";
import { Fetch } from "./01-fetch.ts";
import { ListOffsets } from "./02-list-offsets.ts";
import { Metadata } from "./03-metadata.ts";
import { OffsetCommit } from "./08-offset-commit.ts";
import { OffsetFetch } from "./09-offset-fetch.ts";
import { FindCoordinator } from "./10-find-coordinator.ts";
import { JoinGroup } from "./11-join-group.ts";
import { Heartbeat } from "./12-heartbeat.ts";
import { LeaveGroup } from "./13-leave-group.ts";
import { SyncGroup } from "./14-sync-group.ts";
import { DescribeGroups } from "./15-describe-groups.ts";
import { ListGroups } from "./16-list-groups.ts";
import { ApiVersions } from "./18-api-versions.ts";
import { CreateTopics } from "./19-create-topics.ts";
import { DeleteTopics } from "./20-delete-topics.ts";
import { InitProducerId } from "./22-init-producer-id.ts";
import { DeleteGroups } from "./42-delete-groups.ts";
import { OffsetDelete } from "./47-offset-delete.ts";
import type { ApiDefinition } from "../types.ts";

export {
  Produce,
  Fetch,
  ListOffsets,
  Metadata,
  OffsetCommit,
  OffsetFetch,
  FindCoordinator,
  JoinGroup,
  Heartbeat,
  LeaveGroup,
  SyncGroup,
  DescribeGroups,
  ListGroups,
  ApiVersions,
  CreateTopics,
  DeleteTopics,
  InitProducerId,
  DeleteGroups,
  OffsetDelete,
};

export const allApis: readonly ApiDefinition[] = [
  Produce,
  Fetch,
  ListOffsets,
  Metadata,
  OffsetCommit,
  OffsetFetch,
  FindCoordinator,
  JoinGroup,
  Heartbeat,
  LeaveGroup,
  SyncGroup,
  DescribeGroups,
  ListGroups,
  ApiVersions,
  CreateTopics,
  DeleteTopics,
  InitProducerId,
  DeleteGroups,
  OffsetDelete,
];
