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

TEST(Text, JsonQuoteEscapesControlAndQuotes) {
  EXPECT_EQ(jsonQuote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
  EXPECT_EQ(jsonQuote(std::string("x\x01y", 3)), "\"x\\u0001y\"");
}

TEST(Text, SplitCsvLineQuotesAndTrims) {
  EXPECT_EQ(splitCsvLine("a, \"b,c\" ,\"d\"\"e\",\r\n"), (std::vector<std::string>{"a", "b,c", "d\"e", ""}));
  EXPECT_EQ(splitCsvLine(""), (std::vector<std::string>{""}));
}
