// corio/redis.hpp - corio's Redis layer in one include (target corio::redis):
// the RESP3 codec (Decoder, encode_command), the Reply value, and the client
// (Client with automatic pipelining and its typed command helpers, Pool,
// Pipeline with MULTI/EXEC, PubSub), the distributed Lock and WorkQueue.
//
// The C++ counterpart of redis-py's redis.asyncio (aioredis). Everything is
// in namespace corio::redis.
#pragma once

#include "corio/redis/client.hpp"
#include "corio/redis/commands.hpp"
#include "corio/redis/errors.hpp"
#include "corio/redis/lock.hpp"
#include "corio/redis/pool.hpp"
#include "corio/redis/pubsub.hpp"
#include "corio/redis/reply.hpp"
#include "corio/redis/resp.hpp"
#include "corio/redis/work_queue.hpp"
