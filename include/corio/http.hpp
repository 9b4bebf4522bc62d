// corio/http.hpp - corio's HTTP layer in one include (target corio::http):
// message vocabulary (methods, versions, status codes, headers), URL
// decoding and query strings, WebSocket message types and close codes; the
// server (web::Application, Request, Response, serve, run_app) and the
// client (ClientSession).
//
// The C++ counterpart of aiohttp (with multidict and yarl). Everything is
// in namespace corio::http; aiohttp.web's names in corio::http::web.
// WebSocket connections: WSMessage, web::WebSocketResponse, ws_connect.
#pragma once

#include "corio/http/body_reader.hpp"
#include "corio/http/client.hpp"
#include "corio/http/cookies.hpp"
#include "corio/http/message.hpp"
#include "corio/http/multidict.hpp"
#include "corio/http/multipart.hpp"
#include "corio/http/server.hpp"
#include "corio/http/status.hpp"
#include "corio/http/url.hpp"
#include "corio/http/web.hpp"
#include "corio/http/websocket.hpp"
#include "corio/http/websocket_response.hpp"
