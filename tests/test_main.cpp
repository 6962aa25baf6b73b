// main() of every test executable (e2e_test_main, linked by e2e_add_gtest instead of
// GTest::gtest_main): isolates HOME / XDG_* in a fresh temporary directory before anything else,
// runs the tests, removes the directory. Qt-free.
#include <gtest/gtest.h>

#include "test_home.h"

int main(int argc, char** argv) {
  e2e::test::isolateHome();
  ::testing::InitGoogleTest(&argc, argv);
  const int rc = RUN_ALL_TESTS();
  e2e::test::removeIsolatedHome();
  return rc;
}
