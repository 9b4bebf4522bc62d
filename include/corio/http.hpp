// corio/http.hpp - corio's HTTP layer in one include (target corio::http):
// message vocabulary (methods, versions, status codes, headers), URL
// decoding and query strings, WebSocket message types and close codes.
//
// The C++ counterpart of aiohttp (with multidict and yarl). Everything is
// in namespace corio::http. The server, the client and WebSocket
// connections will be added here.
#pragma once

#include "corio/http/message.hpp"
#include "corio/http/multidict.hpp"
#include "corio/http/status.hpp"
#include "corio/http/url.hpp"
#include "corio/http/websocket.hpp"
