// src/redis/reply.cpp - Reply: storage, accessors, conversions, rendering.
#include "corio/redis/reply.hpp"

#include <cmath>
#include <cstring>
#include <ostream>
#include <stdexcept>

#include "corio/redis/resp.hpp"
#include "numbers.hpp"

namespace corio::redis {

// -- Storage ------------------------------------------------------------------

Reply::Storage Reply::storage_of(Type type) noexcept {
    switch (type) {
        case Type::null:
            return Storage::none;
        case Type::integer:
            return Storage::integer;
        case Type::double_:
            return Storage::number;
        case Type::boolean:
            return Storage::boolean;
        case Type::simple_string:
        case Type::simple_error:
        case Type::big_number:
        case Type::bulk_string:
        case Type::bulk_error:
        case Type::verbatim_string:
            return Storage::string;
        case Type::array:
        case Type::map:
        case Type::set:
        case Type::push:
            return Storage::elements;
    }
    return Storage::none;
}

void Reply::destroy() noexcept {
    switch (storage_of(type_)) {
        case Storage::string:
            string_.~basic_string();
            break;
        case Storage::elements:
            elements_.~vector();
            break;
        default:
            break;
    }
}

void Reply::construct_from(const Reply& other) {
    switch (storage_of(other.type_)) {
        case Storage::none:
        case Storage::integer:
            integer_ = other.integer_;
            break;
        case Storage::number:
            number_ = other.number_;
            break;
        case Storage::boolean:
            boolean_ = other.boolean_;
            break;
        case Storage::string:
            new (&string_) std::string(other.string_);
            break;
        case Storage::elements:
            new (&elements_) std::vector<Reply>(other.elements_);
            break;
    }
    type_ = other.type_;
    std::memcpy(format_, other.format_, sizeof format_);
    if (other.attributes_) {
        try {
            attributes_ = std::make_unique<std::vector<Reply>>(*other.attributes_);
        } catch (...) {
            destroy();
            type_ = Type::null;
            throw;
        }
    }
}

void Reply::construct_from(Reply&& other) noexcept {
    switch (storage_of(other.type_)) {
        case Storage::none:
        case Storage::integer:
            integer_ = other.integer_;
            break;
        case Storage::number:
            number_ = other.number_;
            break;
        case Storage::boolean:
            boolean_ = other.boolean_;
            break;
        case Storage::string:
            new (&string_) std::string(std::move(other.string_));
            break;
        case Storage::elements:
            new (&elements_) std::vector<Reply>(std::move(other.elements_));
            break;
    }
    type_ = other.type_;
    std::memcpy(format_, other.format_, sizeof format_);
    attributes_ = std::move(other.attributes_);
}

Reply::Reply(const Reply& other) : integer_(0) {
    construct_from(other);
}

Reply::Reply(Reply&& other) noexcept : integer_(0) {
    construct_from(std::move(other));
}

Reply& Reply::operator=(const Reply& other) {
    if (this != &other) {
        Reply copy(other);
        *this = std::move(copy);
    }
    return *this;
}

Reply& Reply::operator=(Reply&& other) noexcept {
    if (this != &other) {
        destroy();
        attributes_.reset();
        type_ = Type::null;
        construct_from(std::move(other));
    }
    return *this;
}

Reply::~Reply() {
    destroy();
}

// -- Building -----------------------------------------------------------------

Reply Reply::integer(std::int64_t value) noexcept {
    Reply r;
    r.type_ = Type::integer;
    r.integer_ = value;
    return r;
}

Reply Reply::double_(double value) noexcept {
    Reply r;
    r.type_ = Type::double_;
    r.number_ = value;
    return r;
}

Reply Reply::boolean(bool value) noexcept {
    Reply r;
    r.type_ = Type::boolean;
    r.boolean_ = value;
    return r;
}

Reply Reply::big_number(std::string digits) {
    if (!detail::is_big_number_text(digits)) {
        throw std::invalid_argument(
            "Reply::big_number: digits must be an optional sign and decimal "
            "digits, not \"" +
            digits + "\"");
    }
    return Reply(Type::big_number, std::move(digits));
}

Reply Reply::verbatim_string(std::string_view format, std::string text) {
    if (format.size() != 3) {
        throw std::invalid_argument("Reply::verbatim_string: format must be 3 characters, not \"" +
                                    std::string(format) + "\"");
    }
    Reply r(Type::verbatim_string, std::move(text));
    std::memcpy(r.format_, format.data(), 3);
    return r;
}

namespace {

std::vector<Reply> flatten(std::vector<std::pair<Reply, Reply>>& entries) {
    std::vector<Reply> flat;
    flat.reserve(2 * entries.size());
    for (auto& [key, value] : entries) {
        flat.push_back(std::move(key));
        flat.push_back(std::move(value));
    }
    return flat;
}

}  // namespace

Reply Reply::map(std::vector<std::pair<Reply, Reply>> entries) {
    return Reply(Type::map, flatten(entries));
}

Reply Reply::with_attributes(std::vector<std::pair<Reply, Reply>> entries) && {
    if (entries.empty()) {
        attributes_.reset();
    } else {
        attributes_ = std::make_unique<std::vector<Reply>>(flatten(entries));
    }
    return std::move(*this);
}

// -- Exact accessors ----------------------------------------------------------

namespace {

/// "null", "an integer", "a bulk_string".
std::string described(Reply::Type type) {
    if (type == Reply::Type::null) {
        return "null";
    }
    std::string_view name = type_name(type);
    bool vowel = name[0] == 'a' || name[0] == 'i';
    return (vowel ? "an " : "a ") + std::string(name);
}

}  // namespace

void Reply::wrong_type(const char* fn) const {
    throw_if_error();
    throw ReplyTypeError(std::string("corio::redis::Reply::") + fn + ": the reply is " +
                         described(type_) + " (" + repr().substr(0, 60) + ")");
}

const std::string& Reply::as_string() const& {
    if (!is_string()) {
        wrong_type("as_string");
    }
    return string_;
}

std::string Reply::as_string() && {
    if (!is_string()) {
        wrong_type("as_string");
    }
    return std::move(string_);
}

std::int64_t Reply::as_integer() const {
    if (type_ != Type::integer) {
        wrong_type("as_integer");
    }
    return integer_;
}

double Reply::as_double() const {
    if (type_ != Type::double_) {
        wrong_type("as_double");
    }
    return number_;
}

bool Reply::as_bool() const {
    if (type_ != Type::boolean) {
        wrong_type("as_bool");
    }
    return boolean_;
}

const std::string& Reply::as_big_number() const {
    if (type_ != Type::big_number) {
        wrong_type("as_big_number");
    }
    return string_;
}

const std::vector<Reply>& Reply::as_array() const& {
    if (!is_array()) {
        wrong_type("as_array");
    }
    return elements_;
}

std::vector<Reply> Reply::as_array() && {
    if (!is_array()) {
        wrong_type("as_array");
    }
    return std::move(elements_);
}

const std::vector<Reply>& Reply::flat_map(const char* fn) const {
    if (type_ == Type::map || (type_ == Type::array && elements_.size() % 2 == 0)) {
        return elements_;
    }
    if (type_ == Type::array) {
        throw ReplyTypeError(std::string("corio::redis::Reply::") + fn +
                             ": an array of odd length (" + std::to_string(elements_.size()) +
                             ") is not key/value pairs");
    }
    wrong_type(fn);
}

std::vector<Reply>& Reply::flat_map(const char* fn) {
    return const_cast<std::vector<Reply>&>(std::as_const(*this).flat_map(fn));
}

MapView Reply::as_map() const {
    const std::vector<Reply>& flat = flat_map("as_map");
    return MapView(flat.data(), flat.size() / 2);
}

std::string_view Reply::verbatim_format() const {
    if (type_ != Type::verbatim_string) {
        wrong_type("verbatim_format");
    }
    return {format_, 3};
}

const std::string& Reply::as_error() const {
    if (!is_error()) {
        throw ReplyTypeError("corio::redis::Reply::as_error: the reply is " + described(type_) +
                             ", not an error");
    }
    return string_;
}

void Reply::throw_if_error() const {
    if (is_error()) {
        throw ReplyError(string_);
    }
}

MapView Reply::attributes() const noexcept {
    if (!attributes_) {
        return {};
    }
    return MapView(attributes_->data(), attributes_->size() / 2);
}

const Reply* MapView::find(std::string_view key) const noexcept {
    for (std::size_t i = 0; i < size_; ++i) {
        const Reply& k = first_[2 * i];
        if (k.is_string() && k.as_string() == key) {
            return &first_[2 * i + 1];
        }
    }
    return nullptr;
}

// -- Conversions --------------------------------------------------------------

namespace {

std::string double_text(double v) {
    char buf[detail::number_chars];
    return std::string(buf, detail::format_double(buf, v));
}

}  // namespace

std::string Reply::to_string() const& {
    switch (type_) {
        case Type::simple_string:
        case Type::bulk_string:
        case Type::verbatim_string:
        case Type::big_number:
            return string_;
        case Type::integer:
            return std::to_string(integer_);
        case Type::double_:
            return double_text(number_);
        default:
            wrong_type("to_string");
    }
}

std::string Reply::to_string() && {
    switch (type_) {
        case Type::simple_string:
        case Type::bulk_string:
        case Type::verbatim_string:
        case Type::big_number:
            return std::move(string_);
        default:
            return std::as_const(*this).to_string();
    }
}

std::optional<std::string> Reply::to_optional_string() const& {
    if (is_null()) {
        return std::nullopt;
    }
    return to_string();
}

std::optional<std::string> Reply::to_optional_string() && {
    if (is_null()) {
        return std::nullopt;
    }
    return std::move(*this).to_string();
}

std::int64_t Reply::to_integer() const {
    std::int64_t v = 0;
    switch (type_) {
        case Type::integer:
            return integer_;
        case Type::boolean:
            return boolean_ ? 1 : 0;
        case Type::simple_string:
        case Type::bulk_string:
        case Type::verbatim_string:
        case Type::big_number:
            if (detail::parse_int64(string_, v)) {
                return v;
            }
            throw ReplyTypeError("corio::redis::Reply::to_integer: \"" + string_.substr(0, 40) +
                                 "\" is not a 64-bit integer");
        default:
            wrong_type("to_integer");
    }
}

double Reply::to_double() const {
    double v = 0;
    switch (type_) {
        case Type::double_:
            return number_;
        case Type::integer:
            return static_cast<double>(integer_);
        case Type::simple_string:
        case Type::bulk_string:
        case Type::verbatim_string:
        case Type::big_number:
            if (detail::parse_double(string_, v)) {
                return v;
            }
            throw ReplyTypeError("corio::redis::Reply::to_double: \"" + string_.substr(0, 40) +
                                 "\" is not a number");
        default:
            wrong_type("to_double");
    }
}

bool Reply::to_bool() const {
    switch (type_) {
        case Type::boolean:
            return boolean_;
        case Type::integer:
            return integer_ != 0;
        default:
            wrong_type("to_bool");
    }
}

std::vector<std::string> Reply::to_string_vector() const& {
    return to<std::vector<std::string>>();
}
std::vector<std::string> Reply::to_string_vector() && {
    return std::move(*this).to<std::vector<std::string>>();
}
std::vector<std::optional<std::string>> Reply::to_optional_string_vector() const& {
    return to<std::vector<std::optional<std::string>>>();
}
std::vector<std::optional<std::string>> Reply::to_optional_string_vector() && {
    return std::move(*this).to<std::vector<std::optional<std::string>>>();
}
std::map<std::string, std::string> Reply::to_string_map() const& {
    return to<std::map<std::string, std::string>>();
}
std::map<std::string, std::string> Reply::to_string_map() && {
    return std::move(*this).to<std::map<std::string, std::string>>();
}
std::unordered_map<std::string, std::string> Reply::to_unordered_string_map() const& {
    return to<std::unordered_map<std::string, std::string>>();
}
std::unordered_map<std::string, std::string> Reply::to_unordered_string_map() && {
    return std::move(*this).to<std::unordered_map<std::string, std::string>>();
}

void detail::integer_out_of_range(std::int64_t value, const char* type) {
    throw ReplyTypeError("corio::redis::Reply::to<T>: " + std::to_string(value) +
                         " does not fit in T (" + type + ")");
}

// -- Comparing and printing ---------------------------------------------------

bool operator==(const Reply& a, const Reply& b) noexcept {
    if (a.type_ != b.type_) {
        return false;
    }
    bool a_attrs = a.attributes_ != nullptr;
    if (a_attrs != (b.attributes_ != nullptr) || (a_attrs && *a.attributes_ != *b.attributes_)) {
        return false;
    }
    switch (Reply::storage_of(a.type_)) {
        case Reply::Storage::none:
            return true;
        case Reply::Storage::integer:
            return a.integer_ == b.integer_;
        case Reply::Storage::number:
            return a.number_ == b.number_ || (std::isnan(a.number_) && std::isnan(b.number_));
        case Reply::Storage::boolean:
            return a.boolean_ == b.boolean_;
        case Reply::Storage::string:
            return a.string_ == b.string_ &&
                   (a.type_ != Reply::Type::verbatim_string ||
                    std::memcmp(a.format_, b.format_, sizeof a.format_) == 0);
        case Reply::Storage::elements:
            return a.elements_ == b.elements_;
    }
    return false;
}

std::string_view type_name(Reply::Type type) noexcept {
    switch (type) {
        case Reply::Type::null:
            return "null";
        case Reply::Type::simple_string:
            return "simple_string";
        case Reply::Type::simple_error:
            return "simple_error";
        case Reply::Type::integer:
            return "integer";
        case Reply::Type::double_:
            return "double";
        case Reply::Type::boolean:
            return "boolean";
        case Reply::Type::big_number:
            return "big_number";
        case Reply::Type::bulk_string:
            return "bulk_string";
        case Reply::Type::bulk_error:
            return "bulk_error";
        case Reply::Type::verbatim_string:
            return "verbatim_string";
        case Reply::Type::array:
            return "array";
        case Reply::Type::map:
            return "map";
        case Reply::Type::set:
            return "set";
        case Reply::Type::push:
            return "push";
    }
    return "unknown";
}

namespace {

void quote(std::string& out, std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    out += '"';
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\n') {
            out += "\\n";
        } else if (u < 0x20 || u >= 0x7f) {
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 15];
        } else {
            out += c;
        }
    }
    out += '"';
}

