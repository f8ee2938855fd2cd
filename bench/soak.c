// soak: the librdkafka clients behind bench/soak.ts (compiled on first use into bench/.build/). Each
// process plays one role until SIGTERM and prints one JSON line per window (-w ms) on stdout: counts in
// the window and latency percentiles over the window's records.
//
//   soak produce -b host:port -t topic [-r records_per_s] [-s size] [-w window_ms]
//        idempotent, acks=all; -r 0 produces as fast as the broker takes it (the saturation run).
//        Latency: produce() call to delivery report. Each value starts with its send time
//        (CLOCK_MONOTONIC, the same clock in every process), so consumers can time it end to end.
//   soak consume -b host:port -g group -t topic[,topic...] [-w window_ms]
//        a member of a consumer group (subscribe, auto commit each second, read_committed); prints
//        {"event":"assigned",...} on each assignment.
//        Latency: end to end, send time to the consumer receiving the record, for the first topic only
//        (records of the others, e.g. transactional ones that wait for their commit, are only counted).
//   soak txn -b host:port -t topic -x transactional.id [-r transactions_per_s] [-k records] [-s size]
//        begin, k records, commit. Latency: commit_transaction()'s duration.
#define _GNU_SOURCE
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *bootstrap = "127.0.0.1:9092", *topic = "soak", *group = "soak", *txn_id = "soak-txn";
static long rate = 0, size = 200, window_ms = 60000, txn_records = 10;
static volatile sig_atomic_t stop;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}
static void die(const char *what, const char *msg) {
  fprintf(stderr, "soak: %s: %s\n", what, msg);
  exit(1);
}
static void set(rd_kafka_conf_t *c, const char *k, const char *v) {
  char err[512];
  if (rd_kafka_conf_set(c, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) die(k, err);
}
static rd_kafka_t *client(rd_kafka_type_t type, rd_kafka_conf_t *c) {
  char err[512];
  set(c, "bootstrap.servers", bootstrap);
  rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof err);
  if (!rk) die("rd_kafka_new", err);
  return rk;
}

// ---- a window of latencies (microseconds) ----
// A log-linear histogram (64 steps per power of two, within 1.6%), not a sorted array: sorting a minute
// of 250k records/s took seconds, during which the client neither sent nor served delivery reports,
// which inflated both the tail latency and the window's throughput.
#define LAT_SUB 64
#define LAT_BUCKETS (LAT_SUB * 28)
typedef struct {
  uint64_t count[LAT_BUCKETS];
  long n;
  uint32_t max;
} lat_t;
static int lat_bucket(uint32_t us) {
  if (us < LAT_SUB) return (int)us;
  int e = 31 - __builtin_clz(us); // >= 6
  return (e - 5) * LAT_SUB + (int)((us >> (e - 6)) & (LAT_SUB - 1));
}
static double lat_value(int b) { // the bucket's lower bound, in microseconds
  if (b < LAT_SUB) return b;
  int e = b / LAT_SUB + 5;
  return (double)((uint64_t)(LAT_SUB + b % LAT_SUB) << (e - 6));
}
static void lat_add(lat_t *l, uint64_t us) {
  uint32_t v = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
  l->count[lat_bucket(v)]++;
  l->n++;
  if (v > l->max) l->max = v;
}
static double lat_pct(const lat_t *l, double q) {
  uint64_t rank = (uint64_t)((l->n - 1) * q), seen = 0;
  for (int b = 0; b < LAT_BUCKETS; b++)
    if ((seen += l->count[b]) > rank) return lat_value(b);
  return l->max;
}
/** "p50":..,"p99":..,"max":.. in ms over the window, then empties it. */
static void lat_print(lat_t *l) {
  if (l->n == 0) printf("\"p50\":null,\"p99\":null,\"max\":null");
  else printf("\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f", lat_pct(l, 0.5) / 1000.0, lat_pct(l, 0.99) / 1000.0, l->max / 1000.0);
  memset(l, 0, sizeof *l);
}

// ---- produce ----
static lat_t plat;
static long acked, failed;
static char first_error[256];
static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  if (m->err) {
    if (!failed++) snprintf(first_error, sizeof first_error, "%s", rd_kafka_err2str(m->err));
    return;
  }
  acked++;
  lat_add(&plat, (now_ns() - (uint64_t)(uintptr_t)m->_private) / 1000);
}

static void fill_value(char *buf, long n, uint64_t sent, uint64_t seq) {
  memcpy(buf, &sent, 8);
  for (long i = 8; i < n; i++) buf[i] = 'a' + (char)((seq + i) % 26);
}

