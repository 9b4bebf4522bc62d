// corio/redis/resp.hpp - the RESP3 wire codec, sans-I/O: Decoder turns bytes
// into Replies, encode_command turns a command into bytes. No sockets, no
// loop: the connection (later) drives both over its buffers.
//
// Mirrors redis-py's parsers (`_RESP3Parser`, and `hiredis.Reader`, whose
// feed()/gets() pair Decoder::feed replaces) and its `Connection.pack_command`
// (encode_command). The decoder reads every RESP3 type and RESP2's replies
// (a subset: RESP2's null bulk string and null array decode as null).
// Nothing here suspends or touches a loop, so cancellation never applies.
//
//   corio::redis::Decoder dec;
//   for (;;) {                                        // the read loop
//       auto r = dec.feed(buffer.view());             // all unconsumed bytes
//       if (r.incomplete()) break;                    // read more, feed again
//       if (r.error()) throw ProtocolError(r.message);
//       buffer.consume(r.consumed);
//       deliver(std::move(r.reply));
//   }
//   corio::redis::encode_command(write_buffer, "SET", key, 42);
#pragma once

#include <cassert>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <ranges>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "corio/redis/reply.hpp"

namespace corio::redis {

// -- Decoding -----------------------------------------------------------------

/// The decoder's limits. Exceeding one is a protocol error (DecodeStatus::error
/// with a message naming the limit), never a crash or an unbounded allocation:
/// storage for an aggregate grows with the bytes that actually arrived, not
/// with its declared length. hiredis: `redisReader`'s maxbulklen/maxelements.
struct DecoderLimits {
    /// Deepest nesting of aggregates (array, map, set, push, attribute): a
    /// top-level array is depth 1. Redis's deepest replies (COMMAND DOCS) nest
    /// about 7 levels.
    std::size_t max_depth = 32;
    /// Most elements in an array, set or push, most entries (pairs) in a map
    /// or attribute. Default: hiredis's REDIS_READER_MAX_ARRAY_ELEMENTS.
    std::uint64_t max_aggregate_length = 4294967295;  // 2^32 - 1
    /// Longest bulk string, bulk error or verbatim string payload, and
    /// longest simple string, simple error, double or big number line.
    /// Default: Redis's proto-max-bulk-len, 512 MiB.
    std::uint64_t max_bulk_length = 512 * 1024 * 1024;
};

/// What one Decoder::feed found.
enum class DecodeStatus : std::uint8_t {
    complete,    ///< a whole reply: DecodeResult::reply, ::consumed
    incomplete,  ///< more bytes needed; feed again with them appended
    error,       ///< not RESP, or a limit exceeded: DecodeResult::message
};

/// The outcome of Decoder::feed. An error *reply* from the server (-ERR,
/// !...) is `complete` with reply.is_error(): only bytes that are not RESP
/// make `error`.
struct DecodeResult {
    DecodeStatus status = DecodeStatus::incomplete;
    /// complete: the bytes the reply took, from the start of the input; the
    /// caller drops them and feeds the rest. Otherwise 0.
    std::size_t consumed = 0;
    /// complete: the reply. Otherwise null.
    Reply reply;
    /// error: what was wrong and at which byte of the reply. Otherwise empty.
    std::string message;

    bool complete() const noexcept { return status == DecodeStatus::complete; }
    bool incomplete() const noexcept { return status == DecodeStatus::incomplete; }
    bool error() const noexcept { return status == DecodeStatus::error; }
};

/// Decodes one reply at a time from a contiguous buffer the caller owns
/// (picohttpparser's model): feed() is given all bytes not yet consumed, from
/// the start of the reply, and says complete (with the bytes to drop),
/// incomplete or error. After `incomplete` the caller appends what the socket
/// brings and feeds the whole again: the decoder resumes where it stopped
/// (it keeps the offset it reached, the aggregates built so far and where its
/// line search stopped, never pointers into the buffer, which may move), so a
/// reply of N bytes fed in k pieces costs O(N + k), not O(N x k). Between
/// calls the bytes already fed must not change; input shorter than before is
/// reported as an error.
///
/// Errors are sticky: after one, feed() returns it again until reset(). Never
/// suspends, never throws except std::bad_alloc. Not thread-safe; one per
/// connection. redis-py: `hiredis.Reader` / `_RESP3Parser`.
class Decoder {
public:
    /// A decoder with `limits`.
    explicit Decoder(DecoderLimits limits = {});

