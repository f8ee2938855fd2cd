// rdbench: the librdkafka client behind bench/run.ts (compiled on first use into bench/.build/).
// A C client so the load generator is not the bottleneck (kafkajs and per-call Python are).
//
//   rdbench [--mock] [-b host:port] [-t topic] [-n records] [-s size] [-a acks] [-l linger_ms]
//           [-p partitions] [-z compression] [-r records_per_s] [-X key=value]... PHASE...
//   PHASE: create | hw | produce | consume | e2e   (run in order, one JSON line each on stdout)
//
// --mock runs against librdkafka's in-process mock broker (a C sink that just appends batches to
// memory), which measures what this client can do when the broker costs next to nothing.
// Progress goes to stderr once a second. Latencies: produce = produce() call to delivery report
// (per message); rtt = librdkafka's own per-request round trip to the partition leader
// (Produce or Fetch requests), taken from its statistics windows.
// e2e: a producer at a fixed rate (-r, below saturation) and a consumer in the same process; each value
// starts with its send time (CLOCK_MONOTONIC), so end-to-end latency = consumer receive - send.
#define _GNU_SOURCE
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static const char *bootstrap = "127.0.0.1:9092", *topic = "rdbench", *compression = "none";
static long records = 1000000, size = 100, linger_ms = 5, partitions = 1, rate = 0;
static const char *acks = "1";
static const char *xprops[64];
static int nxprops;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}
static double cpu_s(void) {
  struct rusage ru;  // whole process: includes librdkafka's broker/main threads
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}
static void die(const char *what, const char *msg) {
  fprintf(stderr, "\nrdbench: %s: %s\n", what, msg);
  exit(1);
}
static void set(rd_kafka_conf_t *c, const char *k, const char *v) {
  char err[512];
  if (rd_kafka_conf_set(c, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) die(k, err);
}

// ---- rtt windows from librdkafka statistics (one window per statistics.interval.ms) ----
// Percentiles of separate windows can't be merged exactly; we report the count-weighted
// percentile over the windows' own p50 (resp. p99) values, which is close when windows are alike.
typedef struct { double cnt, p50, p99, max; } win_t;
static win_t wins[4096];
static int nwins;
static double tx_bytes;  // client total sent on the wire, from the latest statistics

static double json_num(const char *p, const char *end, const char *key) {
  char k[32];
  snprintf(k, sizeof k, "\"%s\":", key);
  const char *q = memmem(p, end - p, k, strlen(k));
  return q ? strtod(q + strlen(k), NULL) : 0;
}
static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque) {
  // One "rtt" object per broker connection; the bootstrap one is idle after startup, so windows
  // with requests (cnt > 0) are the leader's (plus, in the first window, metadata requests).
  const char *end = json + len, *p = json;
  tx_bytes = json_num(json, end, "tx_bytes");  // top-level counter (brokers use "txbytes")
  while ((p = memmem(p, end - p, "\"rtt\":", 6)) && nwins < 4096) {
    const char *close = memchr(p, '}', end - p);
    if (!close) break;
    double cnt = json_num(p, close, "cnt");
    if (cnt > 0) wins[nwins++] = (win_t){cnt, json_num(p, close, "p50"), json_num(p, close, "p99"), json_num(p, close, "max")};
    p = close;
  }
  return 0;  // json not kept
}
static double win_max(void) {  // a single stalled request hides in percentiles; show it
  double m = -1000;
  for (int i = 0; i < nwins; i++) m = wins[i].max > m ? wins[i].max : m;
  return m / 1000.0;
}
static int cmp_p50(const void *a, const void *b) { double x = ((win_t *)a)->p50, y = ((win_t *)b)->p50; return (x > y) - (x < y); }
static int cmp_p99(const void *a, const void *b) { double x = ((win_t *)a)->p99, y = ((win_t *)b)->p99; return (x > y) - (x < y); }
static double win_pct(int which, double q) {
  if (!nwins) return -1;
  qsort(wins, nwins, sizeof *wins, which == 50 ? cmp_p50 : cmp_p99);
  double total = 0, acc = 0;
  for (int i = 0; i < nwins; i++) total += wins[i].cnt;
  for (int i = 0; i < nwins; i++)
    if ((acc += wins[i].cnt) >= q * total) return (which == 50 ? wins[i].p50 : wins[i].p99) / 1000.0;
  return (which == 50 ? wins[nwins - 1].p50 : wins[nwins - 1].p99) / 1000.0;
}