static void run_produce(void) {
  rd_kafka_conf_t *c = rd_kafka_conf_new();
  set(c, "enable.idempotence", "true");
  set(c, "acks", "all");
  set(c, "linger.ms", "5");
  set(c, "queue.buffering.max.messages", "200000");
  rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
  rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, c);
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  char *buf = malloc(size < 8 ? 8 : size);
  uint64_t t0 = now_ns(), win0 = t0, seq = 0;
  long sent = 0, full = 0, win_sent = 0, win_acked = 0, win_failed = 0;
  while (!stop) {
    uint64_t now = now_ns();
    if (rate > 0) {
      uint64_t due = t0 + (uint64_t)(sent * 1e9 / rate);
      if (due > now) {
        rd_kafka_poll(rk, 0);
        uint64_t wait = due - now;
        if (wait > 1000000) wait = 1000000;
        nanosleep(&(struct timespec){0, (long)wait}, NULL);
        goto window;
      }
    }
    fill_value(buf, size < 8 ? 8 : size, now, seq);
    if (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, buf, size < 8 ? 8 : size, NULL, 0, (void *)(uintptr_t)now) == -1) {
      if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("produce", rd_kafka_err2str(rd_kafka_last_error()));
      full++;
      rd_kafka_poll(rk, 1);
      continue;
    }
    sent++, seq++;
    if ((sent & 255) == 0) rd_kafka_poll(rk, 0);
  window:
    uint64_t win_end = now_ns();
    if (win_end - win0 >= (uint64_t)window_ms * 1000000ull) {
      rd_kafka_poll(rk, 0);
      printf("{\"role\":\"produce\",\"seconds\":%.3f,\"sent\":%ld,\"acked\":%ld,\"failed\":%ld,\"queue_full\":%ld,", (win_end - win0) / 1e9,
             sent - win_sent, acked - win_acked, failed - win_failed, full);
      lat_print(&plat);
      printf("%s%s%s}\n", failed ? ",\"error\":\"" : "", failed ? first_error : "", failed ? "\"" : "");
      fflush(stdout);
      win_sent = sent, win_acked = acked, win_failed = failed, full = 0;
      win0 = win_end;
    }
  }
  rd_kafka_flush(rk, 30000);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
}

// ---- consume ----
static long rebalances;
static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts, void *opaque) {
  rebalances++;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    rd_kafka_assign(rk, parts);
    printf("{\"event\":\"assigned\",\"partitions\":%d}\n", parts->cnt); // the driver waits for it
    fflush(stdout);
  } else rd_kafka_assign(rk, NULL);
}

static void run_consume(void) {
  rd_kafka_conf_t *c = rd_kafka_conf_new();
  set(c, "group.id", group);
  set(c, "auto.offset.reset", "latest");
  set(c, "enable.auto.commit", "true");
  set(c, "auto.commit.interval.ms", "1000");
  set(c, "isolation.level", "read_committed");
  set(c, "session.timeout.ms", "10000");
  set(c, "heartbeat.interval.ms", "1000");
  rd_kafka_conf_set_rebalance_cb(c, rebalance_cb);
  rd_kafka_t *rk = client(RD_KAFKA_CONSUMER, c);
  rd_kafka_poll_set_consumer(rk);
  char *topics = strdup(topic), first_topic[256];
  snprintf(first_topic, sizeof first_topic, "%.*s", (int)strcspn(topic, ","), topic);
  rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(4);
  for (char *t = strtok(topics, ","); t; t = strtok(NULL, ",")) rd_kafka_topic_partition_list_add(sub, t, RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, sub);
  if (e) die("subscribe", rd_kafka_err2str(e));
  rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
  static rd_kafka_message_t *msgs[10000];
  static lat_t l;
  uint64_t win0 = now_ns();
  long got = 0, bytes = 0, others = 0, errors = 0, win_rebalances = 0;
  while (!stop) {
    // Wait for one message, then take what is already queued: a batch call with a timeout waits until
    // its batch is full, which would add up to that timeout to the measured end-to-end latency.
    ssize_t n = rd_kafka_consume_batch_queue(q, 100, msgs, 1);
    if (n == 1) {
      ssize_t more = rd_kafka_consume_batch_queue(q, 0, msgs + 1, 9999);
      if (more > 0) n += more;
    }
    uint64_t now = now_ns();
    for (ssize_t i = 0; i < n; i++) {
      rd_kafka_message_t *m = msgs[i];
      if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) errors++;
      } else if (strcmp(rd_kafka_topic_name(m->rkt), first_topic)) {
        others++; // a transactional record waited for its commit: not timed with the plain ones
      } else {
        got++, bytes += m->len;
        if (m->len >= 8) {
          uint64_t sent;
          memcpy(&sent, m->payload, 8);
          if (sent <= now) lat_add(&l, (now - sent) / 1000);
        }
      }
      rd_kafka_message_destroy(m);
    }
    // No rd_kafka_poll() here: the main queue is forwarded to the consumer queue, and serving fetched
    // messages through rd_kafka_poll() trips librdkafka's assertion in rd_kafka_q_serve. The batch call
    // above serves the rebalance callbacks.
    uint64_t win_end = now_ns();
    if (win_end - win0 >= (uint64_t)window_ms * 1000000ull) {
      printf("{\"role\":\"consume\",\"seconds\":%.3f,\"records\":%ld,\"bytes\":%ld,\"other_records\":%ld,\"errors\":%ld,\"rebalances\":%ld,",
             (win_end - win0) / 1e9, got, bytes, others, errors, rebalances - win_rebalances);
      lat_print(&l);
      printf("}\n");
      fflush(stdout);
      got = bytes = others = errors = 0, win_rebalances = rebalances;
      win0 = win_end;
    }
  }
  rd_kafka_queue_destroy(q);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
}

