// WebSocket vocabulary: aiohttp's values, and which close codes are valid.
#include "corio/http/websocket.hpp"

#include <gtest/gtest.h>

using namespace corio::http;

TEST(WSMsgType, HasAiohttpValues) {
    EXPECT_EQ(static_cast<int>(WSMsgType::TEXT), 0x1);
    EXPECT_EQ(static_cast<int>(WSMsgType::BINARY), 0x2);
    EXPECT_EQ(static_cast<int>(WSMsgType::CLOSE), 0x8);
    EXPECT_EQ(static_cast<int>(WSMsgType::PING), 0x9);
    EXPECT_EQ(static_cast<int>(WSMsgType::PONG), 0xA);
    EXPECT_EQ(static_cast<int>(WSMsgType::CLOSED), 0x101);
    EXPECT_EQ(static_cast<int>(WSMsgType::ERROR), 0x102);
}

TEST(CloseCode, ValidCodesFollowRfc6455AndTheRegistry) {
    for (int ok : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000,
                   3999, 4000, 4999}) {
        EXPECT_TRUE(is_valid_close_code(ok)) << ok;
    }
    for (int bad : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
        EXPECT_FALSE(is_valid_close_code(bad)) << bad;
    }
    EXPECT_TRUE(is_valid_close_code(static_cast<int>(WSCloseCode::MESSAGE_TOO_BIG)));
    EXPECT_FALSE(is_valid_close_code(static_cast<int>(WSCloseCode::ABNORMAL_CLOSURE)));
}
