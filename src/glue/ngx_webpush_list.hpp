/*
 * An intrusive list on nginx's ngx_queue_t, for C++ objects that sit in
 * one or more lists at once (a query waiting or finished, a connection
 * open and idle, an exchange in flight): linking and unlinking never
 * allocate and never throw, so an object can be queued where a failure
 * could not be answered.
 *
 * An object holds a Link<T> per list it may be in; Link is standard
 * layout with the ngx_queue_t first, so a queue entry leads back to its
 * owner without offsetof() on a C++ class.
 */

#pragma once

#include "ngx.hpp"

#include <cstddef>


namespace webpush::glue {

template <typename T>
struct Link {
    ngx_queue_t  queue;
    T           *owner = nullptr;      /* nullptr: in no list */

    bool linked() const noexcept { return owner != nullptr; }
};


template <typename T>
class List {
public:
    List() noexcept { ngx_queue_init(&head_); }

    List(const List &) = delete;
    List &operator=(const List &) = delete;

    bool empty() const noexcept { return size_ == 0; }
    size_t size() const noexcept { return size_; }

    T *front() const noexcept
    {
        return empty() ? nullptr : of(ngx_queue_head(&head_));
    }

    T *back() const noexcept
    {
        return empty() ? nullptr : of(ngx_queue_last(&head_));
    }

    void
    push_front(Link<T> &link, T *owner) noexcept
    {
        link.owner = owner;
        ngx_queue_insert_head(&head_, &link.queue);
        size_++;
    }

    void
    push_back(Link<T> &link, T *owner) noexcept
    {
        link.owner = owner;
        ngx_queue_insert_tail(&head_, &link.queue);
        size_++;
    }

    void
    remove(Link<T> &link) noexcept
    {
        ngx_queue_remove(&link.queue);
        link.owner = nullptr;
        size_--;
    }

    /* appends every element to "to", leaving this list empty */
    void
    move_to(List &to) noexcept
    {
        if (empty()) {
            return;
        }

        ngx_queue_add(&to.head_, &head_);
        ngx_queue_init(&head_);
        to.size_ += size_;
        size_ = 0;
    }

    /* the first element, front to back, for which f(T *) holds */
    template <typename F>
    T *
    find(F f) const
    {
        for (ngx_queue_t *q = ngx_queue_head(&head_);
             q != ngx_queue_sentinel(&head_);
             q = ngx_queue_next(q))
        {
            if (f(of(q))) {
                return of(q);
            }
        }

        return nullptr;
    }

private:
    static T *of(const ngx_queue_t *q) noexcept
    {
        return reinterpret_cast<const Link<T> *>(q)->owner;
    }

    ngx_queue_t  head_;
    size_t       size_ = 0;
};

} // namespace webpush::glue