static rd_kafka_t *new_client(rd_kafka_type_t type, rd_kafka_conf_t *c) {
  char err[512];
  set(c, "bootstrap.servers", bootstrap);
  set(c, "statistics.interval.ms", "200");  // short windows: a fetch of 2M records takes < 1 s
  rd_kafka_conf_set_stats_cb(c, stats_cb);
  for (int i = 0; i < nxprops; i++) {  // -X overrides last
    char kv[512];
    snprintf(kv, sizeof kv, "%s", xprops[i]);
    char *eq = strchr(kv, '=');
    if (!eq) die("-X expects key=value", kv);
    *eq = 0;
    // Not fatal: the same -X list goes to the producer and the consumer.
    if (rd_kafka_conf_set(c, kv, eq + 1, err, sizeof err) != RD_KAFKA_CONF_OK) fprintf(stderr, "rdbench: -X %s ignored: %s\n", kv, err);
  }
  rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof err);
  if (!rk) die("rd_kafka_new", err);
  return rk;
}

static void progress(const char *what, long n, long total, uint64_t t0, int final) {
  double s = (now_ns() - t0) / 1e9;
  fprintf(stderr, "\r%s %ld/%ld  %.0f rec/s  %.1f MB/s  %.1fs%s", what, n, total, n / s, n * (double)size / s / 1e6, s,
          final ? "\n" : "   ");
}

// ---- phases ----
static rd_kafka_mock_cluster_t *mock;

static void phase_create(void) {
  if (mock) {
    rd_kafka_mock_topic_create(mock, topic, (int)partitions, 1);
    printf("{\"phase\":\"create\",\"ok\":true}\n");
    return;
  }
  rd_kafka_t *rk = new_client(RD_KAFKA_PRODUCER, rd_kafka_conf_new());
  char err[512];
  rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, (int)partitions, 1, err, sizeof err);
  if (!nt) die("NewTopic", err);
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
  rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
  if (!ev) die("CreateTopics", "timed out");
  const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
  size_t n;
  const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &n);
  rd_kafka_resp_err_t e = n ? rd_kafka_topic_result_error(tr[0]) : rd_kafka_event_error(ev);
  if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) die("CreateTopics", rd_kafka_err2str(e));
  printf("{\"phase\":\"create\",\"ok\":true,\"existed\":%s}\n", e ? "true" : "false");
  rd_kafka_event_destroy(ev);
  rd_kafka_NewTopic_destroy(nt);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
}

// Partition count as the cluster reports it (the topic may predate this run).
static int topic_partitions(rd_kafka_t *rk) {
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  const struct rd_kafka_metadata *md;
  int n = -1;
  for (int tries = 0; tries < 50 && n <= 0; tries++) {
    if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    if (md->topic_cnt == 1 && !md->topics[0].err) n = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    if (n <= 0) rd_kafka_poll(rk, 100);
  }
  rd_kafka_topic_destroy(rkt);
  if (n <= 0) die("metadata", "topic not found");
  return n;
}

static void phase_hw(void) {
  rd_kafka_t *rk = new_client(RD_KAFKA_PRODUCER, rd_kafka_conf_new());
  int np = topic_partitions(rk);
  long total = 0;
  for (int p = 0; p < np; p++) {
    int64_t lo, hi;
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000);
    if (e) die("watermarks", rd_kafka_err2str(e));
    total += hi - lo;
  }
  printf("{\"phase\":\"hw\",\"records\":%ld,\"partitions\":%d}\n", total, np);
  rd_kafka_destroy(rk);
}

