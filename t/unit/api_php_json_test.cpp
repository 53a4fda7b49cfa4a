#include <gtest/gtest.h>

#include "util/json.hpp"
#include "api/php_json.hpp"

using namespace webpush::api;
using namespace webpush::util;

namespace {

std::string enc(const char* json)
{
    json_error_t err;
    JsonPtr v(json_loads(json, JSON_DECODE_ANY, &err));
    EXPECT_TRUE(v) << err.text;
    if (!v) {
        return "<parse error>";
    }
    std::optional<std::string> out = php_json_encode(v.get());
    EXPECT_TRUE(out);
    return out ? *out : "<encode error>";
}

}  // namespace

TEST(ApiPhpJson, BrowserSubscription)
{
    const char* in = "{\"endpoint\":\"https://fcm.googleapis.com/fcm/send/"
                     "abc\",\"keys\":{\"p256dh\":\"BNc\",\"auth\":\"xy\"}}";
    std::string out = enc(in);
    EXPECT_EQ(out, "{\"endpoint\":\"https:\\/\\/fcm.googleapis.com\\/fcm"
                   "\\/send\\/abc\",\"keys\":{\"p256dh\":\"BNc\",\"auth\":"
                   "\"xy\"}}");
    // md5 computed with Python's hashlib over the expected text.
    EXPECT_EQ(md5_hex(out), "b492d55befdd7b5e4aca3703e70e1dd3");
}

TEST(ApiPhpJson, HexFlagsAndEscapes)
{
    EXPECT_EQ(enc("[\"<b>'&\\\"\\\\/\"]"),
              "[\"\\u003Cb\\u003E\\u0027\\u0026\\u0022\\\\\\/\"]");
    EXPECT_EQ(enc("[\"\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f\"]"),
              "[\"\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\"]");
}

TEST(ApiPhpJson, NonAsciiAsLowercaseUtf16)
{
    // é U+00E9, € U+20AC, 😀 U+1F600 (surrogates d83d de00), U+2028.
    EXPECT_EQ(enc("[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xe2\x80\xa8\"]"),
              "[\"\\u00e9\\u20ac\\ud83d\\ude00\\u2028\"]");
    // Escaped input gives the same output as raw input.
    EXPECT_EQ(enc("[\"\\u00E9\\uD83D\\uDE00\"]"),
              "[\"\\u00e9\\ud83d\\ude00\"]");
}

TEST(ApiPhpJson, KeysAreEscapedAndOrderKept)
{
    EXPECT_EQ(enc("{\"z/<\":1,\"a\":2,\"\xc3\xa9\":3}"),
              "{\"z\\/\\u003C\":1,\"a\":2,\"\\u00e9\":3}");
}

TEST(ApiPhpJson, EmptyObjectIsEmptyArray)
{
    EXPECT_EQ(enc("{}"), "[]");
    EXPECT_EQ(enc("{\"a\":{},\"b\":[]}"), "{\"a\":[],\"b\":[]}");
}

TEST(ApiPhpJson, SequentialNumericKeysBecomeList)
{
    EXPECT_EQ(enc("{\"0\":\"a\",\"1\":\"b\"}"), "[\"a\",\"b\"]");
    EXPECT_EQ(enc("{\"1\":\"a\"}"), "{\"1\":\"a\"}");
    EXPECT_EQ(enc("{\"1\":\"a\",\"0\":\"b\"}"), "{\"1\":\"a\",\"0\":\"b\"}");
    EXPECT_EQ(enc("{\"0\":\"a\",\"2\":\"b\"}"), "{\"0\":\"a\",\"2\":\"b\"}");
    EXPECT_EQ(enc("{\"00\":\"a\"}"), "{\"00\":\"a\"}");
    EXPECT_EQ(enc("{\"0\":{}}"), "[[]]");
}

TEST(ApiPhpJson, Scalars)
{
    EXPECT_EQ(enc("[true,false,null,0,-5,9223372036854775807,"
                  "-9223372036854775808]"),
              "[true,false,null,0,-5,9223372036854775807,"
              "-9223372036854775808]");
}

TEST(ApiPhpJson, FloatsAsPhpSerializePrecisionMinusOne)
{
    EXPECT_EQ(php_float_repr(0.1), "0.1");
    EXPECT_EQ(php_float_repr(1.0), "1");
    EXPECT_EQ(php_float_repr(100.0), "100");
    EXPECT_EQ(php_float_repr(1.5), "1.5");
    EXPECT_EQ(php_float_repr(-2.25), "-2.25");
    EXPECT_EQ(php_float_repr(0.0), "0");
    EXPECT_EQ(php_float_repr(-0.0), "-0");
    EXPECT_EQ(php_float_repr(0.0001), "0.0001");
    EXPECT_EQ(php_float_repr(0.00001), "1.0e-5");
    EXPECT_EQ(php_float_repr(1.5e-7), "1.5e-7");
    EXPECT_EQ(php_float_repr(1e16), "10000000000000000");
    EXPECT_EQ(php_float_repr(1e17), "1.0e+17");
    EXPECT_EQ(php_float_repr(1e25), "1.0e+25");
    EXPECT_EQ(php_float_repr(1.7976931348623157e308),
              "1.7976931348623157e+308");
    EXPECT_EQ(php_float_repr(5e-324), "5.0e-324");
    EXPECT_EQ(php_float_repr(0.30000000000000004), "0.30000000000000004");
    EXPECT_EQ(php_float_repr(123456.789), "123456.789");
    EXPECT_EQ(enc("[1.0,0.1,1e2,-0.0]"), "[1,0.1,100,-0]");
}

TEST(ApiPhpJson, Md5)
{
    EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
    EXPECT_EQ(md5_hex("[]"), "d751713988987e9331980363e24189ce");
}

TEST(ApiPhpJson, NullInput)
{
    EXPECT_FALSE(php_json_encode(nullptr));
}
