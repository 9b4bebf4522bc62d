// src/amqp/frame.cpp - the AMQP 0-9-1 codec: field tables, properties,
// methods by signature, frames.
//
// Decoding reads from a bounds-checked cursor (Reader): every read checks
// the bytes left first and throws Malformed, which feed() turns into a
// DecodeStatus::error naming the frame, the offset and the reason. A frame is
// only parsed once all its bytes are there (the header gives its size), so
// splitting the input anywhere never changes the outcome.
#include "corio/amqp/frame.hpp"

#include <bit>
#include <cstring>
#include <stdexcept>

namespace corio::amqp {

namespace {

struct Malformed {
    std::string what;
    std::size_t at;
};

constexpr std::uint8_t kFrameEnd = 0xCE;

class Reader {
public:
    explicit Reader(std::string_view s) : s_(s) {}
    std::size_t offset() const noexcept { return pos_; }
    std::size_t left() const noexcept { return s_.size() - pos_; }
    bool done() const noexcept { return pos_ == s_.size(); }
    void need(std::size_t n, const char* what) const {
        if (left() < n) {
            throw Malformed{std::string(what) + ": needs " + std::to_string(n) + " bytes, " +
                                std::to_string(left()) + " left",
                            pos_};
        }
    }
    std::uint64_t be(std::size_t n, const char* what) {
        need(n, what);
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            v = (v << 8) | static_cast<std::uint8_t>(s_[pos_ + i]);
        }
        pos_ += n;
        return v;
    }
    std::uint8_t u8(const char* what) { return static_cast<std::uint8_t>(be(1, what)); }
    std::uint16_t u16(const char* what) { return static_cast<std::uint16_t>(be(2, what)); }
    std::uint32_t u32(const char* what) { return static_cast<std::uint32_t>(be(4, what)); }
    std::uint64_t u64(const char* what) { return be(8, what); }
    std::string_view bytes(std::size_t n, const char* what) {
        need(n, what);
        std::string_view v = s_.substr(pos_, n);
        pos_ += n;
        return v;
    }
    std::string shortstr(const char* what) {
        std::size_t n = u8(what);
        return std::string(bytes(n, what));
    }
    std::string longstr(const char* what) {
        std::size_t n = u32(what);
        return std::string(bytes(n, what));
    }

private:
    std::string_view s_;
    std::size_t pos_ = 0;
};

void put_be(std::string& out, std::uint64_t v, std::size_t n) {
    char buf[8];
    for (std::size_t i = 0; i < n; ++i) {
        buf[n - 1 - i] = static_cast<char>(v & 0xFF);
        v >>= 8;
    }
    out.append(buf, n);
}
void put_shortstr(std::string& out, std::string_view s, const char* what) {
    if (s.size() > 255) {
        throw std::invalid_argument(std::string("amqp: ") + what + " is " +
                                    std::to_string(s.size()) +
                                    " bytes long; a short string holds at most 255");
    }
    out.push_back(static_cast<char>(s.size()));
    out.append(s);
}
void put_longstr(std::string& out, std::string_view s) {
    put_be(out, s.size(), 4);
    out.append(s);
}

// -- Field values --

FieldValue read_value(Reader& r, std::size_t depth, std::size_t max_depth);

FieldTable read_table_body(Reader& r, std::size_t depth, std::size_t max_depth) {
    if (depth > max_depth) {
        throw Malformed{"field tables and arrays nest deeper than " + std::to_string(max_depth),
                        r.offset()};
    }
    std::uint32_t len = r.u32("field table length");
    std::size_t base = r.offset();
    Reader sub(r.bytes(len, "field table"));
    FieldTable t;
    while (!sub.done()) {
        std::string name;
        try {
            name = sub.shortstr("field name");
            t.set(std::move(name), read_value(sub, depth, max_depth));
        } catch (Malformed& m) {
            m.at += base;
            throw;
        }
    }
    return t;
}

FieldArray read_array_body(Reader& r, std::size_t depth, std::size_t max_depth) {
    if (depth > max_depth) {
        throw Malformed{"field tables and arrays nest deeper than " + std::to_string(max_depth),
                        r.offset()};
    }
    std::uint32_t len = r.u32("field array length");
    std::size_t base = r.offset();
    Reader sub(r.bytes(len, "field array"));
    FieldArray a;
    while (!sub.done()) {
        try {
            a.push_back(read_value(sub, depth, max_depth));
        } catch (Malformed& m) {
            m.at += base;
            throw;
        }
    }
    return a;
}

template <class T>
T signed_from(std::uint64_t v) {
    return static_cast<T>(static_cast<std::make_unsigned_t<T>>(v));
}

FieldValue read_value(Reader& r, std::size_t depth, std::size_t max_depth) {
    std::size_t at = r.offset();
    char type = static_cast<char>(r.u8("field type"));
    switch (type) {
        case 't':
            return FieldValue(r.u8("boolean") != 0);
        case 'b':
            return FieldValue(signed_from<std::int8_t>(r.u8("int8")));
        case 'B':
            return FieldValue(r.u8("uint8"));
        case 's':
            return FieldValue(signed_from<std::int16_t>(r.u16("int16")));
        case 'u':
            return FieldValue(r.u16("uint16"));
        case 'I':
            return FieldValue(signed_from<std::int32_t>(r.u32("int32")));
        case 'i':
            return FieldValue(r.u32("uint32"));
        case 'l':
            return FieldValue(signed_from<std::int64_t>(r.u64("int64")));
        case 'L':
            return FieldValue(r.u64("uint64"));
        case 'f':
            return FieldValue(std::bit_cast<float>(r.u32("float")));
        case 'd':
            return FieldValue(std::bit_cast<double>(r.u64("double")));
        case 'D': {
            std::uint8_t scale = r.u8("decimal scale");
            return FieldValue(Decimal{scale, r.u32("decimal value")});
        }
        case 'S':
            return FieldValue(r.longstr("long string"));
        case 'x':
            return FieldValue(ByteArray{r.longstr("byte array")});
        case 'A':
            return FieldValue(read_array_body(r, depth + 1, max_depth));
        case 'T':
            return FieldValue(Timestamp{r.u64("timestamp")});
        case 'F':
            return FieldValue(read_table_body(r, depth + 1, max_depth));
        case 'V':
            return FieldValue(Void{});
        default:
            break;
    }
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x",
                  static_cast<unsigned>(static_cast<std::uint8_t>(type)));
    throw Malformed{std::string("unknown field type ") + hex, at};
}