void render(std::string& out, const Reply& r);

void render_elements(std::string& out, const std::vector<Reply>& elements, const char* open,
                     const char* close) {
    out += open;
    for (std::size_t i = 0; i < elements.size(); ++i) {
        if (i > 0) {
            out += ", ";
        }
        render(out, elements[i]);
    }
    out += close;
}

void render_map(std::string& out, MapView map, const char* open, const char* close) {
    out += open;
    bool first = true;
    for (const auto& [key, value] : map) {
        if (!first) {
            out += ", ";
        }
        first = false;
        render(out, key);
        out += ": ";
        render(out, value);
    }
    out += close;
}

void render(std::string& out, const Reply& r) {
    if (r.has_attributes()) {
        render_map(out, r.attributes(), "|{", "}| ");
    }
    switch (r.type()) {
        case Reply::Type::null:
            out += "(nil)";
            break;
        case Reply::Type::simple_string:
        case Reply::Type::bulk_string:
            quote(out, r.as_string());
            break;
        case Reply::Type::simple_error:
        case Reply::Type::bulk_error:
            out += "(error) ";
            out += r.as_error();
            break;
        case Reply::Type::integer:
            out += "(integer) " + std::to_string(r.as_integer());
            break;
        case Reply::Type::double_:
            out += "(double) " + double_text(r.as_double());
            break;
        case Reply::Type::boolean:
            out += r.as_bool() ? "(true)" : "(false)";
            break;
        case Reply::Type::big_number:
            out += "(big number) " + r.as_big_number();
            break;
        case Reply::Type::verbatim_string:
            out += "(verbatim ";
            out += r.verbatim_format();
            out += ") ";
            quote(out, r.as_string());
            break;
        case Reply::Type::array:
            render_elements(out, r.as_array(), "[", "]");
            break;
        case Reply::Type::set:
            render_elements(out, r.as_array(), "~{", "}");
            break;
        case Reply::Type::push:
            render_elements(out, r.as_array(), ">[", "]");
            break;
        case Reply::Type::map:
            render_map(out, r.as_map(), "{", "}");
            break;
    }
}

}  // namespace

std::string Reply::repr() const {
    std::string out;
    render(out, *this);
    return out;
}

std::ostream& operator<<(std::ostream& os, const Reply& r) {
    return os << r.repr();
}

}  // namespace corio::redis