static uint32_t *lat_us;  // per-message delivery latency, microseconds
static long delivered, failed;
static uint64_t last_dr;
static rd_kafka_resp_err_t first_err;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  uint64_t t = now_ns();
  if (m->err) {
    if (!failed++) first_err = m->err;
    return;
  }
  lat_us[delivered++] = (uint32_t)((t - (uint64_t)(uintptr_t)m->_private) / 1000);
  last_dr = t;
}
static int cmp_u32(const void *a, const void *b) { uint32_t x = *(uint32_t *)a, y = *(uint32_t *)b; return (x > y) - (x < y); }

static void phase_produce(void) {
  rd_kafka_conf_t *c = rd_kafka_conf_new();
  char v[32];
  set(c, "acks", acks);
  snprintf(v, sizeof v, "%ld", linger_ms);
  set(c, "linger.ms", v);
  set(c, "compression.type", compression);
  rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
  rd_kafka_t *rk = new_client(RD_KAFKA_PRODUCER, c);
  int np = topic_partitions(rk);  // also warms up the connection before the clock starts
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);

  // Payloads are windows into a 1 MiB text of words drawn from a 1000-word vocabulary: each record
  // differs, yet compresses like text (lz4/snappy to ~0.58, zstd ~0.38); random bytes would make
  // compression moot.
  long span = 1 << 20;
  char *data = malloc(span + size), words[1000][12];
  uint64_t x = 88172645463325252ull;
#define RND() (x ^= x << 13, x ^= x >> 7, x ^= x << 17)
  for (int w = 0; w < 1000; w++) {
    int len = 2 + RND() % 9;
    for (int j = 0; j < len; j++) words[w][j] = 'a' + RND() % 26;
    words[w][len] = 0;
  }
  for (long i = 0; i < span + size;) {
    const char *w = words[RND() % 1000];
    while (*w && i < span + size) data[i++] = *w++;
    if (i < span + size) data[i++] = ' ';
  }
  lat_us = malloc(records * sizeof *lat_us);
  delivered = failed = 0;
  nwins = 0;

  printf("{\"phase\":\"produce\",\"start\":true}\n");
  fflush(stdout);
  double c0 = cpu_s();
  uint64_t t0 = now_ns(), next_report = t0 + 1000000000ull;
  long full = 0;
  for (long i = 0; i < records;) {
    // The message's opaque carries its produce() time for the delivery report.
    if (rd_kafka_produce(rkt, np > 1 ? (int32_t)(i % np) : 0, RD_KAFKA_MSG_F_COPY, data + (i * 7919) % span, size, NULL, 0,
                         (void *)(uintptr_t)now_ns()) == -1) {
      rd_kafka_resp_err_t e = rd_kafka_last_error();
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("produce", rd_kafka_err2str(e));
      full++;
      rd_kafka_poll(rk, 1);  // queue full: wait for delivery reports to free room
      continue;
    }
    if (rate && (i & 127) == 127) {
      // --rate: hold produce() to a schedule, so latency is measured below saturation.
      int64_t ahead = (int64_t)(t0 + (uint64_t)(i * 1e9 / rate)) - (int64_t)now_ns();
      if (ahead > 0) nanosleep(&(struct timespec){ahead / 1000000000, ahead % 1000000000}, NULL);
    }
    if ((++i & 1023) == 0) {
      rd_kafka_poll(rk, 0);  // serve delivery reports often so their timestamps are fresh
      if (now_ns() >= next_report) progress("produce", delivered, records, t0, 0), next_report += 1000000000ull;
    }
  }
  uint64_t t_enq = now_ns();
  while (delivered + failed < records) {
    rd_kafka_poll(rk, 100);
    if (now_ns() >= next_report) progress("produce", delivered, records, t0, 0), next_report += 1000000000ull;
  }
  double secs = (last_dr - t0) / 1e9, cpu = cpu_s() - c0;
  progress("produce", delivered, records, t0, 1);
  if (failed) fprintf(stderr, "rdbench: %ld deliveries failed, first: %s\n", failed, rd_kafka_err2str(first_err));
  rd_kafka_poll(rk, 250);  // one more statistics window
  qsort(lat_us, delivered, sizeof *lat_us, cmp_u32);