void write_value(std::string& out, const FieldValue& v);

void write_table(std::string& out, const FieldTable& t) {
    std::size_t len_at = out.size();
    out.append(4, '\0');
    for (const auto& [name, value] : t) {
        put_shortstr(out, name, "a field table name");
        write_value(out, value);
    }
    std::uint64_t len = out.size() - len_at - 4;
    std::string len_bytes;
    put_be(len_bytes, len, 4);
    out.replace(len_at, 4, len_bytes);
}

void write_value(std::string& out, const FieldValue& v) {
    out.push_back(v.type());
    std::visit(
        [&out](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, Void>) {
            } else if constexpr (std::is_same_v<T, bool>) {
                out.push_back(x ? 1 : 0);
            } else if constexpr (std::is_same_v<T, float>) {
                put_be(out, std::bit_cast<std::uint32_t>(x), 4);
            } else if constexpr (std::is_same_v<T, double>) {
                put_be(out, std::bit_cast<std::uint64_t>(x), 8);
            } else if constexpr (std::is_integral_v<T>) {
                put_be(out, static_cast<std::make_unsigned_t<T>>(x), sizeof(T));
            } else if constexpr (std::is_same_v<T, Decimal>) {
                out.push_back(static_cast<char>(x.scale));
                put_be(out, x.value, 4);
            } else if constexpr (std::is_same_v<T, std::string>) {
                put_longstr(out, x);
            } else if constexpr (std::is_same_v<T, ByteArray>) {
                put_longstr(out, x.bytes);
            } else if constexpr (std::is_same_v<T, Timestamp>) {
                put_be(out, x.seconds, 8);
            } else if constexpr (std::is_same_v<T, FieldArray>) {
                std::size_t len_at = out.size();
                out.append(4, '\0');
                for (const FieldValue& e : x) {
                    write_value(out, e);
                }
                std::string len_bytes;
                put_be(len_bytes, out.size() - len_at - 4, 4);
                out.replace(len_at, 4, len_bytes);
            } else {
                static_assert(std::is_same_v<T, FieldTable>);
                write_table(out, x);
            }
        },
        v.value);
}