    /// Decodes from `input`, which starts at the first byte of the reply in
    /// progress (or of the next one) and holds every byte received since.
    /// Decoding `+OK\r\n`, `:1\r\n` or `$3\r\nxxx\r\n` allocates nothing
    /// beyond the reply's own string (none under 16 bytes); an aggregate
    /// allocates its element vector. See DecodeResult for what comes back.
    DecodeResult feed(std::string_view input);

    /// Forgets the reply in progress and any error: the next feed() starts a
    /// new reply. A connection that reconnects calls it.
    void reset() noexcept;

    /// True while a reply is partially decoded (a connection closed now cut a
    /// reply short).
    bool in_progress() const noexcept {
        return pos_ > 0 || scan_ > 0 || !frames_.empty() || in_bulk_;
    }
    /// True after an error, until reset().
    bool failed() const noexcept { return !error_.empty(); }
    const DecoderLimits& limits() const noexcept { return limits_; }

private:
    /// An aggregate being filled. `remaining` counts the elements still to
    /// come (a map's or attribute's entries count twice: key and value).
    struct Frame {
        Reply value;
        std::uint64_t remaining;
        bool attribute;
    };
    enum class Step : std::uint8_t { value, opened, incomplete, error };

    Step parse_value(std::string_view in, Reply& out);
    Step parse_line(std::string_view in, std::size_t& eol);
    Step parse_length(std::string_view in, char type, std::string_view line, std::size_t at,
                      Reply& out);
    Step parse_payload(std::string_view in, Reply& out);
    Step open_aggregate(std::string_view in, char type, std::uint64_t count, std::size_t at,
                        Reply& out);
    void adopt_attributes(Reply& value) noexcept;
    bool attach(Reply& value);
    Step line_too_long(std::uint64_t limit);
    Step fail(std::size_t at, std::string what);

