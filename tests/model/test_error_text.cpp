// errorText on real libtorch exceptions: the stack trace that c10::Error carries is cut off, and an
// allocation the machine cannot satisfy reads "out of memory" with its size (the issue-22 defect:
// under a memory limit `embed` printed a raw libtorch allocator stack trace).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <new>
#include <string>

#include "common/text.h"

TEST(ErrorText, LibtorchShapeErrorKeepsItsMessage) {
  std::string raw, shown;
  try {
    (void)torch::ones({2, 3}).view({7});
    FAIL() << "view of 6 elements as 7 did not throw";
  } catch (const std::exception& e) {
    raw = e.what();
    shown = e2e::errorText(e);
  }
  EXPECT_NE(shown.find("shape '[7]' is invalid for input of size 6"), std::string::npos) << shown;
  EXPECT_EQ(shown.find('\n'), std::string::npos) << shown;
}

TEST(ErrorText, AllocationFailureSaysOutOfMemoryWithTheSize) {
  std::string raw, shown;
  try {
    // 2^42 floats = 16 TiB: more than any test machine's address space, refused by the allocator.
    (void)torch::empty({std::int64_t{1} << 42}, torch::kFloat32);
    FAIL() << "a 16 TiB tensor was allocated";
  } catch (const std::exception& e) {
    raw = e.what();
    shown = e2e::errorText(e);
  }
  // What libtorch itself says: the allocator's enforce message followed by a C++ stack trace.
  ASSERT_NE(raw.find("frame #0"), std::string::npos) << raw;
  EXPECT_EQ(shown.find("frame #"), std::string::npos) << shown;
  EXPECT_EQ(shown.find('\n'), std::string::npos) << shown;
  EXPECT_EQ(shown.rfind("out of memory: could not allocate 17592186044416 bytes", 0), 0u) << shown;
}

TEST(ErrorText, ContextBeforeTheLibtorchMessageIsKept) {
  std::string shown;
  try {
    try {
      (void)torch::empty({std::int64_t{1} << 42}, torch::kFloat32);
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("cannot load embedding model m:1 from /models: ") + e.what());
    }
  } catch (const std::exception& e) {
    shown = e2e::errorText(e);
  }
  EXPECT_EQ(shown.rfind("cannot load embedding model m:1 from /models: out of memory: could not allocate ", 0), 0u)
      << shown;
}

TEST(ErrorText, BadAllocAndPlainMessages) {
  EXPECT_EQ(e2e::errorText(std::bad_alloc()), "out of memory (the memory available to this process is exhausted)");
  EXPECT_EQ(e2e::errorText(std::runtime_error("file.dcm: not a DICOM file")), "file.dcm: not a DICOM file");
}
