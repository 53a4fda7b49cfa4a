/*
 * webpush_events: engagement reported by service workers.
 *
 * POST {"type":"shown"|"clicked"|"closed","event":"<token>"} -> 204.
 * The token (crypto/event_token.hpp) is the proof: it names the delivery
 * (notification and subscription) and only this server's key makes one,
 * so the location is open to browsers and needs no session.  A report
 * counts once per delivery and type (the table's primary key): a service
 * worker that retries, or a page that reports twice, gets 204 again and
 * changes nothing.  A report for a notification or subscription deleted
 * since is answered 204 as well, storing nothing: the worker did nothing
 * wrong and has nothing to retry.  Bad JSON, another type, a token that
 * is malformed or not signed here -> 400 / 5400 with a detail, nothing
 * stored.
 */

#include "ngx_webpush_conf.hpp"

#include "api/events.hpp"
#include "api/ngx_webpush_api.hpp"
#include "api/ngx_webpush_reply.hpp"
#include "api/ngx_webpush_request.hpp"
#include "crypto/event_token.hpp"
#include "db/sql.hpp"


namespace webpush {

namespace {

ngx_int_t
record_event(ngx_http_request_t *r, std::string &&body)
{
    api::EventReportResult v = api::parse_event_report(body);

    if (!v.report) {
        return send_error(r, std::move(v.error));
    }

    MainConf *mcf = main_conf(r);
    crypto::EventIds ids;

    switch (mcf->event_key->check(v.report->token, ids)) {

    case crypto::EventTokenStatus::Valid:
        break;

    case crypto::EventTokenStatus::Malformed:
        return send_error(r, api::wrong_request_body(
                                 api::kEventTokenMalformed));

    case crypto::EventTokenStatus::BadSignature:
        /* forged, altered, or signed with an earlier VAPID key */
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "webpush: an engagement report with a token not "
                      "signed by this server's key");
        return send_error(r, api::wrong_request_body(
                                 api::kEventTokenForged));
    }

    db::Params params;
    params.add(static_cast<long long>(ids.notification))
          .add(static_cast<long long>(ids.subscription))
          .add(api::event_type_name(v.report->type));

    return query(r, db::sql::engagement_record, std::move(params),
                 [](ngx_http_request_t *r, db::Outcome &&o) {
        /* 23503: the notification or subscription went meanwhile */
        if (!o.ok() && o.sqlstate != "23503") {
            return internal_error(r, o);
        }

        return send_reply(r, NGX_HTTP_NO_CONTENT, json_api_type, "");
    });
}

} // namespace


ngx_int_t
events_handler(ngx_http_request_t *r)
{
    if (r->method != NGX_HTTP_POST) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    return read_body(r, record_event);
}

} // namespace webpush
