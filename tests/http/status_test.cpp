// HTTPStatus and reason phrases.
#include "corio/http/status.hpp"

#include <gtest/gtest.h>

using namespace corio::http;

TEST(ReasonPhrase, RegisteredCodesUseRfc9110Phrases) {
    EXPECT_EQ(reason_phrase(200), "OK");
    EXPECT_EQ(reason_phrase(HTTPStatus::NOT_FOUND), "Not Found");
    EXPECT_EQ(reason_phrase(HTTPStatus::CONTENT_TOO_LARGE), "Content Too Large");
    EXPECT_EQ(reason_phrase(HTTPStatus::URI_TOO_LONG), "URI Too Long");
    EXPECT_EQ(reason_phrase(HTTPStatus::REQUEST_HEADER_FIELDS_TOO_LARGE),
              "Request Header Fields Too Large");
    EXPECT_EQ(reason_phrase(HTTPStatus::SWITCHING_PROTOCOLS), "Switching Protocols");
    EXPECT_EQ(reason_phrase(HTTPStatus::UPGRADE_REQUIRED), "Upgrade Required");
}

TEST(ReasonPhrase, UnregisteredCodesHaveNone) {
    for (int code : {0, 99, 199, 209, 299, 306, 399, 419, 430, 499, 509, 599, 1000}) {
        EXPECT_EQ(reason_phrase(code), "") << code;
    }
    EXPECT_EQ(reason_phrase(HTTPStatus::NETWORK_AUTHENTICATION_REQUIRED),
              "Network Authentication Required");
    EXPECT_EQ(reason_phrase(HTTPStatus::EARLY_HINTS), "Early Hints");
}