#define PCT(q) (delivered ? lat_us[(long)((delivered - 1) * (q))] / 1000.0 : -1)
  printf("{\"phase\":\"produce\",\"records\":%ld,\"failed\":%ld,\"bytes\":%ld,\"seconds\":%.3f,\"enqueue_seconds\":%.3f,"
         "\"rps\":%.0f,\"mbps\":%.2f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"rtt_p50_ms\":%.3f,\"rtt_p99_ms\":%.3f,"
         "\"rtt_max_ms\":%.3f,\"wire_ratio\":%.3f,\"queue_full\":%ld,\"cpu_s\":%.2f,\"partitions\":%d}\n",
         delivered, failed, delivered * size, secs, (t_enq - t0) / 1e9, delivered / secs, delivered * (double)size / secs / 1e6,
         PCT(0.5), PCT(0.99), PCT(1.0), win_pct(50, 0.5), win_pct(99, 0.99), win_max(), tx_bytes / (delivered * (double)size), full, cpu, np);
  fflush(stdout);
  free(lat_us), free(data);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
}

static void phase_consume(void) {
  // librdkafka's mock broker keeps only ~5 MB per partition, dropping older records.
  if (mock) die("consume", "not supported against the mock broker (it retains only ~5 MB per partition)");
  rd_kafka_conf_t *c = rd_kafka_conf_new();
  // assign() needs a consumer-group handle in librdkafka, but nothing is joined or committed.
  set(c, "group.id", "rdbench");
  set(c, "enable.auto.commit", "false");
  set(c, "enable.auto.offset.store", "false");
  set(c, "enable.partition.eof", "false");
  // librdkafka 2.0 stops fetching once queued.min.messages are buffered and re-checks only on its
  // broker thread's ~1 s timer, so a consumer that falls behind briefly idles for up to a second.
  // A deeper prefetch queue (1M records, 1 GB) makes that rare.
  set(c, "queued.min.messages", "1000000");
  set(c, "queued.max.messages.kbytes", "1048576");
  rd_kafka_t *rk = new_client(RD_KAFKA_CONSUMER, c);
  int np = topic_partitions(rk);
  rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(np);
  for (int p = 0; p < np; p++) rd_kafka_topic_partition_list_add(tl, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
  nwins = 0;

  printf("{\"phase\":\"consume\",\"start\":true}\n");
  fflush(stdout);
  double c0 = cpu_s();
  uint64_t t0 = now_ns(), next_report = t0 + 1000000000ull, t_first = 0, t_last = 0;
  rd_kafka_resp_err_t e = rd_kafka_assign(rk, tl);
  if (e) die("assign", rd_kafka_err2str(e));
  static rd_kafka_message_t *msgs[10000];
  long got = 0, bytes = 0;
  while (got < records) {
    ssize_t n = rd_kafka_consume_batch_queue(q, 100, msgs, 10000);  // batch pop: no per-message call cost
    if (n < 0) die("consume", rd_kafka_err2str(rd_kafka_last_error()));
    for (ssize_t i = 0; i < n; i++) {
      if (msgs[i]->err) fprintf(stderr, "\nrdbench: consume error: %s\n", rd_kafka_message_errstr(msgs[i]));
      else got++, bytes += msgs[i]->len;
      rd_kafka_message_destroy(msgs[i]);
    }
    if (n > 0) {
      t_last = now_ns();
      if (!t_first) t_first = t_last;
    } else if (now_ns() - (t_last ? t_last : t0) > 30000000000ull) {
      die("consume", "no records for 30 s (topic shorter than -n?)");
    }
    rd_kafka_poll(rk, 0);  // statistics callbacks
    if (now_ns() >= next_report) progress("consume", got, records, t0, 0), next_report += 1000000000ull;
  }
  double secs = (t_last - t0) / 1e9, cpu = cpu_s() - c0;
  progress("consume", got, records, t0, 1);
  printf("{\"phase\":\"consume\",\"records\":%ld,\"bytes\":%ld,\"seconds\":%.3f,\"rps\":%.0f,\"mbps\":%.2f,"
         "\"first_record_ms\":%.3f,\"rtt_p50_ms\":%.3f,\"rtt_p99_ms\":%.3f,\"rtt_max_ms\":%.3f,\"cpu_s\":%.2f,\"partitions\":%d}\n",
         got, bytes, secs, got / secs, bytes / secs / 1e6, (t_first - t0) / 1e6, win_pct(50, 0.5), win_pct(99, 0.99), win_max(), cpu, np);
  fflush(stdout);
  rd_kafka_topic_partition_list_destroy(tl);
  rd_kafka_queue_destroy(q);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
}

// ---- end-to-end latency: produce at a fixed rate, consume in the same loop ----
static void phase_e2e(void) {
  if (mock) die("e2e", "not supported against the mock broker");
  if (!rate) die("e2e", "needs a rate (-r records/s)");
  if (size < 8) die("e2e", "needs records of at least 8 bytes");
  rd_kafka_conf_t *pc = rd_kafka_conf_new();
  char v[32];
  set(pc, "acks", acks);
  snprintf(v, sizeof v, "%ld", linger_ms);
  set(pc, "linger.ms", v);
  set(pc, "compression.type", compression);
  rd_kafka_t *prod = new_client(RD_KAFKA_PRODUCER, pc);
  rd_kafka_conf_t *cc = rd_kafka_conf_new();
  set(cc, "group.id", "rdbench-e2e");
  set(cc, "enable.auto.commit", "false");
  set(cc, "enable.partition.eof", "false");
  set(cc, "fetch.wait.max.ms", "100");
  rd_kafka_t *cons = new_client(RD_KAFKA_CONSUMER, cc);
  int np = topic_partitions(prod);
  topic_partitions(cons);  // warm both connections before the clock starts
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(prod, topic, NULL);
  rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(np);
  // The topic is expected to be new (or at least quiet): read from the end as it stands now.
  for (int p = 0; p < np; p++) {
    int64_t lo, hi;
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(cons, topic, p, &lo, &hi, 10000);
    if (e) die("watermarks", rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_add(tl, topic, p)->offset = hi;
  }
  rd_kafka_resp_err_t e = rd_kafka_assign(cons, tl);
  if (e) die("assign", rd_kafka_err2str(e));
  rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(cons);
  char *payload = malloc(size);
  memset(payload, 'x', size);
  lat_us = malloc(records * sizeof *lat_us);
  static rd_kafka_message_t *msgs[10000];
  long sent = 0, got = 0, full = 0;
  printf("{\"phase\":\"e2e\",\"start\":true}\n");
  fflush(stdout);
  uint64_t t0 = now_ns(), next_report = t0 + 1000000000ull, last_got = t0;
  while (got < records) {
    uint64_t now = now_ns();
    // Send everything that is due by now (the schedule is fixed; a late loop catches up).
    while (sent < records && now >= t0 + (uint64_t)(sent * 1e9 / rate)) {
      uint64_t ts = now_ns();
      memcpy(payload, &ts, 8);
      if (rd_kafka_produce(rkt, np > 1 ? (int32_t)(sent % np) : 0, RD_KAFKA_MSG_F_COPY, payload, size, NULL, 0, NULL) == -1) {
        if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("produce", rd_kafka_err2str(rd_kafka_last_error()));
        full++;
        break;
      }
      sent++;
      now = now_ns();
    }
    rd_kafka_poll(prod, 0);
    uint64_t due = sent < records ? t0 + (uint64_t)(sent * 1e9 / rate) : now + 1000000;
    int wait_ms = due > now ? (int)((due - now) / 1000000) : 0;
    ssize_t n = rd_kafka_consume_batch_queue(q, wait_ms > 1 ? 1 : wait_ms, msgs, 10000);
    if (n < 0) die("consume", rd_kafka_err2str(rd_kafka_last_error()));
    uint64_t t_recv = now_ns();
    for (ssize_t i = 0; i < n; i++) {
      if (msgs[i]->err) fprintf(stderr, "\nrdbench: consume error: %s\n", rd_kafka_message_errstr(msgs[i]));
      else if (msgs[i]->len >= 8 && got < records) {
        uint64_t ts;
        memcpy(&ts, msgs[i]->payload, 8);
        lat_us[got++] = (uint32_t)((t_recv - ts) / 1000);
      }
      rd_kafka_message_destroy(msgs[i]);
    }
    if (n > 0) last_got = t_recv;
    else if (t_recv - last_got > 30000000000ull) die("e2e", "no records for 30 s");
    if (t_recv >= next_report) progress("e2e", got, records, t0, 0), next_report += 1000000000ull;
  }
  double secs = (now_ns() - t0) / 1e9;
  progress("e2e", got, records, t0, 1);
  // The first second warms connections and fetch sessions; percentiles are over the rest.
  long skip = rate <= got / 2 ? rate : 0, m = got - skip;
  qsort(lat_us + skip, m, sizeof *lat_us, cmp_u32);
#define E2E(q) (m ? lat_us[skip + (long)((m - 1) * (q))] / 1000.0 : -1)
  printf("{\"phase\":\"e2e\",\"records\":%ld,\"measured\":%ld,\"rate\":%ld,\"seconds\":%.3f,\"queue_full\":%ld,"
         "\"e2e_p50_ms\":%.3f,\"e2e_p99_ms\":%.3f,\"e2e_p999_ms\":%.3f,\"e2e_max_ms\":%.3f,\"partitions\":%d}\n",
         got, m, rate, secs, full, E2E(0.5), E2E(0.99), E2E(0.999), E2E(1.0), np);
  fflush(stdout);
  free(lat_us), free(payload);
  rd_kafka_queue_destroy(q);
  rd_kafka_topic_partition_list_destroy(tl);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_flush(prod, 10000);
  rd_kafka_destroy(prod);
  rd_kafka_consumer_close(cons);
  rd_kafka_destroy(cons);
}

int main(int argc, char **argv) {
  int i = 1, use_mock = 0;
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--mock")) { use_mock = 1; continue; }
    if (!v) die(a, "needs a value");
    i++;
    switch (a[1]) {
      case 'b': bootstrap = v; break;
      case 't': topic = v; break;
      case 'n': records = atol(v); break;
      case 's': size = atol(v); break;
      case 'a': acks = v; break;
      case 'l': linger_ms = atol(v); break;
      case 'p': partitions = atol(v); break;
      case 'z': compression = v; break;
      case 'r': rate = atol(v); break;
      case 'X': if (nxprops < 64) xprops[nxprops++] = v; break;
      default: die("unknown option", a);
    }
  }
  rd_kafka_t *mock_rk = NULL;
  if (use_mock) {
    // The mock cluster lives inside this rd_kafka_t, so all phases must run in this process.
    char err[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    set(c, "log_level", "3");  // this handle only hosts the mock; its "no bootstrap.servers" notice is noise
    mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (!mock_rk || !(mock = rd_kafka_mock_cluster_new(mock_rk, 1))) die("mock cluster", err);
    bootstrap = rd_kafka_mock_cluster_bootstraps(mock);
  }
  for (; i < argc; i++) {
    if (!strcmp(argv[i], "create")) phase_create();
    else if (!strcmp(argv[i], "hw")) phase_hw();
    else if (!strcmp(argv[i], "produce")) phase_produce();
    else if (!strcmp(argv[i], "consume")) phase_consume();
    else if (!strcmp(argv[i], "e2e")) phase_e2e();
    else die("unknown phase", argv[i]);
    fflush(stdout);
  }
  if (mock) rd_kafka_mock_cluster_destroy(mock), rd_kafka_destroy(mock_rk);
  return 0;
}
