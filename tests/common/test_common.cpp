#include <gtest/gtest.h>

#include "common/hash.h"
#include "common/types.h"

using namespace e2e;

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, IncrementalEqualsOneShot) {
  std::string s(1000, 'x');
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(i * 7);
  Sha256 h;
  for (size_t i = 0; i < s.size(); i += 13) h.update(s.data() + i, std::min<size_t>(13, s.size() - i));
  EXPECT_EQ(h.hexDigest(), sha256Hex(s));
}

TEST(Leads, CanonicalNames) {
  EXPECT_EQ(canonicalLeadName("avr"), "aVR");
  EXPECT_EQ(canonicalLeadName("Lead II"), "II");
  EXPECT_EQ(canonicalLeadName(" v6 "), "V6");
  EXPECT_EQ(canonicalLeadName("Pressure"), "");
  EXPECT_EQ(standardLeads().size(), 12u);
}

#include "common/text.h"

#include <nlohmann/json.hpp>

TEST(Text, JsonQuoteEscapesControlAndQuotes) {
  EXPECT_EQ(jsonQuote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
  EXPECT_EQ(jsonQuote(std::string("x\x01y", 3)), "\"x\\u0001y\"");
}

// jsonQuote is nlohmann-json's string serialiser: always valid JSON that reads back as the input.
TEST(Text, JsonQuoteIsValidJsonThatRoundTrips) {
  EXPECT_EQ(jsonQuote(""), "\"\"");
  EXPECT_EQ(jsonQuote("\t\r\b\f\x1f/"), "\"\\t\\r\\b\\f\\u001f/\"");
  EXPECT_EQ(jsonQuote("\xC3\xA9 \xE2\x82\xAC \x7f"), "\"\xC3\xA9 \xE2\x82\xAC \x7f\"");  // UTF-8 and DEL unchanged
  const std::string nul("a\0b", 3);
  EXPECT_EQ(jsonQuote(nul), "\"a\\u0000b\"");
  for (const std::string s : {std::string("plain"), std::string("q\"b\\n\n"), nul, std::string("\xF0\x9F\x98\x80 emoji")})
    EXPECT_EQ(nlohmann::json::parse(jsonQuote(s)).get<std::string>(), s) << s;
  // Bytes that are not UTF-8 (a Latin-1 name) become U+FFFD: the text stays parseable.
  const std::string latin1 = "M\xFCller";
  const std::string q = jsonQuote(latin1);
  EXPECT_EQ(q, "\"M\xEF\xBF\xBDller\"");
  EXPECT_TRUE(nlohmann::json::accept(q));
}

TEST(Text, SplitCsvLineQuotesAndTrims) {
  EXPECT_EQ(splitCsvLine("a, \"b,c\" ,\"d\"\"e\",\r\n"), (std::vector<std::string>{"a", "b,c", "d\"e", ""}));
  EXPECT_EQ(splitCsvLine(""), (std::vector<std::string>{""}));
}