// -- Properties --

Properties read_properties(Reader& r, std::size_t max_depth) {
    std::uint16_t flags = r.u16("property flags");
    if (flags & 1) {
        throw Malformed{"property flags continue into a second word (no such basic property)",
                        r.offset() - 2};
    }
    if (flags & 0x3) {
        // bit 1 is reserved
    }
    Properties p;
    auto has = [flags](int bit) { return (flags & (1u << bit)) != 0; };
    if (has(15))
        p.content_type = r.shortstr("content-type");
    if (has(14))
        p.content_encoding = r.shortstr("content-encoding");
    if (has(13))
        p.headers = read_table_body(r, 1, max_depth);
    if (has(12))
        p.delivery_mode = r.u8("delivery-mode");
    if (has(11))
        p.priority = r.u8("priority");
    if (has(10))
        p.correlation_id = r.shortstr("correlation-id");
    if (has(9))
        p.reply_to = r.shortstr("reply-to");
    if (has(8))
        p.expiration = r.shortstr("expiration");
    if (has(7))
        p.message_id = r.shortstr("message-id");
    if (has(6))
        p.timestamp = r.u64("timestamp");
    if (has(5))
        p.type = r.shortstr("type");
    if (has(4))
        p.user_id = r.shortstr("user-id");
    if (has(3))
        p.app_id = r.shortstr("app-id");
    if (has(2))
        p.cluster_id = r.shortstr("cluster-id");
    return p;
}

void write_properties(std::string& out, const Properties& p) {
    std::uint16_t flags = 0;
    auto mark = [&flags](bool present, int bit) {
        if (present)
            flags |= static_cast<std::uint16_t>(1u << bit);
    };
    mark(p.content_type.has_value(), 15);
    mark(p.content_encoding.has_value(), 14);
    mark(p.headers.has_value(), 13);
    mark(p.delivery_mode.has_value(), 12);
    mark(p.priority.has_value(), 11);
    mark(p.correlation_id.has_value(), 10);
    mark(p.reply_to.has_value(), 9);
    mark(p.expiration.has_value(), 8);
    mark(p.message_id.has_value(), 7);
    mark(p.timestamp.has_value(), 6);
    mark(p.type.has_value(), 5);
    mark(p.user_id.has_value(), 4);
    mark(p.app_id.has_value(), 3);
    mark(p.cluster_id.has_value(), 2);
    put_be(out, flags, 2);
    if (p.content_type)
        put_shortstr(out, *p.content_type, "content_type");
    if (p.content_encoding)
        put_shortstr(out, *p.content_encoding, "content_encoding");
    if (p.headers)
        write_table(out, *p.headers);
    if (p.delivery_mode)
        out.push_back(static_cast<char>(*p.delivery_mode));
    if (p.priority)
        out.push_back(static_cast<char>(*p.priority));
    if (p.correlation_id)
        put_shortstr(out, *p.correlation_id, "correlation_id");
    if (p.reply_to)
        put_shortstr(out, *p.reply_to, "reply_to");
    if (p.expiration)
        put_shortstr(out, *p.expiration, "expiration");
    if (p.message_id)
        put_shortstr(out, *p.message_id, "message_id");
    if (p.timestamp)
        put_be(out, *p.timestamp, 8);
    if (p.type)
        put_shortstr(out, *p.type, "type");
    if (p.user_id)
        put_shortstr(out, *p.user_id, "user_id");
    if (p.app_id)
        put_shortstr(out, *p.app_id, "app_id");
    if (p.cluster_id)
        put_shortstr(out, *p.cluster_id, "cluster_id");
}

