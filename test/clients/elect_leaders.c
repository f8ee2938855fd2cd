/* ElectLeaders through librdkafka's admin API (rd_kafka_ElectLeaders, librdkafka >= 2.4), built by the
 * tests against the librdkafka 2.15 that @confluentinc/kafka-javascript bundles.
 * usage: elect_leaders BOOTSTRAP TYPE(0 preferred, 1 unclean) [TOPIC:PARTITION ...]  (none: all partitions)
 * stdout: one JSON line per partition result {"topic","partition","error","message"}, then
 *         {"summary": {"error": top-level error code, "message": ..., "results": n}}
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rdkafka.h" /* librdkafka 2.15 from deps/librdkafka/src (Debian's 2.0.2 has no ElectLeaders) */

int main(int argc, char **argv) {
        char errstr[512];
        if (argc < 3) {
                fprintf(stderr, "usage: %s BOOTSTRAP TYPE [TOPIC:PARTITION ...]\n", argv[0]);
                return 1;
        }
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
                fprintf(stderr, "%s\n", errstr);
                return 1;
        }
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "%s\n", errstr);
                return 1;
        }
        rd_kafka_topic_partition_list_t *parts = NULL;
        if (argc > 3) {
                parts = rd_kafka_topic_partition_list_new(argc - 3);
                for (int i = 3; i < argc; i++) {
                        char *colon = strrchr(argv[i], ':');
                        if (!colon) return 1;
                        *colon = '\0';
                        rd_kafka_topic_partition_list_add(parts, argv[i], atoi(colon + 1));
                }
        }
        rd_kafka_ElectLeaders_t *el = rd_kafka_ElectLeaders_new((rd_kafka_ElectionType_t)atoi(argv[2]), parts);
        rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
        rd_kafka_ElectLeaders(rk, el, NULL, q);
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
        if (!ev) {
                fprintf(stderr, "no result within 30 s\n");
                return 1;
        }
        size_t n = 0;
        const rd_kafka_ElectLeaders_result_t *res = rd_kafka_event_ElectLeaders_result(ev);
        if (res) {
                const rd_kafka_topic_partition_result_t **results = rd_kafka_ElectLeaders_result_partitions(res, &n);
                for (size_t i = 0; i < n; i++) {
                        const rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_result_partition(results[i]);
                        const rd_kafka_error_t *err = rd_kafka_topic_partition_result_error(results[i]);
                        printf("{\"topic\":\"%s\",\"partition\":%d,\"error\":%d,\"message\":\"%s\"}\n", tp->topic, tp->partition,
                               err ? (int)rd_kafka_error_code(err) : 0, err ? rd_kafka_error_string(err) : "");
                }
        }
        printf("{\"summary\":{\"error\":%d,\"message\":\"%s\",\"results\":%zu}}\n", (int)rd_kafka_event_error(ev),
               rd_kafka_event_error_string(ev) ? rd_kafka_event_error_string(ev) : "", n);
        rd_kafka_event_destroy(ev);
        rd_kafka_ElectLeaders_destroy(el);
        if (parts) rd_kafka_topic_partition_list_destroy(parts);
        rd_kafka_queue_destroy(q);
        rd_kafka_destroy(rk);
        return 0;
}
