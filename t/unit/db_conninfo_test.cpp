/*
 * The webpush_postgres connection string: which hosts are tried in which
 * order, which need nginx's resolver, what libpq gets for each attempt.
 */

#include "db/conninfo.hpp"

#include <gtest/gtest.h>

#include <algorithm>


namespace webpush::db {
namespace {

Conninfo
parse(const std::string &s)
{
    std::string error;
    std::optional<Conninfo> ci = parse_conninfo(s, error);

    EXPECT_TRUE(ci.has_value()) << error;
    return ci.value_or(Conninfo{});
}


std::string
refusal(const std::string &s)
{
    std::string error;
    std::optional<Conninfo> ci = parse_conninfo(s, error);

    EXPECT_FALSE(ci.has_value());
    return error;
}


std::string
value(const Keywords &kw, const std::string &key)
{
    auto it = std::find_if(kw.begin(), kw.end(),
                           [&](const auto &p) { return p.first == key; });
    return it == kw.end() ? "<unset>" : it->second;
}


TEST(Conninfo, KindsOfHosts)
{
    Conninfo ci = parse("host=/run/postgresql,10.0.0.5,::1,localhost,"
                        "db.internal dbname=webpush");

    ASSERT_EQ(ci.targets.size(), 5u);
    EXPECT_EQ(ci.targets[0].kind, Target::Kind::socket);
    EXPECT_EQ(ci.targets[1].kind, Target::Kind::address);
    EXPECT_EQ(ci.targets[2].kind, Target::Kind::address);
    EXPECT_EQ(ci.targets[3].kind, Target::Kind::localhost);
    EXPECT_EQ(ci.targets[4].kind, Target::Kind::name);
    EXPECT_TRUE(ci.needs_resolver());
    EXPECT_EQ(ci.first_name(), "db.internal");
}


TEST(Conninfo, NoHostIsLibpqDefault)
{
    Conninfo ci = parse("dbname=webpush");

    ASSERT_EQ(ci.targets.size(), 1u);
    EXPECT_EQ(ci.targets[0].kind, Target::Kind::libpq_default);
    EXPECT_FALSE(ci.needs_resolver());

    std::vector<Attempt> a = attempts_for(ci.targets[0], {});
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0].host, "");
    EXPECT_EQ(a[0].hostaddr, "");
}


TEST(Conninfo, UriForm)
{
    Conninfo ci = parse("postgresql://u@db1.internal:5433,db2.internal/shop"
                        "?target_session_attrs=read-write");

    ASSERT_EQ(ci.targets.size(), 2u);
    EXPECT_EQ(ci.targets[0].host, "db1.internal");
    EXPECT_EQ(ci.targets[0].port, "5433");
    EXPECT_EQ(ci.targets[1].host, "db2.internal");
    EXPECT_EQ(ci.target_session_attrs, "read-write");
}


TEST(Conninfo, PortsPerHostOrOneForAll)
{
    Conninfo one = parse("host=a,b port=6432");
    EXPECT_EQ(one.targets[0].port, "6432");
    EXPECT_EQ(one.targets[1].port, "6432");

    Conninfo each = parse("host=a,b port=1,2");
    EXPECT_EQ(each.targets[0].port, "1");
    EXPECT_EQ(each.targets[1].port, "2");

    EXPECT_NE(refusal("host=a,b,c port=1,2").find("port"),
              std::string::npos);
    EXPECT_NE(refusal("host=a port=x").find("port"), std::string::npos);
}


TEST(Conninfo, NameBecomesOneAttemptPerAddress)
{
    Conninfo ci = parse("host=db.internal port=5432 sslmode=verify-full");
    std::vector<Attempt> a = attempts_for(ci.targets[0],
                                          {"10.0.0.7", "fd00::7"});

    ASSERT_EQ(a.size(), 2u);
    EXPECT_EQ(a[0].host, "db.internal");    /* TLS and .pgpass see it */
    EXPECT_EQ(a[0].hostaddr, "10.0.0.7");
    EXPECT_EQ(a[1].hostaddr, "fd00::7");
    EXPECT_EQ(a[0].describe(), "db.internal (10.0.0.7) port 5432");

    Keywords kw = ci.params(a[0], "", 5000);
    EXPECT_EQ(value(kw, "host"), "db.internal");
    EXPECT_EQ(value(kw, "hostaddr"), "10.0.0.7");
    EXPECT_EQ(value(kw, "port"), "5432");
    EXPECT_EQ(value(kw, "sslmode"), "verify-full");
    EXPECT_EQ(value(kw, "target_session_attrs"), "<unset>");
}