// -- Method signatures --

struct MethodInfo {
    MethodId id;
    const char* name;
    const char* signature;
};

// The spec's argument lists (o octet, B short, I long, L long long, b bit,
// s short string, S long string, F table).
constexpr MethodInfo kMethods[] = {
    {methods::connection_start, "connection.start", "ooFSS"},
    {methods::connection_start_ok, "connection.start-ok", "FsSs"},
    {methods::connection_secure, "connection.secure", "S"},
    {methods::connection_secure_ok, "connection.secure-ok", "S"},
    {methods::connection_tune, "connection.tune", "BIB"},
    {methods::connection_tune_ok, "connection.tune-ok", "BIB"},
    {methods::connection_open, "connection.open", "ssb"},
    {methods::connection_open_ok, "connection.open-ok", "s"},
    {methods::connection_close, "connection.close", "BsBB"},
    {methods::connection_close_ok, "connection.close-ok", ""},
    {methods::connection_blocked, "connection.blocked", "s"},
    {methods::connection_unblocked, "connection.unblocked", ""},
    {methods::channel_open, "channel.open", "s"},
    {methods::channel_open_ok, "channel.open-ok", "S"},
    {methods::channel_flow, "channel.flow", "b"},
    {methods::channel_flow_ok, "channel.flow-ok", "b"},
    {methods::channel_close, "channel.close", "BsBB"},
    {methods::channel_close_ok, "channel.close-ok", ""},
    {methods::exchange_declare, "exchange.declare", "BssbbbbbF"},
    {methods::exchange_declare_ok, "exchange.declare-ok", ""},
    {methods::exchange_delete, "exchange.delete", "Bsbb"},
    {methods::exchange_delete_ok, "exchange.delete-ok", ""},
    {methods::exchange_bind, "exchange.bind", "BsssbF"},
    {methods::exchange_bind_ok, "exchange.bind-ok", ""},
    {methods::exchange_unbind, "exchange.unbind", "BsssbF"},
    {methods::exchange_unbind_ok, "exchange.unbind-ok", ""},
    {methods::queue_declare, "queue.declare", "BsbbbbbF"},
    {methods::queue_declare_ok, "queue.declare-ok", "sII"},
    {methods::queue_bind, "queue.bind", "BsssbF"},
    {methods::queue_bind_ok, "queue.bind-ok", ""},
    {methods::queue_purge, "queue.purge", "Bsb"},
    {methods::queue_purge_ok, "queue.purge-ok", "I"},
    {methods::queue_delete, "queue.delete", "Bsbbb"},
    {methods::queue_delete_ok, "queue.delete-ok", "I"},
    {methods::queue_unbind, "queue.unbind", "BsssF"},
    {methods::queue_unbind_ok, "queue.unbind-ok", ""},
    {methods::basic_qos, "basic.qos", "IBb"},
    {methods::basic_qos_ok, "basic.qos-ok", ""},
    {methods::basic_consume, "basic.consume", "BssbbbbF"},
    {methods::basic_consume_ok, "basic.consume-ok", "s"},
    {methods::basic_cancel, "basic.cancel", "sb"},
    {methods::basic_cancel_ok, "basic.cancel-ok", "s"},
    {methods::basic_publish, "basic.publish", "Bssbb"},
    {methods::basic_return, "basic.return", "Bsss"},
    {methods::basic_deliver, "basic.deliver", "sLbss"},
    {methods::basic_get, "basic.get", "Bsb"},
    {methods::basic_get_ok, "basic.get-ok", "LbssI"},
    {methods::basic_get_empty, "basic.get-empty", "s"},
    {methods::basic_ack, "basic.ack", "Lb"},
    {methods::basic_reject, "basic.reject", "Lb"},
    {methods::basic_recover_async, "basic.recover-async", "b"},
    {methods::basic_recover, "basic.recover", "b"},
    {methods::basic_recover_ok, "basic.recover-ok", ""},
    {methods::basic_nack, "basic.nack", "Lbb"},
    {methods::confirm_select, "confirm.select", "b"},
    {methods::confirm_select_ok, "confirm.select-ok", ""},
};

