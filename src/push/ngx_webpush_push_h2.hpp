/*
 * The HTTP/2 transport's class (private to src/push/): the session and
 * connection side in ngx_webpush_push_h2.cpp (see there for the
 * contract), the stream side (nghttp2's callbacks: headers, data, stream
 * close, the request body) in ngx_webpush_push_h2_streams.cpp.
 */

#pragma once

#include "push/ngx_webpush_push_impl.hpp"

#include <nghttp2/nghttp2.h>

#include <memory>
#include <string>


namespace webpush::push {

/* an idle HTTP/2 connection's PING, to know it is still there */
constexpr ngx_msec_t  h2_ping_interval = 30000;


struct SessionDelete {
    void operator()(nghttp2_session *s) const noexcept
    {
        nghttp2_session_del(s);
    }
};


class Http2 final : public Transport {
public:
    Http2(Impl &impl, Conn *conn);

    void start(Conn *conn) override;
    void on_writable(Conn *conn) override;
    void on_readable(Conn *conn) override;

    size_t room(const Conn *conn) const noexcept override;
    bool retiring(const Conn *conn) const noexcept override;
    void add(Conn *conn, Exchange *ex) override;
    void cancel(Conn *conn, Exchange *ex) noexcept override;

private:
    /* retiring() for reasons of its own: no new stream at all */
    bool worn(const Conn *conn) const noexcept;

    static const nghttp2_session_callbacks *callbacks();

    static int on_header(nghttp2_session *session,
                         const nghttp2_frame *frame, const uint8_t *name,
                         size_t namelen, const uint8_t *value,
                         size_t valuelen, uint8_t flags,
                         void *user) noexcept;
    static int on_frame(nghttp2_session *session, const nghttp2_frame *frame,
                        void *user) noexcept;
    static int on_data(nghttp2_session *session, uint8_t flags,
                       int32_t id, const uint8_t *data, size_t len,
                       void *user) noexcept;
    static int on_close(nghttp2_session *session, int32_t id,
                        uint32_t error_code, void *user) noexcept;
    static int on_error(nghttp2_session *session, int lib_error_code,
                        const char *msg, size_t len, void *user) noexcept;
    static ssize_t read_body(nghttp2_session *session, int32_t id,
                             uint8_t *buf, size_t length,
                             uint32_t *data_flags,
                             nghttp2_data_source *source,
                             void *user) noexcept;

    Exchange *exchange(int32_t id) const noexcept;
    void leave(Exchange *ex) noexcept;
    void stream_closed(Exchange *ex, uint32_t error_code);
    bool flush();
    void settle();
    void idle_timeout();
    void busy() noexcept;
    void close(bool graceful) noexcept;
    void failure(const std::string &error) noexcept;
    void post_write() noexcept;

    Impl                                             &impl_;
    Conn                                             *conn_;
    std::unique_ptr<nghttp2_session, SessionDelete>   session_;
    std::string                                       out_;
    size_t                                            out_pos_ = 0;
    u_char                                           *in_ = nullptr;
    bool                                              goaway_ = false;
    int32_t                                           goaway_last_ = 0;
    bool                                              failed_ = false;
    bool                                              ping_sent_ = false;
    ngx_msec_t                                        idle_since_ = 0;
};

} // namespace webpush::push
