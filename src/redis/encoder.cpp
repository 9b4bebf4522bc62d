// src/redis/encoder.cpp - encode_reply: a Reply back to RESP3 bytes.
#include <stdexcept>

#include "corio/redis/resp.hpp"

namespace corio::redis {

namespace {

void header(std::string& out, char type, std::uint64_t n) {
    char buf[detail::number_chars];
    char* end = detail::write_header(buf, type, n);
    out.append(buf, end);
}

void line(std::string& out, char type, std::string_view text) {
    out += type;
    out += text;
    out += "\r\n";
}

void simple(std::string& out, char type, const std::string& text) {
    if (text.find("\r\n") != std::string::npos) {
        throw std::invalid_argument(
            "encode_reply: a simple string or simple error cannot contain \"\\r\\n\"");
    }
    line(out, type, text);
}

void bulk(std::string& out, char type, std::string_view prefix, std::string_view payload) {
    header(out, type, prefix.size() + payload.size());
    out += prefix;
    out += payload;
    out += "\r\n";
}

void encode(std::string& out, const Reply& r);

void encode_elements(std::string& out, char type, const std::vector<Reply>& elements) {
    header(out, type, elements.size());
    for (const Reply& e : elements) {
        encode(out, e);
    }
}

// A map ('%') or an attribute ('|'): the pair count, then key, value, ...
void encode_pairs(std::string& out, char type, MapView pairs) {
    header(out, type, pairs.size());
    for (const auto& [key, value] : pairs) {
        encode(out, key);
        encode(out, value);
    }
}

void encode(std::string& out, const Reply& r) {
    if (r.has_attributes()) {
        encode_pairs(out, '|', r.attributes());
    }
    char buf[detail::number_chars];
    switch (r.type()) {
        case Reply::Type::null:
            out += "_\r\n";
            break;
        case Reply::Type::simple_string:
            simple(out, '+', r.as_string());
            break;
        case Reply::Type::simple_error:
            simple(out, '-', r.as_error());
            break;
        case Reply::Type::integer: {
            char* end = std::to_chars(buf, buf + sizeof buf, r.as_integer()).ptr;
            line(out, ':', {buf, static_cast<std::size_t>(end - buf)});
            break;
        }
        case Reply::Type::double_:
            line(out, ',', {buf, detail::format_double(buf, r.as_double())});
            break;
        case Reply::Type::boolean:
            out += r.as_bool() ? "#t\r\n" : "#f\r\n";
            break;
        case Reply::Type::big_number:
            line(out, '(', r.as_big_number());
            break;
        case Reply::Type::bulk_string:
            bulk(out, '$', {}, r.as_string());
            break;
        case Reply::Type::bulk_error:
            bulk(out, '!', {}, r.as_error());
            break;
        case Reply::Type::verbatim_string: {
            std::string prefix(r.verbatim_format());
            prefix += ':';
            bulk(out, '=', prefix, r.as_string());
            break;
        }
        case Reply::Type::array:
            encode_elements(out, '*', r.as_array());
            break;
        case Reply::Type::set:
            encode_elements(out, '~', r.as_array());
            break;
        case Reply::Type::push:
            encode_elements(out, '>', r.as_array());
            break;
        case Reply::Type::map:
            encode_pairs(out, '%', r.as_map());
            break;
    }
}

}  // namespace

void encode_reply(std::string& out, const Reply& reply) {
    const std::size_t before = out.size();
    try {
        encode(out, reply);
    } catch (...) {
        out.resize(before);  // all or nothing
        throw;
    }
}

}  // namespace corio::redis