const MethodInfo* find_method(MethodId id) noexcept {
    for (const MethodInfo& m : kMethods) {
        if (m.id == id) {
            return &m;
        }
    }
    return nullptr;
}

Method read_method(Reader& r, std::size_t max_depth) {
    Method m;
    m.id.class_id = r.u16("class id");
    m.id.method_id = r.u16("method id");
    const MethodInfo* info = find_method(m.id);
    if (!info) {
        throw Malformed{"unknown method " + std::to_string(m.id.class_id) + "." +
                            std::to_string(m.id.method_id),
                        0};
    }
    int bit = 8;
    std::uint8_t bits = 0;
    for (const char* p = info->signature; *p; ++p) {
        if (*p != 'b') {
            bit = 8;
        }
        switch (*p) {
            case 'o':
                m.args.emplace_back(r.u8(info->name));
                break;
            case 'B':
                m.args.emplace_back(r.u16(info->name));
                break;
            case 'I':
                m.args.emplace_back(r.u32(info->name));
                break;
            case 'L':
                m.args.emplace_back(r.u64(info->name));
                break;
            case 's':
                m.args.emplace_back(r.shortstr(info->name));
                break;
            case 'S':
                m.args.emplace_back(r.longstr(info->name));
                break;
            case 'F':
                m.args.emplace_back(read_table_body(r, 1, max_depth));
                break;
            case 'b':
                if (bit == 8) {
                    bits = r.u8(info->name);
                    bit = 0;
                }
                m.args.emplace_back(static_cast<std::uint64_t>((bits >> bit) & 1));
                ++bit;
                break;
            default:
                break;
        }
    }
    if (!r.done()) {
        throw Malformed{std::string(info->name) + " has " + std::to_string(r.left()) +
                            " bytes after its last argument",
                        r.offset()};
    }
    return m;
}

void write_frame_header(std::string& out, FrameType type, std::uint16_t channel,
                        std::uint32_t size) {
    out.push_back(static_cast<char>(type));
    put_be(out, channel, 2);
    put_be(out, size, 4);
}

void patch_size(std::string& out, std::size_t header_at) {
    std::size_t size = out.size() - header_at - 7;
    if (size > 0xFFFFFFFFu) {
        throw std::invalid_argument("amqp: frame payload longer than 2^32 - 1 bytes");
    }
    std::string b;
    put_be(b, size, 4);
    out.replace(header_at + 3, 4, b);
}

std::string hex_byte(std::uint8_t b) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned>(b));
    return hex;
}

}  // namespace

// -- FieldTable / FieldValue ----------------------------------------------------

FieldTable::FieldTable(std::initializer_list<Entry> entries) {
    for (const Entry& e : entries) {
        set(e.first, e.second);
    }
}

FieldTable& FieldTable::set(std::string name, FieldValue value) {
    for (Entry& e : entries_) {
        if (e.first == name) {
            e.second = std::move(value);
            return *this;
        }
    }
    entries_.emplace_back(std::move(name), std::move(value));
    return *this;
}

const FieldValue* FieldTable::find(std::string_view name) const noexcept {
    for (const Entry& e : entries_) {
        if (e.first == name) {
            return &e.second;
        }
    }
    return nullptr;
}

bool FieldTable::operator==(const FieldTable& other) const {
    return entries_ == other.entries_;
}

std::string FieldTable::repr() const {
    std::string s = "{";
    bool first = true;
    for (const auto& [name, value] : entries_) {
        if (!first)
            s += ", ";
        first = false;
        s += name + ": " + value.repr();
    }
    return s + "}";
}