    // State between feeds. The input's first pos_ bytes are decoded: their
    // values sit in frames_ (outermost first) and attributes_ (an attribute
    // waiting for the value it belongs to; moved into that value as soon as
    // its first line is read). in_bulk_: a bulk header was read, its payload
    // (bulk_length_ bytes and CRLF at pos_) was not all there. scan_: within
    // the line starting at pos_, the bytes before scan_ hold no CRLF.
    DecoderLimits limits_;
    std::vector<Frame> frames_;
    std::unique_ptr<std::vector<Reply>> attributes_;
    std::size_t pos_ = 0;
    std::size_t scan_ = 0;
    std::uint64_t bulk_length_ = 0;
    Reply::Type bulk_type_ = Reply::Type::bulk_string;
    bool in_bulk_ = false;
    std::string error_;
};

// -- Encoding -----------------------------------------------------------------

namespace detail {

/// Room for any number's text: int64/uint64 (20), a shortest double (24).
inline constexpr std::size_t number_chars = 32;

/// Writes the shortest text that reads back as `v` ("1.5", "1e+300"), "inf",
/// "-inf" or "nan" into `buf`; returns its length.
template <class F>
std::size_t format_double(char (&buf)[number_chars], F v) noexcept {
    if (std::isnan(v)) {
        std::memcpy(buf, "nan", 3);
        return 3;
    }
    return static_cast<std::size_t>(std::to_chars(buf, buf + number_chars, v).ptr - buf);
}

inline std::size_t decimal_digits(std::uint64_t v) noexcept {
    std::size_t n = 1;
    while (v >= 10) {
        v /= 10;
        ++n;
    }
    return n;
}

/// Bytes of "<type><n>\r\n".
inline std::size_t header_size(std::uint64_t n) noexcept {
    return 1 + decimal_digits(n) + 2;
}
/// Bytes of a bulk string of `len` bytes: "$<len>\r\n<payload>\r\n".
inline std::size_t bulk_size(std::size_t len) noexcept {
    return header_size(len) + len + 2;
}
// GCC 12 at -O2/-O3 takes the buffer these write into for a std::string's
// 15-byte inline storage when the string grew in the same inlined call
// (append_begin resizes it first), and warns -Wstringop-overflow for writes
// that are in bounds (a known false positive). The sizes are computed
// exactly above; encode_command asserts the end.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif
inline char* write_header(char* p, char type, std::uint64_t n) noexcept {
    *p++ = type;
    p = std::to_chars(p, p + 20, n).ptr;
    *p++ = '\r';
    *p++ = '\n';
    return p;
}
inline char* write_bulk(char* p, std::string_view s) noexcept {
    p = write_header(p, '$', s.size());
    if (!s.empty()) {
        std::memcpy(p, s.data(), s.size());
    }
    p += s.size();
    *p++ = '\r';
    *p++ = '\n';
    return p;
}
inline char* write_raw(char* p, std::string_view s) noexcept {
    if (!s.empty()) {
        std::memcpy(p, s.data(), s.size());
    }
    return p + s.size();
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

template <class T>
concept byte_like =
    std::same_as<T, std::byte> || std::same_as<T, unsigned char> || std::same_as<T, char>;

/// ArgTraits<T> encodes one command argument of type T, which may stand for
/// several RESP arguments (a pair, a range): count() of them, size() bytes in
/// all, write() them at p and return the end. size() validates (it throws
/// before anything is written); write() cannot fail.
template <class T>
struct ArgTraits;

template <class T>
concept command_arg_impl = requires {
    typename ArgTraits<T>::is_command_arg;
};

// Strings: std::string, std::string_view, string literals, const char*.
template <class T>
requires std::convertible_to<const T&, std::string_view>
struct ArgTraits<T> {
    using is_command_arg = void;
    static std::size_t count(const T&) noexcept { return 1; }
    static std::size_t size(const T& v) { return bulk_size(std::string_view(v).size()); }
    static char* write(char* p, const T& v) noexcept { return write_bulk(p, std::string_view(v)); }
};

// Byte blobs: contiguous ranges of std::byte, unsigned char (std::uint8_t) or
// char that are not strings (std::vector<std::uint8_t>, std::span<const
// std::byte>, std::vector<char>).
template <class T>
requires(!std::convertible_to<const T&, std::string_view> &&
         std::ranges::contiguous_range<const T> && std::ranges::sized_range<const T> &&
         byte_like<std::remove_cv_t<std::ranges::range_value_t<const T>>>) struct ArgTraits<T> {
    using is_command_arg = void;
    static std::string_view view(const T& v) noexcept {
        return {reinterpret_cast<const char*>(std::ranges::data(v)),
                static_cast<std::size_t>(std::ranges::size(v))};
    }
    static std::size_t count(const T&) noexcept { return 1; }
    static std::size_t size(const T& v) noexcept { return bulk_size(view(v).size()); }
    static char* write(char* p, const T& v) noexcept { return write_bulk(p, view(v)); }
};

template <class T>
concept integer_arg = std::integral<T> && !std::same_as<T, bool> && !std::same_as<T, char> &&
                      !std::same_as<T, wchar_t> && !std::same_as<T, char8_t> &&
                      !std::same_as<T, char16_t> && !std::same_as<T, char32_t>;

// Integers, in decimal.
template <integer_arg T>
struct ArgTraits<T> {
    using is_command_arg = void;
    static std::size_t count(T) noexcept { return 1; }
    static std::size_t size(T v) noexcept {
        char buf[number_chars];
        return bulk_size(
            static_cast<std::size_t>(std::to_chars(buf, buf + number_chars, v).ptr - buf));
    }
    static char* write(char* p, T v) noexcept {
        char buf[number_chars];
        std::size_t n =
            static_cast<std::size_t>(std::to_chars(buf, buf + number_chars, v).ptr - buf);
        return write_bulk(p, {buf, n});
    }
};

// float and double: the shortest text that reads back the same ("0.1",
// "1e+300"), "inf", "-inf", as redis-py's repr(float). NaN is refused.
template <class T>
requires(std::same_as<T, float> || std::same_as<T, double>) struct ArgTraits<T> {
    using is_command_arg = void;
    static std::size_t count(T) noexcept { return 1; }
    static std::size_t size(T v) {
        if (std::isnan(v)) {
            throw std::invalid_argument(
                "encode_command: a NaN argument (Redis refuses NaN as a number; pass the string "
                "\"nan\" if a string is meant)");
        }
        char buf[number_chars];
        return bulk_size(format_double(buf, v));
    }
    static char* write(char* p, T v) noexcept {
        char buf[number_chars];
        return write_bulk(p, {buf, format_double(buf, v)});
    }
};

template <class T>
struct is_pair : std::false_type {};
template <class A, class B>
struct is_pair<std::pair<A, B>> : std::true_type {};

// std::pair: its two members, in order (a field and its value; the
// elements of a std::map).
template <class T>
requires(is_pair<T>::value&& command_arg_impl<std::remove_cvref_t<typename T::first_type>>&&
             command_arg_impl<std::remove_cvref_t<typename T::second_type>>) struct ArgTraits<T> {
    using is_command_arg = void;
    using First = ArgTraits<std::remove_cvref_t<typename T::first_type>>;
    using Second = ArgTraits<std::remove_cvref_t<typename T::second_type>>;
    static std::size_t count(const T& v) noexcept {
        return First::count(v.first) + Second::count(v.second);
    }
    static std::size_t size(const T& v) { return First::size(v.first) + Second::size(v.second); }
    static char* write(char* p, const T& v) noexcept {
        return Second::write(First::write(p, v.first), v.second);
    }
};

// Other forward ranges of arguments, spliced in (Python's *args):
// std::vector<std::string>, std::map<std::string, std::string>, ...
template <class T>
requires(!std::convertible_to<const T&, std::string_view> && !is_pair<T>::value &&
         std::ranges::forward_range<const T> &&
         !byte_like<std::remove_cv_t<std::ranges::range_value_t<const T>>> &&
         command_arg_impl<
             std::remove_cvref_t<std::ranges::range_value_t<const T>>>) struct ArgTraits<T> {
    using is_command_arg = void;
    using Element = ArgTraits<std::remove_cvref_t<std::ranges::range_value_t<const T>>>;
    static std::size_t count(const T& v) noexcept {
        std::size_t n = 0;
        for (const auto& e : v) {
            n += Element::count(e);
        }
        return n;
    }
    static std::size_t size(const T& v) {
        std::size_t n = 0;
        for (const auto& e : v) {
            n += Element::size(e);
        }
        return n;
    }
    static char* write(char* p, const T& v) noexcept {
        for (const auto& e : v) {
            p = Element::write(p, e);
        }
        return p;
    }
};

/// Command arguments encoded ahead of time (`count` bulk strings in
/// `bytes`), spliced into a later command as they are: a script's keys and
/// arguments, which EVALSHA sends and, after NOSCRIPT, EVAL again.
struct EncodedArgs {
    std::string bytes;
    std::size_t count = 0;

    /// Encodes `args` as encode_command would (and throws as it does).
    template <class... Ts>
    static EncodedArgs of(const Ts&... args) {
        EncodedArgs e;
        e.count = (std::size_t{0} + ... + ArgTraits<Ts>::count(args));
        e.bytes.resize((std::size_t{0} + ... + ArgTraits<Ts>::size(args)));
        char* p = e.bytes.data();
        ((p = ArgTraits<Ts>::write(p, args)), ...);
        return e;
    }
};

template <>
struct ArgTraits<EncodedArgs> {
    using is_command_arg = void;
    static std::size_t count(const EncodedArgs& e) noexcept { return e.count; }
    static std::size_t size(const EncodedArgs& e) noexcept { return e.bytes.size(); }
    static char* write(char* p, const EncodedArgs& e) noexcept { return write_raw(p, e.bytes); }
};

/// Room for `n` bytes at the end of `out`, to be filled and then committed.
template <class B>
char* append_begin(B& out, std::size_t n) {
    if constexpr (requires {
                      { out.reserve(n) } -> std::same_as<char*>;
                  }) {
        return out.reserve(n);
    } else {
        std::size_t old = out.size();
        out.resize(old + n);
        return out.data() + old;
    }
}
template <class B>
void append_end(B& out, std::size_t n) {
    if constexpr (requires {
                      { out.reserve(n) } -> std::same_as<char*>;
                  }) {
        out.commit(n);
    }
}

}  // namespace detail

/// A type encode_command accepts as an argument: a string (std::string,
/// std::string_view, a literal, const char*), a byte blob (a contiguous range
/// of std::byte, unsigned char or char: std::vector<std::uint8_t>,
/// std::span<const std::byte>), an integer (not bool or char), a float or
/// double, a std::pair of arguments, or a forward range of arguments
/// (spliced in: std::vector<std::string>, std::map<std::string, int>).
template <class T>
concept command_arg = detail::command_arg_impl<std::remove_cvref_t<T>>;

/// An output buffer encode_command appends to: either a buffer with
/// `char* reserve(n)` (room for n bytes at its end) and `commit(n)` (the
/// connection's write buffer), or a contiguous char container with size(),
/// resize() and data() (std::string, std::vector<char>).
template <class B>
concept write_buffer = requires(B& b, std::size_t n) {
    { b.reserve(n) } -> std::same_as<char*>;
    b.commit(n);
}
|| requires(B& b, std::size_t n) {
    b.resize(n);
    { b.size() } -> std::convertible_to<std::size_t>;
    { b.data() } -> std::same_as<char*>;
};

/// Appends one command to `out` as Redis reads commands: an array of bulk
/// strings, `*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n42\r\n` for
/// encode_command(out, "SET", "k", 42). Arguments of mixed types (see
/// command_arg) are written straight into `out`, which grows once per
/// command; no temporary string is made for any argument. Ranges and pairs
/// are spliced: encode_command(out, "HSET", key, fields) with a std::map.
/// Returns the bytes appended. Throws std::invalid_argument for a NaN
/// argument or a command of no arguments (nothing is appended then), and
/// whatever growing `out` throws. Never suspends. Calling it again appends
/// the next command: that is a pipeline (see also encode_commands).
/// redis-py: `Connection.pack_command`.
template <write_buffer B, command_arg... Args>
std::size_t encode_command(B& out, const Args&... args) {
    const std::size_t count = (std::size_t{0} + ... + detail::ArgTraits<Args>::count(args));
    if (count == 0) {
        throw std::invalid_argument("encode_command: a command needs at least one argument");
    }
    const std::size_t total =
        (detail::header_size(count) + ... + detail::ArgTraits<Args>::size(args));
    char* p = detail::append_begin(out, total);
    [[maybe_unused]] char* const end = p + total;
    p = detail::write_header(p, '*', count);
    ((p = detail::ArgTraits<Args>::write(p, args)), ...);
    assert(p == end);
    detail::append_end(out, total);
    return total;
}

/// Appends every command of `commands` back to back (a pipeline): each
/// element is one command's arguments, a range or pair of command arguments
/// (std::vector<std::vector<std::string>>, a vector of std::array<std::string_view, 3>).
/// `out` grows once for all of them. Returns the number of commands, which
/// is the number of replies to read back. Throws std::invalid_argument if
/// any command has no arguments or a NaN (nothing is appended then). Never
/// suspends. redis-py: `Connection.pack_commands`.
template <write_buffer B, std::ranges::forward_range R>
requires command_arg<std::ranges::range_value_t<const R>> std::size_t encode_commands(
    B& out, const R& commands) {
    using Traits = detail::ArgTraits<std::remove_cvref_t<std::ranges::range_value_t<const R>>>;
    std::size_t total = 0;
    std::size_t n = 0;
    for (const auto& command : commands) {
        std::size_t count = Traits::count(command);
        if (count == 0) {
            throw std::invalid_argument("encode_commands: a command needs at least one argument");
        }
        total += detail::header_size(count) + Traits::size(command);
        ++n;
    }
    char* p = detail::append_begin(out, total);
    [[maybe_unused]] char* const end = p + total;
    for (const auto& command : commands) {
        p = detail::write_header(p, '*', Traits::count(command));
        p = Traits::write(p, command);
    }
    assert(p == end);
    detail::append_end(out, total);
    return n;
}

/// Appends `reply` to `out` in RESP3, attributes first: what a server would
/// send (for fakes of a server in tests, proxies, caches). Decoding the bytes
/// gives a reply equal to `reply`. Throws std::invalid_argument if a simple
/// string or simple error contains "\r\n" (it cannot be sent as one; use a
/// bulk string). Never suspends.
void encode_reply(std::string& out, const Reply& reply);

}  // namespace corio::redis
