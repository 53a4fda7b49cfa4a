/*
 * The schema script and db::schema_version: the constant is the highest
 * version the script records, every version up to it is recorded, and the
 * start-up check compares with the same number; the check comes before
 * anything that takes a lock traffic would wait for.
 */

#include "db/sql.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>


namespace webpush::db {
namespace {

/* every version of "INSERT INTO webpush_schema_version (version) VALUES" */
std::set<int>
recorded_versions(const std::string &script)
{
    static const std::string  insert =
        "INSERT INTO webpush_schema_version (version) VALUES";
    static const std::regex   value(R"(^\s*\((\d+)\)\s*(,|ON CONFLICT))");

    std::set<int> versions;

    for (size_t at = script.find(insert); at != std::string::npos;
         at = script.find(insert, at + 1))
    {
        std::string rest = script.substr(at + insert.size());
        std::smatch m;

        while (std::regex_search(rest, m, value)) {
            versions.insert(std::stoi(m[1]));

            if (m[2] != ",") {
                break;
            }

            rest = m.suffix();
        }
    }

    return versions;
}


TEST(SchemaSql, VersionIsTheHighestTheScriptRecords)
{
    std::set<int> versions = recorded_versions(schema_sql());

    ASSERT_FALSE(versions.empty());
    EXPECT_EQ(*versions.rbegin(), schema_version);
}


TEST(SchemaSql, EveryVersionUpToItIsRecorded)
{
    std::set<int> versions = recorded_versions(schema_sql());
    std::set<int> want;

    for (int v = 1; v <= schema_version; v++) {
        want.insert(v);
    }

    EXPECT_EQ(versions, want);
}


TEST(SchemaSql, TheParserSeesEachForm)
{
    std::set<int> versions = recorded_versions(
        "INSERT INTO webpush_schema_version (version) VALUES (1), (2), (3)\n"
        "    ON CONFLICT (version) DO NOTHING;\n"
        "INSERT INTO webpush_schema_version (version) VALUES (12)\n"
        "    ON CONFLICT (version) DO NOTHING;\n");

    EXPECT_EQ(versions, (std::set<int>{1, 2, 3, 12}));
}


TEST(SchemaSql, TheStartUpCheckUsesTheConstant)
{
    const std::string &script = schema_sql();

    EXPECT_NE(script.find("v_version   constant integer := "
                          + std::to_string(schema_version) + ";"),
              std::string::npos);
}


TEST(SchemaSql, NothingLocksBeforeTheVersionIsRead)
{
    const std::string &script = schema_sql();

    /* one statement: no BEGIN, LOCK or DDL of its own before the DO */
    EXPECT_EQ(script.rfind("DO $webpush_setup$\n", 0), 0u);

    /* the DDL is the text of v_ddl; the check's code follows it */
    size_t body = script.find("$webpush_ddl$;\n");

    ASSERT_NE(body, std::string::npos);

    size_t check = script.find("IF v_recorded >= v_version THEN", body);
    size_t lock = script.find("pg_advisory", body);
    size_t ddl = script.find("EXECUTE v_ddl;", body);

    ASSERT_NE(check, std::string::npos);
    ASSERT_NE(lock, std::string::npos);
    ASSERT_NE(ddl, std::string::npos);

    EXPECT_LT(check, lock);
    EXPECT_LT(lock, ddl);
}

} // namespace
} // namespace webpush::db