char FieldValue::type() const noexcept {
    static constexpr char kTypes[] = "tbBsuIilLfdDSxATFV";
    // Storage order: Void, bool, i8, u8, i16, u16, i32, u32, i64, u64, float,
    // double, Decimal, string, ByteArray, FieldArray, Timestamp, FieldTable.
    static constexpr char kByIndex[] = {'V', 't', 'b', 'B', 's', 'u', 'I', 'i', 'l',
                                        'L', 'f', 'd', 'D', 'S', 'x', 'A', 'T', 'F'};
    (void)kTypes;
    return kByIndex[value.index()];
}

std::int64_t FieldValue::as_integer() const {
    return std::visit(
        [](const auto& x) -> std::int64_t {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::uint64_t>) {
                if (x > static_cast<std::uint64_t>(INT64_MAX)) {
                    throw std::out_of_range("amqp: field value does not fit an int64");
                }
                return static_cast<std::int64_t>(x);
            } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
                return static_cast<std::int64_t>(x);
            } else {
                throw std::bad_variant_access();
            }
        },
        value);
}

const std::string& FieldValue::as_string() const {
    if (const auto* b = std::get_if<ByteArray>(&value)) {
        return b->bytes;
    }
    return std::get<std::string>(value);
}

std::string FieldValue::repr() const {
    return std::visit(
        [](const auto& x) -> std::string {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, Void>) {
                return "void";
            } else if constexpr (std::is_same_v<T, bool>) {
                return x ? "true" : "false";
            } else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
                char b[64];
                std::snprintf(b, sizeof b, "%.17g", static_cast<double>(x));
                return b;
            } else if constexpr (std::is_integral_v<T>) {
                return std::to_string(x);
            } else if constexpr (std::is_same_v<T, Decimal>) {
                return "decimal(" + std::to_string(x.value) + "e-" + std::to_string(x.scale) + ")";
            } else if constexpr (std::is_same_v<T, std::string>) {
                return "'" + x + "'";
            } else if constexpr (std::is_same_v<T, ByteArray>) {
                return "bytes(" + std::to_string(x.bytes.size()) + ")";
            } else if constexpr (std::is_same_v<T, Timestamp>) {
                return "timestamp(" + std::to_string(x.seconds) + ")";
            } else if constexpr (std::is_same_v<T, FieldArray>) {
                std::string s = "[";
                for (std::size_t i = 0; i < x.size(); ++i) {
                    s += (i ? ", " : "") + x[i].repr();
                }
                return s + "]";
            } else {
                return x.repr();
            }
        },
        value);
}

// -- Method ---------------------------------------------------------------------

const char* method_signature(MethodId id) noexcept {
    const MethodInfo* m = find_method(id);
    return m ? m->signature : nullptr;
}

std::string method_name(MethodId id) {
    const MethodInfo* m = find_method(id);
    if (m) {
        return m->name;
    }
    return "method " + std::to_string(id.class_id) + "." + std::to_string(id.method_id);
}

bool method_has_content(MethodId id) noexcept {
    return id == methods::basic_publish || id == methods::basic_return ||
           id == methods::basic_deliver || id == methods::basic_get_ok;
}

std::uint64_t Method::number(std::size_t i) const {
    if (i >= args.size() || !std::holds_alternative<std::uint64_t>(args[i].value)) {
        throw std::invalid_argument("amqp: " + method_name(id) + " has no number argument " +
                                    std::to_string(i));
    }
    return std::get<std::uint64_t>(args[i].value);
}

const std::string& Method::string(std::size_t i) const {
    if (i >= args.size() || !std::holds_alternative<std::string>(args[i].value)) {
        throw std::invalid_argument("amqp: " + method_name(id) + " has no string argument " +
                                    std::to_string(i));
    }
    return std::get<std::string>(args[i].value);
}

