// corio/net.hpp - corio's networking in one include (target corio::net):
// sockets and the loop's sock_* calls, DNS, streams, transports and
// protocols, UDP, TLS, subprocesses, and a port served by every loop of a
// LoopGroup.
//
// The C++ counterpart of asyncio's streams, transports/protocols,
// loop.sock_*, getaddrinfo and subprocess modules. Everything is in
// namespace corio::net.
#pragma once

#include "corio/net/dns.hpp"
#include "corio/net/loop_group.hpp"
#include "corio/net/socket.hpp"
#include "corio/net/streams.hpp"
#include "corio/net/subprocess.hpp"
#include "corio/net/tls.hpp"
#include "corio/net/transports.hpp"
#include "corio/net/udp.hpp"
