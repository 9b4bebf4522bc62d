// corio/http/url.hpp - the parts of a request target a server needs:
// percent-decoding of paths and the query string as a MultiDict.
//
// Mirrors what aiohttp gets from yarl (`request.path`, `request.query`)
// and Python's urllib.parse (`unquote`, `parse_qsl(keep_blank_values=True)`),
// with one deliberate difference: a malformed escape ("%4", "%zz") is an
// error here (nothing is returned), where Python passes it through. A
// server answers such a target with 400 instead of guessing. Nothing here
// suspends.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "corio/http/multidict.hpp"

namespace corio::http {

/// `s` with every "%XY" (two hex digits, either case) replaced by the byte
/// it encodes; '+' stays '+' (RFC 3986: paths have no form encoding).
/// Nothing when an escape is malformed: '%' not followed by two hex digits.
/// The result may hold any byte, including "/" from "%2F" and NUL from
/// "%00": callers that split or store it decide what they accept.
/// Python: `urllib.parse.unquote` (strict); yarl: `URL.path`.
std::optional<std::string> percent_decode(std::string_view s);

/// The query string `query` ("a=1&b=x+y&a=%41", without the "?") as a
/// MultiDict in order: pairs split on '&', key and value on the first '=',
/// '+' decoded to a space, then percent-decoded. A pair without '=' has an
/// empty value ("flag" -> {"flag", ""}); empty pairs ("a=1&&b=2") are
/// skipped. Nothing when any escape is malformed. Python:
/// `MultiDict(parse_qsl(query, keep_blank_values=True))`; aiohttp:
/// `request.query`.
std::optional<MultiDict> parse_query(std::string_view query);

}  // namespace corio::http