const FieldTable& Method::table(std::size_t i) const {
    if (i >= args.size() || !std::holds_alternative<FieldTable>(args[i].value)) {
        throw std::invalid_argument("amqp: " + method_name(id) + " has no table argument " +
                                    std::to_string(i));
    }
    return std::get<FieldTable>(args[i].value);
}

std::string Method::repr() const {
    std::string s = method_name(id) + "(";
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (i)
            s += ", ";
        const auto& v = args[i].value;
        if (const auto* n = std::get_if<std::uint64_t>(&v)) {
            s += std::to_string(*n);
        } else if (const auto* str = std::get_if<std::string>(&v)) {
            s += "'" + *str + "'";
        } else {
            s += std::get<FieldTable>(v).repr();
        }
    }
    return s + ")";
}

// -- Decoding -------------------------------------------------------------------

DecodeResult FrameDecoder::feed(std::string_view input) const {
    DecodeResult res;
    if (input.empty()) {
        return res;
    }
    if (input[0] == 'A') {
        // A server that does not accept our protocol header answers with its own.
        if (input.size() < 8) {
            return res;
        }
        res.status = DecodeStatus::error;
        res.message = "the server rejected AMQP 0-9-1: it answered with protocol header " +
                      std::to_string(static_cast<std::uint8_t>(input[5])) + "-" +
                      std::to_string(static_cast<std::uint8_t>(input[6])) + "-" +
                      std::to_string(static_cast<std::uint8_t>(input[7]));
        return res;
    }
    std::uint8_t type = static_cast<std::uint8_t>(input[0]);
    if (type != 1 && type != 2 && type != 3 && type != 8) {
        res.status = DecodeStatus::error;
        res.message = "frame of unknown type " + hex_byte(type) + " (byte 0 of the frame)";
        return res;
    }
    if (input.size() < 7) {
        return res;
    }
    Reader head(input.substr(0, 7));
    head.u8("type");
    std::uint16_t channel = head.u16("channel");
    std::uint32_t size = head.u32("size");
    std::uint64_t total = std::uint64_t{size} + kFrameOverhead;
    if (limits_.max_frame_size != 0 && total > limits_.max_frame_size) {
        res.status = DecodeStatus::error;
        res.message = "frame of " + std::to_string(total) + " bytes exceeds frame-max " +
                      std::to_string(limits_.max_frame_size);
        return res;
    }
    if (input.size() < total) {
        return res;
    }
    if (static_cast<std::uint8_t>(input[total - 1]) != kFrameEnd) {
        res.status = DecodeStatus::error;
        res.message = "frame end is " + hex_byte(static_cast<std::uint8_t>(input[total - 1])) +
                      ", not 0xce (byte " + std::to_string(total - 1) + " of the frame)";
        return res;
    }
    Reader r(input.substr(7, size));
    Frame& f = res.frame;
    f.type = static_cast<FrameType>(type);
    f.channel = channel;
    try {
        switch (f.type) {
            case FrameType::method:
                f.method = read_method(r, limits_.max_depth);
                break;
            case FrameType::header: {
                f.header.class_id = r.u16("content class id");
                r.u16("content weight");
                f.header.body_size = r.u64("content body size");
                f.header.properties = read_properties(r, limits_.max_depth);
                if (!r.done()) {
                    throw Malformed{"content header has " + std::to_string(r.left()) +
                                        " bytes after its properties",
                                    r.offset()};
                }
                break;
            }
            case FrameType::body:
                f.body.assign(input.substr(7, size));
                break;
            case FrameType::heartbeat:
                if (size != 0 || channel != 0) {
                    throw Malformed{
                        "heartbeat frame with a payload or on channel " + std::to_string(channel),
                        0};
                }
                break;
        }
    } catch (const Malformed& m) {
        res = DecodeResult{};
        res.status = DecodeStatus::error;
        res.message = "malformed " +
                      std::string(type == 1   ? "method"
                                  : type == 2 ? "content header"
                                              : "heartbeat") +
                      " frame on channel " + std::to_string(channel) + ": " + m.what + " (byte " +
                      std::to_string(m.at + 7) + " of the frame)";
        return res;
    }
    res.status = DecodeStatus::complete;
    res.consumed = static_cast<std::size_t>(total);
    return res;
}

