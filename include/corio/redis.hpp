// corio/redis.hpp - corio's Redis layer in one include (target corio::redis):
// for now the RESP3 codec (Decoder, encode_command) and the Reply value.
//
// The C++ counterpart of redis-py's redis.asyncio (aioredis). Everything is
// in namespace corio::redis.
#pragma once

#include "corio/redis/errors.hpp"
#include "corio/redis/reply.hpp"
#include "corio/redis/resp.hpp"
