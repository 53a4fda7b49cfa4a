// A bounded map that forgets its least recently used entry when full.
// Pure C++, no nginx headers; used by the per-worker caches (resolved
// names and TLS sessions in the HTTP client, VAPID tokens per origin).
//
// Why LRU rather than "clear everything at the bound": cache keys come
// from subscription endpoints, and a default wildcard ("*.push.apple.com")
// lets whoever subscribes choose any number of distinct host names.  A
// flood of them must only push out other rarely used entries, not the
// few push services every delivery goes to.
//
// find() counts as a use; peek() does not.  Values live in list nodes:
// a pointer or reference to one stays valid until that entry is erased
// or evicted (inserting other keys may evict it once it is the least
// recently used).  Not thread-safe; one per worker.

#ifndef WEBPUSH_UTIL_LRU_HPP
#define WEBPUSH_UTIL_LRU_HPP

#include <cstddef>
#include <functional>
#include <list>
#include <unordered_map>
#include <utility>

namespace webpush::util {

template <typename K, typename V, typename Hash = std::hash<K>>
class Lru {
public:
    // capacity 0 is taken as 1: an LRU that holds nothing is no cache.
    explicit Lru(std::size_t capacity)
        : capacity_(capacity == 0 ? 1 : capacity)
    {
    }

    Lru(const Lru&) = delete;
    Lru& operator=(const Lru&) = delete;

    std::size_t size() const noexcept { return index_.size(); }
    std::size_t capacity() const noexcept { return capacity_; }
    bool empty() const noexcept { return index_.empty(); }

    // The value for key, now the most recently used; nullptr if absent.
    V* find(const K& key)
    {
        auto it = index_.find(key);
        if (it == index_.end()) {
            return nullptr;
        }
        items_.splice(items_.begin(), items_, it->second);
        return &it->second->second;
    }

    // The value for key without touching its place.
    const V* peek(const K& key) const
    {
        auto it = index_.find(key);
        return it == index_.end() ? nullptr : &it->second->second;
    }

    bool contains(const K& key) const { return index_.count(key) != 0; }

    // Sets key to value, the most recently used entry; when that makes
    // one entry too many, the least recently used one is destroyed.
    // Strong guarantee for a new key: if an allocation throws, nothing
    // changed (nothing was evicted either).
    V& put(const K& key, V value)
    {
        auto it = index_.find(key);
        if (it != index_.end()) {
            it->second->second = std::move(value);
            items_.splice(items_.begin(), items_, it->second);
            return it->second->second;
        }

        items_.emplace_front(key, std::move(value));
        try {
            index_.emplace(key, items_.begin());
        } catch (...) {
            items_.pop_front();
            throw;
        }

        while (index_.size() > capacity_) {
            evict();
        }
        return items_.front().second;
    }

    bool erase(const K& key)
    {
        auto it = index_.find(key);
        if (it == index_.end()) {
            return false;
        }
        auto node = it->second;
        index_.erase(it);
        items_.erase(node);
        return true;
    }

    // Erases the entries for which pred(key, value) is true.
    template <typename Pred>
    std::size_t erase_if(Pred pred)
    {
        std::size_t n = 0;
        for (auto i = items_.begin(); i != items_.end();) {
            if (pred(static_cast<const K&>(i->first), i->second)) {
                index_.erase(i->first);
                i = items_.erase(i);
                n++;
            } else {
                ++i;
            }
        }
        return n;
    }

    void clear() noexcept
    {
        index_.clear();
        items_.clear();
    }

    // The key that would be evicted next; nullptr when empty.
    const K* least_recent() const noexcept
    {
        return items_.empty() ? nullptr : &items_.back().first;
    }

    // f(key, value) from the most to the least recently used.
    template <typename F>
    void for_each(F f) const
    {
        for (const auto& item : items_) {
            f(item.first, item.second);
        }
    }

private:
    using Items = std::list<std::pair<K, V>>;

    void evict()
    {
        index_.erase(items_.back().first);
        items_.pop_back();
    }

    std::size_t capacity_;
    Items items_;                 // most recently used first
    std::unordered_map<K, typename Items::iterator, Hash> index_;
};

}  // namespace webpush::util

#endif