// ---- transactions ----
static void txn_check(const char *what, rd_kafka_error_t *err) {
  if (!err) return;
  fprintf(stderr, "soak: %s: %s\n", what, rd_kafka_error_string(err));
  exit(1);
}

static void run_txn(void) {
  rd_kafka_conf_t *c = rd_kafka_conf_new();
  set(c, "transactional.id", txn_id);
  set(c, "linger.ms", "1");
  rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, c);
  txn_check("init_transactions", rd_kafka_init_transactions(rk, 30000));
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  char *buf = malloc(size < 8 ? 8 : size);
  static lat_t l;
  uint64_t t0 = now_ns(), win0 = t0;
  long done = 0, win_done = 0, records = 0;
  while (!stop) {
    if (rate > 0) {
      uint64_t due = t0 + (uint64_t)(done * 1e9 / rate), now = now_ns();
      if (due > now) {
        uint64_t wait = due - now;
        nanosleep(&(struct timespec){wait / 1000000000, wait % 1000000000}, NULL);
        continue;
      }
    }
    txn_check("begin_transaction", rd_kafka_begin_transaction(rk));
    for (long i = 0; i < txn_records; i++) {
      fill_value(buf, size < 8 ? 8 : size, now_ns(), records + i);
      while (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, buf, size < 8 ? 8 : size, NULL, 0, NULL) == -1) rd_kafka_poll(rk, 1);
    }
    records += txn_records;
    uint64_t c0 = now_ns();
    txn_check("commit_transaction", rd_kafka_commit_transaction(rk, 30000));
    lat_add(&l, (now_ns() - c0) / 1000);
    done++;
    uint64_t win_end = now_ns();
    if (win_end - win0 >= (uint64_t)window_ms * 1000000ull) {
      printf("{\"role\":\"txn\",\"seconds\":%.3f,\"commits\":%ld,\"records\":%ld,", (win_end - win0) / 1e9, done - win_done, (done - win_done) * txn_records);
      lat_print(&l);
      printf("}\n");
      fflush(stdout);
      win_done = done;
      win0 = win_end;
    }
  }
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
}

static void on_signal(int sig) { stop = 1; }

int main(int argc, char **argv) {
  if (argc < 2) die("usage", "soak produce|consume|txn [-b host:port] [-t topic] [-g group] [-x txn id] [-r rate] [-s size] [-k records] [-w window_ms]");
  const char *role = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const char *o = argv[i], *v = argv[i + 1];
    if (!strcmp(o, "-b")) bootstrap = v;
    else if (!strcmp(o, "-t")) topic = v;
    else if (!strcmp(o, "-g")) group = v;
    else if (!strcmp(o, "-x")) txn_id = v;
    else if (!strcmp(o, "-r")) rate = atol(v);
    else if (!strcmp(o, "-s")) size = atol(v);
    else if (!strcmp(o, "-k")) txn_records = atol(v);
    else if (!strcmp(o, "-w")) window_ms = atol(v);
    else die("unknown option", o);
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (!strcmp(role, "produce")) run_produce();
  else if (!strcmp(role, "consume")) run_consume();
  else if (!strcmp(role, "txn")) run_txn();
  else die("unknown role", role);
  return 0;
}
