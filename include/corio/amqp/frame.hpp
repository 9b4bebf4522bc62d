// corio/amqp/frame.hpp - the AMQP 0-9-1 wire codec, sans-I/O: field tables,
// content properties, methods, and the FrameDecoder / encode_* pair that
// turns frames into bytes and back. No sockets, no loop: the connection
// (corio/amqp/connection.hpp) drives both over its buffers. Nothing here
// suspends, so cancellation never applies.
//
// Mirrors pamqp (the codec under aio-pika) and aioamqp's frame.py. Field
// tables follow RabbitMQ's dialect of the 0-9-1 errata (what the server
// actually reads and writes), every type of it:
//   t bool  b int8  B uint8  s int16  u uint16  I int32  i uint32  l int64
//   L uint64  f float  d double  D decimal  S long string  x byte array
//   A array  T timestamp  F table  V void
// Methods are described by a table of argument signatures (the spec's
// argument lists), so every method of the connection, channel, exchange,
// queue, basic and confirm classes decodes and encodes through one code path.
//
//   corio::amqp::FrameDecoder dec;
//   for (;;) {                                        // the read loop
//       auto r = dec.feed(buffer.view());             // all unconsumed bytes
//       if (r.status == DecodeStatus::incomplete) break;
//       if (r.status == DecodeStatus::error) throw ProtocolError(r.message);
//       buffer.consume(r.consumed);
//       deliver(std::move(r.frame));
//   }
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace corio::amqp {

// -- Field values and tables --------------------------------------------------

/// 'V': no value. RabbitMQ: `void`.
struct Void {
    bool operator==(const Void&) const = default;
};
/// 'D': value / 10^scale. RabbitMQ reads the value as unsigned.
struct Decimal {
    std::uint8_t scale = 0;
    std::uint32_t value = 0;
    bool operator==(const Decimal&) const = default;
};
/// 'T': seconds since the Unix epoch.
struct Timestamp {
    std::uint64_t seconds = 0;
    bool operator==(const Timestamp&) const = default;
};
/// 'x': raw bytes (a long string that is not text).
struct ByteArray {
    std::string bytes;
    bool operator==(const ByteArray&) const = default;
};

struct FieldValue;
/// 'A': a list of values.
using FieldArray = std::vector<FieldValue>;

/// 'F': a table of named values, in wire order (names are short strings,
/// at most 255 bytes). Lookups are linear: tables are small.
class FieldTable {
public:
    using Entry = std::pair<std::string, FieldValue>;
    FieldTable() = default;
    FieldTable(std::initializer_list<Entry> entries);

    /// Sets `name` to `value` (replacing an entry of that name). Never throws
    /// but for allocation.
    FieldTable& set(std::string name, FieldValue value);
    /// The value of `name`, or null.
    const FieldValue* find(std::string_view name) const noexcept;
    bool contains(std::string_view name) const noexcept { return find(name) != nullptr; }
    // (Defined after FieldValue, which they need complete.)
    bool empty() const noexcept;
    std::size_t size() const noexcept;
    const std::vector<Entry>& entries() const noexcept { return entries_; }
    std::vector<Entry>::const_iterator begin() const noexcept;
    std::vector<Entry>::const_iterator end() const noexcept;
    bool operator==(const FieldTable& other) const;
    /// A readable rendering, `{name: value, ...}` (for tests and logs).
    std::string repr() const;

private:
    std::vector<Entry> entries_;
};

/// One typed value of a field table or array. The alternative is the wire
/// type; construct from the C++ type of the one you mean (`std::int64_t{5}`
/// is 'l', `5` is 'I', `"text"` is 'S', `ByteArray{...}` is 'x').
struct FieldValue {
    using Storage =
        std::variant<Void, bool, std::int8_t, std::uint8_t, std::int16_t, std::uint16_t,
                     std::int32_t, std::uint32_t, std::int64_t, std::uint64_t, float, double,
                     Decimal, std::string, ByteArray, FieldArray, Timestamp, FieldTable>;
    Storage value;

    FieldValue() = default;
    template <class T>
    requires std::constructible_from<Storage, T&&> &&
        (!std::same_as<std::remove_cvref_t<T>, FieldValue>)&&(
            !std::same_as<std::remove_cvref_t<T>,
                          const char*>)&&(!std::is_array_v<std::remove_cvref_t<T>>)FieldValue(T&& v)
        : value(std::forward<T>(v)) {}  // NOLINT: implicit by design
    FieldValue(const char* s) : value(std::string(s)) {}
    FieldValue(std::string_view s) : value(std::string(s)) {}

    /// The wire type letter of the value ('S', 'I', 'F', ...).
    char type() const noexcept;
    template <class T>
    bool is() const noexcept {
        return std::holds_alternative<T>(value);
    }
    /// The value as T; throws std::bad_variant_access when it is another type.
    template <class T>
    const T& as() const {
        return std::get<T>(value);
    }
    /// Any integer type as int64 (uint64 above INT64_MAX throws
    /// std::out_of_range; a non-integer throws std::bad_variant_access).
    std::int64_t as_integer() const;
    /// A long string or byte array as text.
    const std::string& as_string() const;
    bool operator==(const FieldValue& other) const { return value == other.value; }
    std::string repr() const;
};

inline bool FieldTable::empty() const noexcept {
    return entries_.empty();
}
inline std::size_t FieldTable::size() const noexcept {
    return entries_.size();
}
inline std::vector<FieldTable::Entry>::const_iterator FieldTable::begin() const noexcept {
    return entries_.begin();
}
inline std::vector<FieldTable::Entry>::const_iterator FieldTable::end() const noexcept {
    return entries_.end();
}

// -- Content properties (basic class) -----------------------------------------

/// The basic class's content properties, each optional (absent: not sent).
/// aioamqp: the `properties` dict of publish / the envelope's properties.
struct Properties {
    std::optional<std::string> content_type;
    std::optional<std::string> content_encoding;
    std::optional<FieldTable> headers;
    /// 1 transient, 2 persistent.
    std::optional<std::uint8_t> delivery_mode;
    std::optional<std::uint8_t> priority;
    std::optional<std::string> correlation_id;
    std::optional<std::string> reply_to;
    /// Per-message TTL in milliseconds, as a decimal string ("60000").
    std::optional<std::string> expiration;
    std::optional<std::string> message_id;
    std::optional<std::uint64_t> timestamp;
    std::optional<std::string> type;
    std::optional<std::string> user_id;
    std::optional<std::string> app_id;
    std::optional<std::string> cluster_id;
    bool operator==(const Properties&) const = default;
};

// -- Methods ------------------------------------------------------------------

/// One argument of a method: an integer (octet, short, long, long long, or a
/// bit, as 0/1), a string (short or long: the method's signature says
/// which), or a table.
struct MethodArg {
    std::variant<std::uint64_t, std::string, FieldTable> value;
    MethodArg() = default;
    template <std::integral T>
    MethodArg(T v) : value(static_cast<std::uint64_t>(v)) {}  // NOLINT
    MethodArg(std::string s) : value(std::move(s)) {}         // NOLINT
    MethodArg(std::string_view s) : value(std::string(s)) {}  // NOLINT
    MethodArg(const char* s) : value(std::string(s)) {}       // NOLINT
    MethodArg(FieldTable t) : value(std::move(t)) {}          // NOLINT
    bool operator==(const MethodArg& other) const { return value == other.value; }
};

/// A method's class and method numbers, e.g. {50, 10} for queue.declare.
struct MethodId {
    std::uint16_t class_id = 0;
    std::uint16_t method_id = 0;
    bool operator==(const MethodId&) const = default;
};

/// The method ids this client uses (the spec's names).
namespace methods {
inline constexpr MethodId connection_start{10, 10}, connection_start_ok{10, 11},
    connection_secure{10, 20}, connection_secure_ok{10, 21}, connection_tune{10, 30},
    connection_tune_ok{10, 31}, connection_open{10, 40}, connection_open_ok{10, 41},
    connection_close{10, 50}, connection_close_ok{10, 51}, connection_blocked{10, 60},
    connection_unblocked{10, 61};
inline constexpr MethodId channel_open{20, 10}, channel_open_ok{20, 11}, channel_flow{20, 20},
    channel_flow_ok{20, 21}, channel_close{20, 40}, channel_close_ok{20, 41};
inline constexpr MethodId exchange_declare{40, 10}, exchange_declare_ok{40, 11},
    exchange_delete{40, 20}, exchange_delete_ok{40, 21}, exchange_bind{40, 30},
    exchange_bind_ok{40, 31}, exchange_unbind{40, 40}, exchange_unbind_ok{40, 51};
inline constexpr MethodId queue_declare{50, 10}, queue_declare_ok{50, 11}, queue_bind{50, 20},
    queue_bind_ok{50, 21}, queue_purge{50, 30}, queue_purge_ok{50, 31}, queue_delete{50, 40},
    queue_delete_ok{50, 41}, queue_unbind{50, 50}, queue_unbind_ok{50, 51};
inline constexpr MethodId basic_qos{60, 10}, basic_qos_ok{60, 11}, basic_consume{60, 20},
    basic_consume_ok{60, 21}, basic_cancel{60, 30}, basic_cancel_ok{60, 31}, basic_publish{60, 40},
    basic_return{60, 50}, basic_deliver{60, 60}, basic_get{60, 70}, basic_get_ok{60, 71},
    basic_get_empty{60, 72}, basic_ack{60, 80}, basic_reject{60, 90}, basic_recover_async{60, 100},
    basic_recover{60, 110}, basic_recover_ok{60, 111}, basic_nack{60, 120};
inline constexpr MethodId confirm_select{85, 10}, confirm_select_ok{85, 11};
}  // namespace methods

/// The argument signature of a method: one letter per argument, o octet,
/// B short, I long, L long long, b bit, s short string, S long string, F
/// table. Null for a method this codec does not know.
const char* method_signature(MethodId id) noexcept;
/// "queue.declare", or "method 50.99" for an unknown one.
std::string method_name(MethodId id);
/// True for the methods followed by content (basic.publish, basic.return,
/// basic.deliver, basic.get-ok).
bool method_has_content(MethodId id) noexcept;

/// A method and its arguments, in the spec's order (reserved ones included,
/// as 0 or ""). The accessors throw std::invalid_argument naming the
/// method when the argument is missing or of another kind.
struct Method {
    MethodId id;
    std::vector<MethodArg> args;

    std::uint64_t number(std::size_t i) const;
    bool flag(std::size_t i) const { return number(i) != 0; }
    const std::string& string(std::size_t i) const;
    const FieldTable& table(std::size_t i) const;
    bool is(MethodId other) const noexcept { return id == other; }
    bool operator==(const Method&) const = default;
    /// "queue.declare-ok('q', 0, 0)" (for tests and logs).
    std::string repr() const;
};

// -- Frames -------------------------------------------------------------------

enum class FrameType : std::uint8_t { method = 1, header = 2, body = 3, heartbeat = 8 };

/// A content header frame: what follows a content-bearing method.
struct ContentHeader {
    std::uint16_t class_id = 60;
    std::uint64_t body_size = 0;
    Properties properties;
    bool operator==(const ContentHeader&) const = default;
};

/// One decoded frame. Only the member of its type is set.
struct Frame {
    FrameType type = FrameType::heartbeat;
    std::uint16_t channel = 0;
    Method method;         // type method
    ContentHeader header;  // type header
    std::string body;      // type body: this frame's piece of the body
};

/// The frame header's 7 bytes plus the frame end's 1: a frame's payload is
/// at most frame_max - kFrameOverhead bytes.
inline constexpr std::uint32_t kFrameOverhead = 8;
/// The smallest frame-max a peer may impose (the spec's frame-min-size).
inline constexpr std::uint32_t kFrameMinSize = 4096;
/// The protocol header a client sends first.
inline constexpr std::string_view kProtocolHeader{"AMQP\x00\x00\x09\x01", 8};

/// The decoder's limits: exceeding one is a protocol error, never an
/// unbounded allocation.
struct DecoderLimits {
    /// The largest frame, header and end included (the negotiated
    /// frame-max; 0 takes no limit beyond 2^32 - 1). RabbitMQ's default:
    /// 131072.
    std::uint32_t max_frame_size = 131072;
    /// Deepest nesting of tables and arrays.
    std::size_t max_depth = 32;
};

enum class DecodeStatus : std::uint8_t {
    complete,    ///< a whole frame: DecodeResult::frame, ::consumed
    incomplete,  ///< more bytes needed; feed again with them appended
    error,       ///< not AMQP 0-9-1: DecodeResult::message
};

struct DecodeResult {
    DecodeStatus status = DecodeStatus::incomplete;
    /// complete: the bytes the frame took from the start of the input.
    std::size_t consumed = 0;
    Frame frame;
    /// error: what was wrong (and, for a server that rejected our protocol
    /// version with its own header, which version it offered).
    std::string message;
};

/// Reads frames. Stateless between frames: feed() looks at the frame at the
/// start of its input and, complete, returns it and how many bytes it took.
/// It never reads past the input (a guard page right after it is safe).
class FrameDecoder {
public:
    explicit FrameDecoder(DecoderLimits limits = {}) : limits_(limits) {}
    DecodeResult feed(std::string_view input) const;
    void set_max_frame_size(std::uint32_t n) noexcept { limits_.max_frame_size = n; }
    const DecoderLimits& limits() const noexcept { return limits_; }

private:
    DecoderLimits limits_;
};

// -- Encoding -----------------------------------------------------------------

/// Appends a method frame. Throws std::invalid_argument when the method is
/// unknown, its arguments do not match its signature, or a short string is
/// longer than 255 bytes.
void encode_method(std::string& out, std::uint16_t channel, const Method& method);
/// Appends a content header frame and the body frames, each body frame at
/// most frame_max bytes long (payload frame_max - 8; frame_max 0: one body
/// frame). An empty body has no body frame.
void encode_content(std::string& out, std::uint16_t channel, const Properties& properties,
                    std::string_view body, std::uint32_t frame_max, std::uint16_t class_id = 60);
/// Appends a heartbeat frame (channel 0).
void encode_heartbeat(std::string& out);
/// Appends a field table as its wire form (a long length, then entries).
/// Throws std::invalid_argument for a name longer than 255 bytes.
void encode_table(std::string& out, const FieldTable& table);
/// Reads a whole wire-form table (length included). Throws
/// std::invalid_argument with the reason when it is malformed.
FieldTable decode_table(std::string_view bytes);

}  // namespace corio::amqp
