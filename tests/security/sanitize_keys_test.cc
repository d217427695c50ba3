// SanitizeErrorMessage and API keys: a provider that refuses a key echoes it, whole or masked
// ("Incorrect API key provided: sk-proj-AbCd****WxYz"), and that text became the message of a
// 503 sent to whoever asked the question. The part a provider leaves visible is part of the
// secret, so the whole word goes; our own "***" markers and ordinary asterisks stay.
#include <gtest/gtest.h>

#include "security/sanitize.h"

namespace helios::security {
namespace {

TEST(SanitizeKeysTest, HidesMaskedKeysAsProvidersEchoThem) {
  EXPECT_EQ(SanitizeErrorMessage("OpenAI refused the API key in OPENAI_API_KEY (HTTP 401): "
                                 "Incorrect API key provided: sk-proj-AbCd****************WxYz."),
            "OpenAI refused the API key in OPENAI_API_KEY (HTTP 401): "
            "Incorrect API key provided: ***.");
  EXPECT_EQ(SanitizeErrorMessage("key Zx9q*****************************8kPw is not valid"),
            "key *** is not valid");
}

TEST(SanitizeKeysTest, HidesWholeKeysOfTheUsualShape) {
  EXPECT_EQ(SanitizeErrorMessage("bad request from key sk-ant-api03-Qw3rTy7UiOp9AsDf"),
            "bad request from key ***");
  EXPECT_EQ(SanitizeErrorMessage("token sk_live_4eC39HqLyjWDarjtT1zdp7dc refused"),
            "token *** refused");
}

TEST(SanitizeKeysTest, LeavesOtherAsterisksAndShortWordsAlone) {
  for (const char* message : {"SELECT * FROM customers", "5 * 3 = 15", "a *** b", "sk-short-key",
                              "the task-name was not found", "abc.*** pattern"}) {
    EXPECT_EQ(SanitizeErrorMessage(message), message);
  }
  // What the other rules write stays readable.
  EXPECT_EQ(SanitizeErrorMessage("cannot connect to postgres://bob:hunter2@db:5432/sales"),
            "cannot connect to postgres://bob:***@db:5432/sales");
  EXPECT_EQ(SanitizeErrorMessage("Authorization: Bearer abc123def"), "Authorization: Bearer ***");
}

}  // namespace
}  // namespace helios::security
