/*
 * Content handlers of the webpush_* locations.
 */

#pragma once

#include "ngx.hpp"


namespace webpush {

/* the content handler of the API's locations; dispatches on LocConf */
ngx_int_t content_handler(ngx_http_request_t *r) noexcept;

} // namespace webpush
