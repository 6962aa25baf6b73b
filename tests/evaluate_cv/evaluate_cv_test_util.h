// Shared by the evaluate_cv tests.
#pragma once
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "jobs/evaluate_cv.h"

namespace e2e::test {

// runEvaluateCv(o) must refuse the request with std::invalid_argument whose text contains `part`.
inline void expectEvaluateCvError(const jobs::EvaluateCvRequest& o, const std::string& part) {
  try {
    jobs::runEvaluateCv(o);
    ADD_FAILURE() << "no error, expected one containing '" << part << "'";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

}  // namespace e2e::test
