// Error kinds of the HTTP/1.1 codecs: the status each one is answered with.
#include "parse_error.hpp"

namespace corio::http::detail {

int error_status(ParseError e) noexcept {
    switch (e) {
        case ParseError::uri_too_long:
            return 414;
        case ParseError::header_too_large:
        case ParseError::too_many_headers:
        case ParseError::trailer_too_large:
            return 431;
        case ParseError::body_too_large:
            return 413;
        case ParseError::unsupported_transfer_coding:
            return 501;
        case ParseError::invalid_version:
            return 505;
        default:
            return 400;
    }
}

std::string_view error_name(ParseError e) noexcept {
    switch (e) {
        case ParseError::none:
            return "none";
        case ParseError::bad_request:
            return "bad_request";
        case ParseError::invalid_method:
            return "invalid_method";
        case ParseError::invalid_target:
            return "invalid_target";
        case ParseError::invalid_version:
            return "invalid_version";
        case ParseError::invalid_status:
            return "invalid_status";
        case ParseError::invalid_header:
            return "invalid_header";
        case ParseError::bare_lf:
            return "bare_lf";
        case ParseError::bare_cr:
            return "bare_cr";
        case ParseError::obs_fold:
            return "obs_fold";
        case ParseError::invalid_host:
            return "invalid_host";
        case ParseError::invalid_content_length:
            return "invalid_content_length";
        case ParseError::duplicate_content_length:
            return "duplicate_content_length";
        case ParseError::content_length_with_transfer_encoding:
            return "content_length_with_transfer_encoding";
        case ParseError::invalid_transfer_encoding:
            return "invalid_transfer_encoding";
        case ParseError::unsupported_transfer_coding:
            return "unsupported_transfer_coding";
        case ParseError::invalid_chunk:
            return "invalid_chunk";
        case ParseError::chunk_size_overflow:
            return "chunk_size_overflow";
        case ParseError::uri_too_long:
            return "uri_too_long";
        case ParseError::header_too_large:
            return "header_too_large";
        case ParseError::too_many_headers:
            return "too_many_headers";
        case ParseError::trailer_too_large:
            return "trailer_too_large";
        case ParseError::body_too_large:
            return "body_too_large";
        case ParseError::unexpected_eof:
            return "unexpected_eof";
    }
    return "unknown";
}

}  // namespace corio::http::detail
