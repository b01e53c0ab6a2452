// Detection and false-positive rates over tests/corpus/inspect/: realistic
// Lambda events written by tests/corpus/inspect/generate.py. Every malicious
// file names the detector it must trigger; no benign file may trigger any.
// The rates are printed and recorded in docs/INSPECTION.md.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fnguard/inspect/inspect.h"

namespace fnguard::inspect {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> files_in(const char* sub) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(fs::path(FNGUARD_CORPUS_DIR) / sub))
    if (e.path().extension() == ".json") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(InspectCorpus, MaliciousEventsAreDetectedByTheRightDetector) {
  std::vector<fs::path> files = files_in("malicious");
  ASSERT_GE(files.size(), 100u);
  size_t detected = 0;
  std::string missed;
  for (const fs::path& f : files) {
    std::string name = f.filename().string();
    std::string want = name.substr(0, name.find('-'));
    Result<InspectionResult> r = inspect_event(read(f));
    ASSERT_TRUE(r.ok()) << name << ": " << r.error().message;
    bool hit = false;
    for (const Finding& fi : r->findings) hit |= want == detector_name(fi.detector);
    if (hit)
      ++detected;
    else
      missed += " " + name;
  }
  double rate = 100.0 * static_cast<double>(detected) / static_cast<double>(files.size());
  std::printf("detection rate: %zu/%zu = %.1f%%\n", detected, files.size(), rate);
  if (!missed.empty()) std::printf("missed:%s\n", missed.c_str());
  EXPECT_GE(rate, 95.0) << "missed:" << missed;
}

TEST(InspectCorpus, BenignEventsRaiseNoFindings) {
  std::vector<fs::path> files = files_in("benign");
  ASSERT_GE(files.size(), 100u);
  size_t flagged = 0;
  std::string which;
  for (const fs::path& f : files) {
    Result<InspectionResult> r = inspect_event(read(f));
    ASSERT_TRUE(r.ok()) << f.filename() << ": " << r.error().message;
    if (!r->findings.empty()) {
      ++flagged;
      which += " " + f.filename().string() + "(" + r->findings[0].rule + " in " +
               r->findings[0].field + ": " + r->findings[0].evidence + ")";
    }
    EXPECT_TRUE(r->http || f.filename().string().find("sqs") != std::string::npos) << f.filename();
  }
  double rate = 100.0 * static_cast<double>(flagged) / static_cast<double>(files.size());
  std::printf("false-positive rate: %zu/%zu = %.1f%%\n", flagged, files.size(), rate);
  if (!which.empty()) std::printf("flagged:%s\n", which.c_str());
  EXPECT_LE(rate, 2.0) << "flagged:" << which;
}

}  // namespace
}  // namespace fnguard::inspect
