// redis/token_lease.hpp (private) - the pieces of a key held by a random
// token with a TTL: the token, and the script that renews the TTL only while
// the key still holds that token. Lock (lock.cpp) and the actors' host
// lease (src/actors/redis_placement.cpp) both stand on them.
#pragma once

#include <string>

#include "corio/redis/client.hpp"

namespace corio::redis::detail {

/// 32 random hex digits (128 bits).
std::string random_token();

/// KEYS[1] key; ARGV[1] token, ARGV[2] ttl in ms. 1 when the key held the
/// token and got the new TTL, 0 when it is gone or held by another.
const Script& extend_if_token_script();

}  // namespace corio::redis::detail
