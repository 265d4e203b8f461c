#include "util/progress.h"

#include <gtest/gtest.h>

#include <string>

namespace doppel {
namespace {

std::string final_line(uint64_t resumed, uint64_t advanced) {
  Progress::set_mode(Progress::Mode::kLines);
  testing::internal::CaptureStderr();
  {
    Progress progress("steps", 2'000'000);
    progress.resume_from(resumed);
    progress.advance(advanced);
  }  // the destructor prints the final line
  Progress::set_mode(Progress::Mode::kAuto);
  return testing::internal::GetCapturedStderr();
}

TEST(Progress, ResumedUnitsCountButDoNotInflateTheRate) {
  // A million steps from an earlier run finish in no time here; counted as this run's work they
  // would show millions per second and an ETA of nothing.
  const std::string line = final_line(1'000'000, 0);
  EXPECT_NE(line.find("steps: 1000000/2000000  0/s"), std::string::npos) << line;
}

TEST(Progress, AdvancedUnitsCountInTheRate) {
  const std::string line = final_line(0, 1'000'000);
  EXPECT_NE(line.find("steps: 1000000/2000000"), std::string::npos) << line;
  EXPECT_EQ(line.find(" 0/s"), std::string::npos) << line;
}

}  // namespace
}  // namespace doppel
