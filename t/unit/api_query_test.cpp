#include <gtest/gtest.h>

#include "api/query.hpp"

using namespace webpush::api;

namespace {

CollectionQuery ok(std::string_view args)
{
    QueryResult r = parse_collection_query(args);
    EXPECT_TRUE(r.errors.empty()) << args;
    return r.query ? *r.query : CollectionQuery{};
}

void bad(std::string_view args)
{
    QueryResult r = parse_collection_query(args);
    EXPECT_FALSE(r.query) << args;
    ASSERT_EQ(r.errors.size(), 1u) << args;
    EXPECT_EQ(r.errors[0].code, "5400");
    EXPECT_EQ(r.errors[0].status, 400);
    EXPECT_FALSE(r.errors[0].detail.empty());
}

}  // namespace

TEST(ApiQuery, Empty)
{
    CollectionQuery q = ok("");
    EXPECT_FALSE(q.page);
    EXPECT_EQ(q.order_by, "");
}

TEST(ApiQuery, Paging)
{
    CollectionQuery q = ok("page[offset]=10&page[limit]=5");
    ASSERT_TRUE(q.page);
    EXPECT_EQ(q.page->offset, 10u);
    EXPECT_EQ(q.page->limit, 5u);
    q = ok("page%5Boffset%5D=0&page%5blimit%5d=0");
    ASSERT_TRUE(q.page);
    EXPECT_EQ(q.page->offset, 0u);
    EXPECT_EQ(q.page->limit, 0u);
    q = ok("page[offset]=0&page[limit]=1000000");
    ASSERT_TRUE(q.page);
    EXPECT_EQ(q.page->limit, kMaxPageLimit);
    q = ok("page[offset]=999999999999999999&page[limit]=1");
    EXPECT_EQ(q.page->offset, 999999999999999999u);
}

TEST(ApiQuery, PagingNeedsBoth)
{
    EXPECT_FALSE(ok("page[offset]=10").page);
    EXPECT_FALSE(ok("page[limit]=10").page);
}

TEST(ApiQuery, PagingBadValues)
{
    bad("page[offset]=-1&page[limit]=5");
    bad("page[offset]=1&page[limit]=abc");
    bad("page[offset]=&page[limit]=5");
    bad("page[offset]=1.5&page[limit]=5");
    bad("page[offset]=1e3&page[limit]=5");
    bad("page[offset]=%201&page[limit]=5");
    bad("page[offset]=0x10&page[limit]=5");
    bad("page[offset]=1;DROP TABLE x&page[limit]=5");
    bad("page[offset]=9999999999999999999&page[limit]=5");
    bad("page[limit]=x");  // checked even alone
}

TEST(ApiQuery, Sort)
{
    EXPECT_EQ(ok("sort=name").order_by, "name ASC");
    EXPECT_EQ(ok("sort=-name").order_by, "name DESC");
    EXPECT_EQ(ok("sort=uuid").order_by, "uuid ASC");
    EXPECT_EQ(ok("sort=name,-uuid").order_by, "name ASC, uuid DESC");
    EXPECT_EQ(ok("sort=-uuid%2Cname").order_by, "uuid DESC, name ASC");
    EXPECT_EQ(ok("sort=name&sort=-name").order_by, "name DESC");
}

TEST(ApiQuery, SortRejectsEverythingElse)
{
    bad("sort=");
    bad("sort=id_push_notification_provider");
    bad("sort=name;DROP TABLE spy_push_notification_provider");
    bad("sort=name%20DESC");
    bad("sort=name+DESC");
    bad("sort=NAME");
    bad("sort=name,");
    bad("sort=,name");
    bad("sort=--name");
    bad("sort=(select 1)");
    bad("sort=name%00");
}

TEST(ApiQuery, OtherParametersIgnored)
{
    CollectionQuery q = ok("include=x&fields[providers]=name&&x&sort=uuid");
    EXPECT_EQ(q.order_by, "uuid ASC");
}

TEST(ApiQuery, MalformedPercentEncoding)
{
    bad("sort=%");
    bad("sort=%4");
    bad("sort=%GG");
    bad("page%5=1");
}
