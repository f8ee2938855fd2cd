// The state of one classic group, as Kafka's GroupMetadata/MemberMetadata keep it: members, generation,
// leader and chosen protocol (committed offsets are kept by offsets.ts). The transitions live in
// classic-rebalance.ts; this file holds the data and the rules that only read it (protocol support, the
// protocol vote).

export type GroupState = "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable" | "Dead";

export const GROUP_STATES: readonly GroupState[] = ["Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"];

export interface Protocol {
  name: string;
  /** a private copy (never a view into a request buffer) */
  metadata: Uint8Array;
}

export interface JoinResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  members: { memberId: string; groupInstanceId: string | null; metadata: Uint8Array }[];
}

export interface SyncResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Uint8Array;
}

export const EMPTY_BYTES = new Uint8Array(0);

export class Member {
  protocols: Protocol[];
  assignment: Uint8Array = EMPTY_BYTES;
  /** set while a JoinGroup of this member is parked until the rebalance completes */
  joinWaiter: ((r: JoinResult) => void) | null = null;
  /** set while a SyncGroup of this member waits for the leader's assignment */
  syncWaiter: ((r: SyncResult) => void) | null = null;
  /** joined during the current rebalance and has not been part of a generation yet */
  isNew = true;
  lastHeartbeat = Date.now();
  expiryTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    readonly memberId: string,
    readonly groupInstanceId: string | null,
    public clientId: string,
    public clientHost: string,
    public rebalanceTimeoutMs: number,
    public sessionTimeoutMs: number,
    readonly protocolType: string,
    protocols: Protocol[],
  ) {
    this.protocols = protocols;
  }

  get isAwaitingJoin(): boolean {
    return this.joinWaiter !== null;
  }

  get isAwaitingSync(): boolean {
    return this.syncWaiter !== null;
  }

  metadataFor(protocol: string): Uint8Array {
    return this.protocols.find((p) => p.name === protocol)?.metadata ?? EMPTY_BYTES;
  }

  /** Same protocols, in the same order, with byte-identical metadata. */
  matches(protocols: Protocol[]): boolean {
    if (protocols.length !== this.protocols.length) return false;
    for (let i = 0; i < protocols.length; i++) {
      const a = protocols[i]!;
      const b = this.protocols[i]!;
      if (a.name !== b.name || !sameBytes(a.metadata, b.metadata)) return false;
    }
    return true;
  }

  /** The member's vote: its most preferred protocol among the candidates. */
  vote(candidates: Set<string>): string | undefined {
    return this.protocols.find((p) => candidates.has(p.name))?.name;
  }
}

export class Group {
  state: GroupState = "Empty";
  /** when the current state was entered (Kafka's currentStateTimestamp) */
  stateTimestamp = Date.now();
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, Member>();
  /** group.instance.id → member id */
  readonly staticMembers = new Map<string, string>();
  /** member ids handed out with MEMBER_ID_REQUIRED, waiting for the second join (KIP-394) */
  readonly pendingMembers = new Map<string, ReturnType<typeof setTimeout>>();
  /** members that got a JoinGroup response of this generation but have not sent SyncGroup yet */
  readonly pendingSyncMembers = new Set<string>();
  /** a member joined during the initial delayed join: extend the delay (group.initial.rebalance.delay.ms) */
  newMemberAdded = false;
  joinTimer: ReturnType<typeof setTimeout> | null = null;
  syncTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(readonly groupId: string) {}

  transition(state: GroupState, now = Date.now()): void {
    this.state = state;
    this.stateTimestamp = now;
  }

  is(state: GroupState): boolean {
    return this.state === state;
  }

  has(memberId: string): boolean {
    return this.members.has(memberId);
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  staticMemberId(groupInstanceId: string | null): string | undefined {
    return groupInstanceId === null ? undefined : this.staticMembers.get(groupInstanceId);
  }

  /** A static member whose instance id now belongs to another member id is fenced (KIP-345). */
  isStaticMemberFenced(groupInstanceId: string | null, memberId: string): boolean {
    const current = this.staticMemberId(groupInstanceId);
    return current !== undefined && current !== memberId;
  }

  get numAwaitingJoin(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.isAwaitingJoin) n++;
    return n;
  }

  hasAllMembersJoined(): boolean {
    return this.numAwaitingJoin === this.members.size && this.pendingMembers.size === 0;
  }

  /** The rebalance timeout of the group: the largest of its members'. */
  get rebalanceTimeoutMs(): number {
    let t = 0;
    for (const m of this.members.values()) t = Math.max(t, m.rebalanceTimeoutMs);
    return t;
  }

  add(member: Member): void {
    if (this.members.size === 0) this.protocolType = member.protocolType;
    this.members.set(member.memberId, member);
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, member.memberId);
    if (this.leaderId === null) this.leaderId = member.memberId;
  }

  remove(memberId: string): Member | undefined {
    const member = this.members.get(memberId);
    if (!member) return undefined;
    this.members.delete(memberId);
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === memberId)
      this.staticMembers.delete(member.groupInstanceId);
    this.pendingSyncMembers.delete(memberId);
    if (member.expiryTimer) clearTimeout(member.expiryTimer);
    member.expiryTimer = null;
    if (this.leaderId === memberId) this.leaderId = this.members.keys().next().value ?? null;
    return member;
  }

  /**
   * Whether a member with these protocols may join: an empty group takes any non-empty protocol list;
   * otherwise the protocol type must match and one of the protocols must be supported by every other
   * member.
   */
  supportsProtocols(protocolType: string, protocols: Protocol[], self?: string): boolean {
    const others = [...this.members.values()].filter((m) => m.memberId !== self);
    if (others.length === 0) return protocolType !== "" && protocols.length > 0;
    if (this.protocolType !== protocolType) return false;
    return protocols.some((p) => others.every((m) => m.protocols.some((q) => q.name === p.name)));
  }

  /** Kafka's vote: candidates are the protocols every member supports; each member votes its favourite. */
  selectProtocol(): string {
    const all = [...this.members.values()];
    if (all.length === 0) throw new Error(`group ${this.groupId} has no members to choose a protocol`);
    const candidates = new Set(all[0]!.protocols.map((p) => p.name).filter((n) => all.every((m) => m.protocols.some((q) => q.name === n))));
    if (candidates.size === 0) throw new Error(`members of group ${this.groupId} have no protocol in common`);
    const votes = new Map<string, number>();
    for (const m of all) {
      const v = m.vote(candidates)!;
      votes.set(v, (votes.get(v) ?? 0) + 1);
    }
    let best = "";
    let bestVotes = -1;
    // Ties go to the protocol the first member prefers (Kafka leaves ties to map iteration order).
    for (const name of candidates) {
      const n = votes.get(name) ?? 0;
      if (n > bestVotes) {
        best = name;
        bestVotes = n;
      }
    }
    return best;
  }

  /**
   * A leader among the members that rejoined: the current one if it did, else any member that did.
   * False when no member rejoined.
   */
  electJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    const leader = this.members.get(this.leaderId);
    if (leader?.isAwaitingJoin) return true;
    for (const m of this.members.values()) {
      if (m.isAwaitingJoin) {
        this.leaderId = m.memberId;
        return true;
      }
    }
    return false;
  }
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