TEST(Conninfo, LocalhostNeedsNoDns)
{
    Conninfo ci = parse("host=localhost");
    EXPECT_FALSE(ci.needs_resolver());

    std::vector<Attempt> a = attempts_for(ci.targets[0], {});
    ASSERT_EQ(a.size(), 2u);
    EXPECT_EQ(a[0].hostaddr, "127.0.0.1");
    EXPECT_EQ(a[1].hostaddr, "::1");
}


TEST(Conninfo, GivenHostaddrIsUsed)
{
    Conninfo ci = parse("host=db.internal hostaddr=192.0.2.1");

    EXPECT_FALSE(ci.needs_resolver());
    std::vector<Attempt> a = attempts_for(ci.targets[0], {});
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0].host, "db.internal");
    EXPECT_EQ(a[0].hostaddr, "192.0.2.1");

    Conninfo bare = parse("hostaddr=192.0.2.1,192.0.2.2");
    ASSERT_EQ(bare.targets.size(), 2u);
    EXPECT_EQ(attempts_for(bare.targets[1], {})[0].hostaddr, "192.0.2.2");

    EXPECT_NE(refusal("host=a,b hostaddr=192.0.2.1").find("hostaddr"),
              std::string::npos);
}


TEST(Conninfo, SessionAttrs)
{
    EXPECT_EQ(parse("host=a").passes(), std::vector<std::string>{""});
    EXPECT_EQ(parse("host=a target_session_attrs=read-write").passes(),
              std::vector<std::string>{"read-write"});

    std::vector<std::string> two = {"standby", "any"};
    EXPECT_EQ(parse("host=a,b target_session_attrs=prefer-standby")
                  .passes(), two);

    EXPECT_NE(refusal("host=a target_session_attrs=master")
                  .find("target_session_attrs"), std::string::npos);
}


TEST(Conninfo, ConnectTimeout)
{
    EXPECT_EQ(parse("host=a").connect_timeout, 0u);
    EXPECT_EQ(parse("host=a connect_timeout=1").connect_timeout, 2u);
    EXPECT_EQ(parse("host=a connect_timeout=7").connect_timeout, 7u);
    EXPECT_NE(refusal("host=a connect_timeout=soon").find("connect_timeout"),
              std::string::npos);
}


TEST(Conninfo, ServerOptionsAndApplicationName)
{
    Conninfo ci = parse("host=/tmp options='-c work_mem=8MB'");
    Keywords kw = ci.params(attempts_for(ci.targets[0], {})[0], "", 2500);

    EXPECT_EQ(value(kw, "application_name"), "nginx-webpush");
    EXPECT_EQ(value(kw, "options"),
              "-c work_mem=8MB -c statement_timeout=2500 -c TimeZone=UTC"
              " -c client_min_messages=warning");

    Conninfo named = parse("host=/tmp application_name=shop");
    Keywords kw2 = named.params(attempts_for(named.targets[0], {})[0], "",
                                1000);
    EXPECT_EQ(value(kw2, "application_name"), "shop");
    EXPECT_EQ(std::count_if(kw2.begin(), kw2.end(), [](const auto &p) {
                  return p.first == "application_name";
              }), 1);
}


TEST(Conninfo, SpreadOverLines)
{
    /* a quoted nginx value may span lines, as the README's example does */
    Conninfo ci = parse("host=a.internal,b.internal port=5432\n"
                        "                  target_session_attrs=read-write"
                        " connect_timeout=3\n   dbname=shop");

    ASSERT_EQ(ci.targets.size(), 2u);
    EXPECT_EQ(ci.target_session_attrs, "read-write");
    EXPECT_EQ(ci.connect_timeout, 3u);
}


TEST(Conninfo, RefusalsQuoteNothing)
{
    /* the password would be in libpq's own message */
    for (const char *s : {"host=/tmp password=hunter2 secret42",
                          "postgresql://u:Tr0ub4%zzdor@h/db",
                          "host=/tmp password='hunter2",
                          "postgresql://u:hunter2@[::1/db",
                          "host=a port=hunter2",
                          "host=a hostaddr=hunter2",
                          "host=a connect_timeout=hunter2",
                          "host=a target_session_attrs=hunter2"})
    {
        std::string error = refusal(s);

        EXPECT_FALSE(error.empty()) << s;
        EXPECT_EQ(error.find("hunter"), std::string::npos) << error;
        EXPECT_EQ(error.find("ret42"), std::string::npos) << error;
        EXPECT_EQ(error.find("Tr0u"), std::string::npos) << error;
        EXPECT_EQ(error.find("zzdor"), std::string::npos) << error;
    }
}


TEST(Conninfo, Garbage)
{
    EXPECT_FALSE(refusal("host='unterminated").empty());
    EXPECT_FALSE(refusal("nosuchkeyword=1").empty());
}

} // namespace
} // namespace webpush::db
