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

namespace queue {
class Queue;
}

namespace sender {
class Sender;
}


/* destroyed bottom-up: the sender uses the queue and the pool */
struct Worker {
    std::unique_ptr<db::Pool>          pool;     /* webpush_postgres */
    std::unique_ptr<queue::Queue>      queue;    /* the node's send queue */
    std::unique_ptr<sender::Sender>    sender;   /* webpush_sender on */

    Worker();
    ~Worker();
};


/* the current worker's state, nullptr outside worker processes */
Worker *worker() noexcept;

} // namespace webpush
