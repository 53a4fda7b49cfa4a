/*
 * The webpush_status location; see the header.
 */

#include "ngx_webpush_conf.hpp"
#include "ngx_webpush_worker.hpp"

#include "api/ngx_webpush_reply.hpp"
#include "db/ngx_webpush_pg.hpp"
#include "glue/ngx_webpush_glue.hpp"
#include "queue/ngx_webpush_queue.hpp"
#include "sender/ngx_webpush_sender.hpp"
#include "util/json.hpp"
#include "status/ngx_webpush_status.hpp"

#include <jansson.h>

#include <memory>
#include <string>
#include <vector>


namespace webpush::status {
namespace {

using util::JsonPtr;


std::string
dump(const json_t *doc)
{
    std::string text = util::json_compact(doc);

    if (text.empty()) {
        throw std::bad_alloc();
    }

    return text;
}


bool
wants_prometheus(ngx_http_request_t *r)
{
    ngx_str_t format;

    if (ngx_http_arg(r, reinterpret_cast<u_char *>(
                            const_cast<char *>("format")),
                     6, &format) != NGX_OK)
    {
        return false;
    }

    return format.len == 10
           && ngx_strncmp(format.data, "prometheus", 10) == 0;
}


/* one figure of the status page, in both of its formats */
struct Metric {
    const char  *group;        /* JSON object; Prometheus name part */
    const char  *name;
    const char  *type;         /* "gauge", "counter" */
    const char  *help;
    uint64_t     value;
    bool         node;         /* the node's (shared memory), not the
                                  worker's: no pid label */
    bool         flag;         /* a boolean in JSON */
};


using Origins = std::vector<std::pair<std::string, sender::OriginStats>>;


/* outcome name -> count of one origin, in a fixed order */
std::vector<std::pair<const char *, uint64_t>>
outcomes(const sender::OriginStats &o)
{
    return {{"sent", o.sent}, {"failed", o.failed}, {"retried", o.retried},
            {"gone", o.gone}, {"no_answer", o.no_answer}};
}


std::vector<Metric>
collect_metrics(MainConf *mcf, Origins &origins)
{
    std::vector<Metric> m;
    Worker *w = worker();

    db::PoolStats pg{};

    if (w != nullptr && w->pool) {
        pg = w->pool->stats();
    }

    m.push_back({"postgres", "configured", "gauge",
                 "webpush_postgres is set.", mcf->postgres.len != 0,
                 false, true});
    m.push_back({"postgres", "schema_ready", "gauge",
                 "This worker has checked the schema.", pg.schema_ready,
                 false, true});
    m.push_back({"postgres", "pool", "gauge",
                 "Database connections configured per worker.",
                 mcf->postgres_pool, false, false});
    m.push_back({"postgres", "connected", "gauge",
                 "Database connections up in this worker.", pg.connected,
                 false, false});
    m.push_back({"postgres", "busy", "gauge",
                 "Database connections running a query.", pg.busy,
                 false, false});
    m.push_back({"postgres", "queued", "gauge",
                 "Queries waiting for a connection.", pg.queued,
                 false, false});
    m.push_back({"postgres", "queries", "counter", "Queries completed.",
                 pg.queries, false, false});
    m.push_back({"postgres", "errors", "counter",
                 "Queries that failed with an SQL error.", pg.errors,
                 false, false});
    m.push_back({"postgres", "timeouts", "counter",
                 "Queries that ran out of time.", pg.timeouts,
                 false, false});
    m.push_back({"postgres", "reconnects", "counter",
                 "Connection attempts after a failure.", pg.reconnects,
                 false, false});

    if (w != nullptr && w->queue) {
        queue::Stats q = w->queue->stats();

        m.push_back({"queue", "depth", "gauge",
                     "Deliveries waiting in the node's queue.", q.depth,
                     true, false});
        m.push_back({"queue", "capacity_bytes", "gauge",
                     "Shared memory for queued deliveries.",
                     q.capacity_bytes, true, false});
        m.push_back({"queue", "free_bytes", "gauge",
                     "Shared memory still free.", q.free_bytes, true,
                     false});
        m.push_back({"queue", "in_flight", "gauge",
                     "Push requests waiting for an answer on this node.",
                     static_cast<uint64_t>(std::max<int64_t>(q.in_flight,
                                                             0)),
                     true, false});

        for (size_t i = 0; i < queue::counter_count; i++) {
            auto c = static_cast<queue::Counter>(i);
            m.push_back({"queue", queue::counter_name(c), "counter",
                         "Deliveries by outcome and queue events, "
                         "node-wide.", q.count(c), true, false});
        }
    }

    if (w != nullptr && w->sender) {
        sender::SenderStats st = w->sender->stats();

        origins = std::move(st.origins);

        m.push_back({"sender", "in_flight", "gauge",
                     "Push requests of this worker waiting for an answer.",
                     st.in_flight, false, false});
        m.push_back({"sender", "claimed", "counter",
                     "Deliveries this worker leased.", st.claimed, false,
                     false});
        m.push_back({"sender", "fanned_out", "counter",
                     "Deliveries this worker's fan-out steps created.",
                     st.fanned_out, false, false});
        m.push_back({"sender", "completed", "counter",
                     "Outcomes this worker wrote back.", st.completed,
                     false, false});
        m.push_back({"sender", "connections", "gauge",
                     "Connections to push services, idle included.",
                     st.connections, false, false});
        m.push_back({"sender", "idle", "gauge",
                     "Idle kept-alive connections.", st.idle, false,
                     false});
        m.push_back({"sender", "requests", "counter",
                     "Push requests answered with an HTTP status.",
                     st.requests, false, false});
        m.push_back({"sender", "errors", "counter",
                     "Push requests without an answer.", st.errors, false,
                     false});
        m.push_back({"sender", "connects", "counter",
                     "Connections opened to push services.", st.connects,
                     false, false});
        m.push_back({"sender", "reuses", "counter",
                     "Push requests on kept-alive connections.",
                     st.reuses, false, false});
        m.push_back({"sender", "h2_connections", "gauge",
                     "HTTP/2 connections to push services, idle included.",
                     st.h2_connections, false, false});
        m.push_back({"sender", "streams", "counter",
                     "Push requests sent on HTTP/2 streams.", st.streams,
                     false, false});
        m.push_back({"sender", "refused_streams", "counter",
                     "HTTP/2 streams refused by push services and sent "
                     "again.", st.refused, false, false});
    }

    return m;
}


std::string
prometheus(const std::vector<Metric> &metrics, const Origins &origins)
{
    std::string text =
        "# HELP webpush_info Module build information.\n"
        "# TYPE webpush_info gauge\n"
        "webpush_info{version=\"" NGX_HTTP_WEBPUSH_VERSION "\","
        "nginx=\"" NGINX_VERSION "\"} 1\n";

    std::string pid = std::to_string(ngx_pid);

    for (const Metric &m : metrics) {
        std::string name = std::string("webpush_") + m.group + "_" + m.name;

        if (std::string_view(m.type) == "counter") {
            name += "_total";
        }

        text += "# HELP " + name + " " + m.help + "\n"
                + "# TYPE " + name + " " + m.type + "\n" + name
                + (m.node ? std::string() : "{pid=\"" + pid + "\"}")
                + " " + std::to_string(m.value) + "\n";
    }

    if (!origins.empty()) {
        text += "# HELP webpush_origin_deliveries_total Outcomes of this "
                "worker's push requests per push-service origin.\n"
                "# TYPE webpush_origin_deliveries_total counter\n";
    }

    for (const auto &[origin, o] : origins) {
        for (const auto &[outcome, n] : outcomes(o)) {
            /* origins passed the allow-list: no quotes or backslashes */
            text += "webpush_origin_deliveries_total{pid=\"" + pid
                    + "\",origin=\"" + origin + "\",outcome=\"" + outcome
                    + "\"} " + std::to_string(n) + "\n";
        }
    }

    return text;
}


std::string
json_status(const std::vector<Metric> &metrics, const Origins &origins)
{
    JsonPtr doc(json_pack("{s:s, s:s, s:I}",
                          "version", NGX_HTTP_WEBPUSH_VERSION,
                          "nginx", NGINX_VERSION,
                          "pid", static_cast<json_int_t>(ngx_pid)));
    if (!doc) {
        throw std::bad_alloc();
    }

    for (const Metric &m : metrics) {
        json_t *group = json_object_get(doc.get(), m.group);

        if (group == nullptr) {
            group = json_object();
            if (json_object_set_new(doc.get(), m.group, group) != 0) {
                throw std::bad_alloc();
            }
        }

        json_t *value = m.flag
                        ? json_boolean(m.value != 0)
                        : json_integer(static_cast<json_int_t>(m.value));

        if (json_object_set_new(group, m.name, value) != 0) {
            throw std::bad_alloc();
        }
    }

    if (json_t *sender = json_object_get(doc.get(), "sender")) {
        json_t *per_origin = json_object();

        if (json_object_set_new(sender, "origins", per_origin) != 0) {
            throw std::bad_alloc();
        }

        for (const auto &[origin, o] : origins) {
            json_t *counts = json_object();

            if (json_object_set_new(per_origin, origin.c_str(), counts) != 0) {
                throw std::bad_alloc();
            }

            for (const auto &[outcome, n] : outcomes(o)) {
                json_object_set_new(counts, outcome,
                                    json_integer(static_cast<json_int_t>(n)));
            }
        }
    }

    return dump(doc.get());
}


/*
 * GET -> the module's state as JSON, or in the Prometheus text format
 * with ?format=prometheus.  Database and sender figures are the serving
 * worker's own (each worker has its pool and sender); queue figures are
 * the node's.
 */
ngx_int_t
status_handler(ngx_http_request_t *r, MainConf *mcf)
{
    ngx_int_t rc = only_get(r);
    if (rc != NGX_OK) {
        return rc;
    }

    Origins origins;
    std::vector<Metric> metrics = collect_metrics(mcf, origins);

    if (wants_prometheus(r)) {
        return send_reply(r, NGX_HTTP_OK,
                          "text/plain; version=0.0.4; charset=utf-8",
                          prometheus(metrics, origins));
    }

    return send_reply(r, NGX_HTTP_OK, json_type,
                      json_status(metrics, origins));
}

} // namespace


ngx_int_t
content_handler(ngx_http_request_t *r) noexcept
{
    return glue::barrier(r->connection->log, "status request failed",
                         ngx_int_t(NGX_HTTP_INTERNAL_SERVER_ERROR),
                         [r]() { return status_handler(r, main_conf(r)); });
}

} // namespace webpush::status
