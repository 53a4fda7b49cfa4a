#include <gtest/gtest.h>

#include <set>

#include "api/uuid.hpp"

using namespace webpush::api;

// Values from Python: uuid.uuid5(uuid.NAMESPACE_OID, name).
TEST(ApiUuid, V5MatchesPython)
{
    EXPECT_EQ(uuid_v5_oid("spy_push_notification_provider.1"),
              "2a304ddf-d51b-514f-bd11-6e818a27fe23");
    EXPECT_EQ(uuid_v5_oid("spy_push_notification_subscription.7.3.1"),
              "8b5df1fa-7db2-57f7-8b02-3048fe59f70d");
    EXPECT_EQ(uuid_v5_oid(""), "0a68eb57-c88a-5f34-9e9d-27f85e68af4f");
}

TEST(ApiUuid, V4IsRandomAndWellFormed)
{
    std::set<std::string> seen;
    for (int i = 0; i < 100; i++) {
        std::optional<std::string> u = uuid_v4();
        ASSERT_TRUE(u);
        EXPECT_TRUE(uuid_syntax_ok(*u));
        EXPECT_EQ((*u)[14], '4');
        EXPECT_NE(std::string("89ab").find((*u)[19]), std::string::npos);
        seen.insert(*u);
    }
    EXPECT_EQ(seen.size(), 100u);
}

TEST(ApiUuid, Syntax)
{
    EXPECT_TRUE(uuid_syntax_ok("2a304ddf-d51b-514f-bd11-6e818a27fe23"));
    EXPECT_TRUE(uuid_syntax_ok("2A304DDF-D51B-514F-BD11-6E818A27FE23"));
    EXPECT_FALSE(uuid_syntax_ok(""));
    EXPECT_FALSE(uuid_syntax_ok("2a304ddf-d51b-514f-bd11-6e818a27fe2"));
    EXPECT_FALSE(uuid_syntax_ok("2a304ddf-d51b-514f-bd11-6e818a27fe234"));
    EXPECT_FALSE(uuid_syntax_ok("2a304ddfd-51b-514f-bd11-6e818a27fe23"));
    EXPECT_FALSE(uuid_syntax_ok("2a304ddf-d51b-514f-bd11-6e818a27fe2g"));
    EXPECT_FALSE(uuid_syntax_ok("' OR 1=1 --------------------------"));
    EXPECT_FALSE(uuid_syntax_ok(std::string_view("2a304ddf-d51b-514f-bd11-"
                                                 "6e818a27fe2\0", 36)));
}
