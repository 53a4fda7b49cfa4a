#include <gtest/gtest.h>

#include "util/lru.hpp"

#include <memory>
#include <string>
#include <vector>

using webpush::util::Lru;

namespace {

std::vector<std::string> keys(const Lru<std::string, int>& lru)
{
    std::vector<std::string> out;
    lru.for_each([&](const std::string& k, int) { out.push_back(k); });
    return out;
}

}  // namespace

TEST(Lru, EvictsTheLeastRecentlyUsed)
{
    Lru<std::string, int> lru(3);
    lru.put("a", 1);
    lru.put("b", 2);
    lru.put("c", 3);
    EXPECT_EQ(keys(lru), (std::vector<std::string>{"c", "b", "a"}));
    EXPECT_EQ(*lru.least_recent(), "a");

    ASSERT_NE(lru.find("a"), nullptr);     // a use: "b" is now the oldest
    lru.put("d", 4);
    EXPECT_EQ(lru.size(), 3u);
    EXPECT_EQ(lru.find("b"), nullptr);
    EXPECT_EQ(keys(lru), (std::vector<std::string>{"d", "a", "c"}));

    // peek() is not a use
    ASSERT_NE(lru.peek("c"), nullptr);
    lru.put("e", 5);
    EXPECT_FALSE(lru.contains("c"));
    EXPECT_EQ(keys(lru), (std::vector<std::string>{"e", "d", "a"}));
}

TEST(Lru, PutReplacesAndRefreshes)
{
    Lru<std::string, int> lru(2);
    lru.put("a", 1);
    lru.put("b", 2);
    EXPECT_EQ(lru.put("a", 10), 10);
    EXPECT_EQ(lru.size(), 2u);
    lru.put("c", 3);
    EXPECT_FALSE(lru.contains("b"));
    EXPECT_EQ(*lru.find("a"), 10);
}

TEST(Lru, EraseAndEraseIf)
{
    Lru<std::string, int> lru(10);
    for (int i = 0; i < 6; i++) {
        lru.put(std::to_string(i), i);
    }
    EXPECT_TRUE(lru.erase("3"));
    EXPECT_FALSE(lru.erase("3"));
    EXPECT_EQ(lru.erase_if([](const std::string&, int v) { return v % 2; }),
              2u);
    EXPECT_EQ(keys(lru), (std::vector<std::string>{"4", "2", "0"}));
    lru.clear();
    EXPECT_TRUE(lru.empty());
    EXPECT_EQ(lru.least_recent(), nullptr);
}

TEST(Lru, ZeroCapacityHoldsOne)
{
    Lru<std::string, int> lru(0);
    EXPECT_EQ(lru.capacity(), 1u);
    lru.put("a", 1);
    lru.put("b", 2);
    EXPECT_EQ(keys(lru), (std::vector<std::string>{"b"}));
}

// What the caches are for: a flood of distinct one-off keys (random
// subdomains under a wildcard) does not push out an entry in use.
TEST(Lru, AFloodOfNewKeysKeepsAHotEntry)
{
    Lru<std::string, int> lru(1024);
    lru.put("fcm.googleapis.com", 1);

    for (int i = 0; i < 100000; i++) {
        lru.put("x" + std::to_string(i) + ".push.apple.com", i);
        if (i % 1000 == 0) {
            ASSERT_NE(lru.find("fcm.googleapis.com"), nullptr) << i;
        }
        ASSERT_LE(lru.size(), 1024u);
    }
    EXPECT_NE(lru.find("fcm.googleapis.com"), nullptr);
    EXPECT_EQ(lru.size(), 1024u);
}

// Evicted values are destroyed (the TLS session cache relies on it to
// free sessions), and a pointer to a kept value stays valid.
TEST(Lru, DestroysEvictedValues)
{
    auto counter = std::make_shared<int>(0);
    struct Tracked {
        std::shared_ptr<int> c;
        explicit Tracked(std::shared_ptr<int> p) : c(std::move(p)) { ++*c; }
        Tracked(Tracked&& o) noexcept = default;
        Tracked& operator=(Tracked&& o) noexcept
        {
            if (c) {
                --*c;
            }
            c = std::move(o.c);
            return *this;
        }
        ~Tracked()
        {
            if (c) {
                --*c;
            }
        }
    };

    {
        Lru<int, Tracked> lru(4);
        lru.put(0, Tracked(counter));
        Tracked* first = lru.find(0);
        for (int i = 1; i < 50; i++) {
            lru.put(i, Tracked(counter));
            lru.find(0);
            EXPECT_EQ(lru.find(0), first);
        }
        EXPECT_EQ(*counter, 4);
        lru.put(0, Tracked(counter));      // replaced: the old one goes
        EXPECT_EQ(*counter, 4);
    }
    EXPECT_EQ(*counter, 0);
}