// -- Encoding -------------------------------------------------------------------

void encode_method(std::string& out, std::uint16_t channel, const Method& method) {
    const MethodInfo* info = find_method(method.id);
    if (!info) {
        throw std::invalid_argument("amqp: cannot encode unknown " + method_name(method.id));
    }
    std::size_t sig_len = std::strlen(info->signature);
    if (method.args.size() != sig_len) {
        throw std::invalid_argument("amqp: " + std::string(info->name) + " takes " +
                                    std::to_string(sig_len) + " arguments, got " +
                                    std::to_string(method.args.size()));
    }
    std::size_t start = out.size();
    write_frame_header(out, FrameType::method, channel, 0);
    put_be(out, method.id.class_id, 2);
    put_be(out, method.id.method_id, 2);
    int bit = 8;
    std::size_t bits_at = 0;
    for (std::size_t i = 0; i < sig_len; ++i) {
        char c = info->signature[i];
        if (c != 'b') {
            bit = 8;
        }
        auto number = [&] { return method.number(i); };
        switch (c) {
            case 'o':
                put_be(out, number(), 1);
                break;
            case 'B':
                put_be(out, number(), 2);
                break;
            case 'I':
                put_be(out, number(), 4);
                break;
            case 'L':
                put_be(out, number(), 8);
                break;
            case 's':
                put_shortstr(out, method.string(i), info->name);
                break;
            case 'S':
                put_longstr(out, method.string(i));
                break;
            case 'F':
                write_table(out, method.table(i));
                break;
            case 'b':
                if (bit == 8) {
                    bits_at = out.size();
                    out.push_back('\0');
                    bit = 0;
                }
                if (number() != 0) {
                    out[bits_at] = static_cast<char>(out[bits_at] | (1 << bit));
                }
                ++bit;
                break;
            default:
                break;
        }
    }
    patch_size(out, start);
    out.push_back(static_cast<char>(kFrameEnd));
}

void encode_content(std::string& out, std::uint16_t channel, const Properties& properties,
                    std::string_view body, std::uint32_t frame_max, std::uint16_t class_id) {
    std::size_t start = out.size();
    write_frame_header(out, FrameType::header, channel, 0);
    put_be(out, class_id, 2);
    put_be(out, 0, 2);
    put_be(out, body.size(), 8);
    write_properties(out, properties);
    patch_size(out, start);
    out.push_back(static_cast<char>(kFrameEnd));
    if (frame_max != 0 && frame_max <= kFrameOverhead) {
        throw std::invalid_argument("amqp: frame_max " + std::to_string(frame_max) +
                                    " leaves no room for a body");
    }
    std::size_t piece = frame_max == 0 ? body.size() : frame_max - kFrameOverhead;
    for (std::size_t at = 0; at < body.size(); at += piece) {
        std::string_view part = body.substr(at, piece);
        write_frame_header(out, FrameType::body, channel, static_cast<std::uint32_t>(part.size()));
        out.append(part);
        out.push_back(static_cast<char>(kFrameEnd));
    }
}

void encode_heartbeat(std::string& out) {
    write_frame_header(out, FrameType::heartbeat, 0, 0);
    out.push_back(static_cast<char>(kFrameEnd));
}

void encode_table(std::string& out, const FieldTable& table) {
    write_table(out, table);
}

FieldTable decode_table(std::string_view bytes) {
    Reader r(bytes);
    try {
        FieldTable t = read_table_body(r, 1, DecoderLimits{}.max_depth);
        if (!r.done()) {
            throw Malformed{std::to_string(r.left()) + " bytes after the table", r.offset()};
        }
        return t;
    } catch (const Malformed& m) {
        throw std::invalid_argument("amqp: malformed field table: " + m.what + " (byte " +
                                    std::to_string(m.at) + ")");
    }
}

}  // namespace corio::amqp
