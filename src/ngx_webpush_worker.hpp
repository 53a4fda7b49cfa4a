/*
 * What a worker process owns: created in init-process, destroyed in
 * exit-process (ngx_http_webpush_module.cpp).
 */

#pragma once

#include "ngx.hpp"

#include <memory>


namespace webpush {

namespace db {
class Pool;
}


struct Worker {
    std::unique_ptr<db::Pool>  pool;      /* when webpush_postgres is set */

    Worker();
    ~Worker();
};


/* the current worker's state, nullptr outside worker processes */
Worker *worker() noexcept;

} // namespace webpush
