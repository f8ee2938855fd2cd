// Consumer group members on librdkafka (@confluentinc/kafka-javascript, test/clients/node/group-member.cjs),
// one Node process each, so a test can start, stop or kill members independently and watch what each
// one was assigned, revoked and consumed (JSON lines, read as they come).
import { join } from "node:path";
import { REPO_ROOT } from "./broker.ts";
import { until } from "./poll.ts";
import { readLines } from "./run.ts";

export interface MemberOptions {
  bootstrap: string;
  groupId: string;
  /** topic names, or librdkafka regexes starting with ^ */
  topics: string[];
  protocol?: "consumer" | "classic";
  clientId?: string;
  instanceId?: string;
  remoteAssignor?: string;
  /** commit each message synchronously (OffsetCommit) before taking the next */
  commit?: boolean;
  /** classic protocol: partition.assignment.strategy (default cooperative-sticky) and session timeout */
  strategy?: string;
  sessionTimeoutMs?: number;
  /** more librdkafka properties */
  config?: Record<string, string | number | boolean>;
  debug?: string;
}

export interface Consumed {
  topic: string;
  partition: number;
  offset: number;
  value: string | null;
  /** when the test process read it */
  at: number;
}

const SCRIPT = join(REPO_ROOT, "test", "clients", "node", "group-member.cjs");

export class GroupMember implements AsyncDisposable {
  readonly events: any[] = [];
  readonly messages: Consumed[] = [];
  /** partitions currently assigned, as "topic:partition" */
  readonly assigned = new Set<string>();
  readonly revoked: { topic: string; partition: number; at: number }[] = [];
  private readonly proc;
  private readonly reading: Promise<void>;
  private stderr = "";

  constructor(readonly opts: MemberOptions) {
    const proc = Bun.spawn(["node", SCRIPT, JSON.stringify(opts)], { cwd: REPO_ROOT, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    this.proc = proc;
    this.reading = (async () => {
      for await (const line of readLines(proc.stdout)) {
        if (!line.trim()) continue;
        const e = JSON.parse(line);
        const at = Date.now();
        this.events.push({ ...e, at });
        if (e.event === "message") this.messages.push({ topic: e.topic, partition: e.partition, offset: e.offset, value: e.value, at });
        else if (e.event === "assigned") for (const p of e.partitions) this.assigned.add(`${p.topic}:${p.partition}`);
        else if (e.event === "revoked")
          for (const p of e.partitions) {
            this.assigned.delete(`${p.topic}:${p.partition}`);
            this.revoked.push({ ...p, at });
          }
      }
    })();
    void (async () => {
      for await (const line of readLines(proc.stderr)) this.stderr += line + "\n";
    })();
  }

  get name(): string {
    return this.opts.clientId ?? "member";
  }

  waitFor(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
    return until(`${this.name}: ${what}`, cond, timeoutMs, () => ({ events: this.events.filter((e) => e.event !== "message" && e.event !== "committed").slice(-8), stderr: this.stderr.slice(-2000) }));
  }

  /**
   * Leaves the group (consumer close) and waits for the process to end. `left`, when given, tells from
   * the broker's side that the member is gone: then the process is not waited for any longer (the
   * binding can take long to tear down a consumer that was closed while records were flowing).
   */
  async close(left?: () => boolean): Promise<void> {
    if (this.proc.exitCode !== null) return;
    this.proc.stdin.write("close\n");
    await this.proc.stdin.flush();
    const gone = left ? until(`${this.name} left the group`, left, 20_000).catch(() => {}) : Bun.sleep(20_000);
    await Promise.race([this.proc.exited, gone]);
    if (this.proc.exitCode === null) this.proc.kill();
    await this.reading;
  }

  /** Ends the process without leaving the group (a crash: the broker times the session out). */
  async kill(): Promise<void> {
    this.proc.kill(9);
    await this.proc.exited;
    await this.reading;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.proc.exitCode === null) this.proc.kill(9);
    await this.proc.exited;
  }
}
