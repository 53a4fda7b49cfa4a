// base64url encoding and the lenient decoder (src/crypto/base64.hpp).

#include <gtest/gtest.h>

#include "crypto/base64.hpp"

using webpush::crypto::base64_decode;
using webpush::crypto::base64url_encode;
using webpush::crypto::Bytes;

namespace {

std::string
decoded(std::string_view in)
{
    auto b = base64_decode(in);
    return b ? std::string(b->begin(), b->end()) : std::string("<nullopt>");
}

}  // namespace

TEST(CryptoBase64, EncodeIsUnpaddedUrlSafe)
{
    EXPECT_EQ(base64url_encode(std::string_view("")), "");
    EXPECT_EQ(base64url_encode(std::string_view("f")), "Zg");
    EXPECT_EQ(base64url_encode(std::string_view("fo")), "Zm8");
    EXPECT_EQ(base64url_encode(std::string_view("foo")), "Zm9v");
    EXPECT_EQ(base64url_encode(std::string_view("foob")), "Zm9vYg");

    Bytes b = {0xfb, 0xff, 0xbf};
    EXPECT_EQ(base64url_encode(b), "-_-_");
}

TEST(CryptoBase64, DecodeAcceptsBothAlphabetsPaddedOrNot)
{
    EXPECT_EQ(decoded(""), "");
    EXPECT_EQ(decoded("Zg"), "f");
    EXPECT_EQ(decoded("Zg=="), "f");
    EXPECT_EQ(decoded("Zm8"), "fo");
    EXPECT_EQ(decoded("Zm8="), "fo");
    EXPECT_EQ(decoded("Zm9v"), "foo");
    EXPECT_EQ(decoded("Zm9vYmFy"), "foobar");

    Bytes want = {0xfb, 0xff, 0xbf};
    EXPECT_EQ(base64_decode("-_-_"), want);
    EXPECT_EQ(base64_decode("+/+/"), want);
    EXPECT_EQ(base64_decode("-/+_"), want);
}

TEST(CryptoBase64, DecodeRejectsGarbage)
{
    for (const char *bad : {"Z", "Zm9vY", "Zg=", "Z===", "Zg===", "=",
                            "==", "Zm9v=", "Zm 9v", "Zm9v\n", "Zm9v.",
                            "Zm*v", "Z=g=", "Zg==Zg=="})
    {
        EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
    }

    EXPECT_FALSE(base64_decode(std::string_view("Zm\0v", 4)).has_value());
}

TEST(CryptoBase64, RoundTripsAllLengths)
{
    Bytes data;
    for (int i = 0; i < 70; i++) {
        auto enc = base64url_encode(data);
        EXPECT_EQ(enc.find_first_of("+/="), std::string::npos);
        EXPECT_EQ(base64_decode(enc), data) << i;
        data.push_back(static_cast<uint8_t>(i * 37 + 250));
    }
}
