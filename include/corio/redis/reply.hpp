// corio/redis/reply.hpp - Reply, one value decoded from RESP3 (or RESP2), and
// MapView, the key/value pairs of a map reply.
//
// A Reply is what redis-py's parser hands back as a Python object (bytes,
// int, float, bool, None, list, dict, set, ResponseError), as one C++ value
// type with a type tag. Two families of accessors:
//   as_X()  the value exactly as the server sent it: as_integer() of a bulk
//           string "5" is a ReplyTypeError;
//   to_X()  a conversion that accepts the RESP2 and RESP3 forms of the same
//           answer: to_integer() of "5" is 5, to_string_map() reads HGETALL's
//           RESP2 flat array and its RESP3 map; to<T>() composes them
//           (std::optional<T>, std::vector<T>, std::map<K, V>, ...).
// Both throw ReplyError when the reply is an error reply, ReplyTypeError when
// it has another type. Moving from a reply moves its strings out:
// std::move(r).to_string_vector() copies no payload. Nothing here suspends
// or touches a loop, so cancellation never applies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "corio/redis/errors.hpp"

namespace corio::redis {

class Reply;

namespace detail {
template <class T>
struct FromReply;
template <class M, class K, class V>
struct FromReplyMap;
}  // namespace detail

/// The key/value pairs of a map reply, of an attribute, or of a RESP2 array
/// read as a map (HGETALL's flat key, value, key, value ... form), in the
/// server's order, duplicates kept. A view: valid while the Reply lives and is
/// not modified. Iterating yields std::pair<const Reply&, const Reply&>, so
/// `for (const auto& [key, value] : reply.as_map())` works. Never throws.
/// redis-py: the dict its RESP3 parser builds.
class MapView {
public:
    using value_type = std::pair<const Reply&, const Reply&>;

    /// Iterates the entries in order (a random-access iterator over pairs).
    class iterator {
    public:
        using iterator_category = std::random_access_iterator_tag;
        using value_type = MapView::value_type;
        using difference_type = std::ptrdiff_t;
        using reference = value_type;

        iterator() noexcept = default;
        explicit iterator(const Reply* at) noexcept : at_(at) {}
        value_type operator*() const noexcept;
        value_type operator[](difference_type n) const noexcept { return *(*this + n); }
        iterator& operator++() noexcept { return *this += 1; }
        iterator operator++(int) noexcept {
            iterator old = *this;
            *this += 1;
            return old;
        }
        iterator& operator--() noexcept { return *this -= 1; }
        iterator operator--(int) noexcept {
            iterator old = *this;
            *this -= 1;
            return old;
        }
        iterator& operator+=(difference_type n) noexcept;
        iterator& operator-=(difference_type n) noexcept { return *this += -n; }
        friend iterator operator+(iterator it, difference_type n) noexcept { return it += n; }
        friend iterator operator+(difference_type n, iterator it) noexcept { return it += n; }
        friend iterator operator-(iterator it, difference_type n) noexcept { return it -= n; }
        friend difference_type operator-(const iterator& a, const iterator& b) noexcept;
        friend bool operator==(const iterator&, const iterator&) noexcept = default;
        friend auto operator<=>(const iterator&, const iterator&) noexcept = default;

    private:
        const Reply* at_ = nullptr;  // the key of the current entry
    };

    /// An empty view.
    MapView() noexcept = default;
    /// A view of `entries` pairs stored flat (key, value, key, value ...)
    /// from `first`.
    MapView(const Reply* first, std::size_t entries) noexcept : first_(first), size_(entries) {}

    /// The number of key/value pairs.
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    /// The i-th pair; `i` must be below size().
    value_type operator[](std::size_t i) const noexcept;
    iterator begin() const noexcept { return iterator(first_); }
    iterator end() const noexcept;
    /// The value of the first entry whose key is a string (simple, bulk or
    /// verbatim) equal to `key`, or nullptr. Linear: maps from Redis are
    /// small (HELLO, XINFO, CLIENT TRACKINGINFO); convert big ones with
    /// Reply::to_unordered_string_map().
    const Reply* find(std::string_view key) const noexcept;

private:
    const Reply* first_ = nullptr;
    std::size_t size_ = 0;
};

/// One RESP3 value, with its attributes if the server sent any. Copyable and
/// cheaply movable; 48 bytes plus its payload. Every RESP2 reply is one of
/// these too (RESP2 has no map, set, double, boolean ... : the server sends
/// those as arrays, bulk strings and integers, which the to_X() conversions
/// accept). redis-py: the objects its RESP2/RESP3 parsers return.
class Reply {
public:
    /// The RESP3 types (the byte that starts each on the wire in brackets).
    /// RESP2's null bulk string ($-1) and null array (*-1) are `null`.
    enum class Type : std::uint8_t {
        null,             // _
        simple_string,    // +
        simple_error,     // -
        integer,          // :
        double_,          // ,   (inf, -inf and nan included)
        boolean,          // #
        big_number,       // (   decimal digits, kept as text
        bulk_string,      // $
        bulk_error,       // !
        verbatim_string,  // =   text plus a 3-character format ("txt", "mkd")
        array,            // *
        map,              // %
        set,              // ~
        push,             // >   out-of-band: pub/sub messages, tracking invalidations
    };

    /// A null reply. Never throws.
    Reply() noexcept : integer_(0) {}
    Reply(const Reply& other);
    Reply(Reply&& other) noexcept;
    Reply& operator=(const Reply& other);
    Reply& operator=(Reply&& other) noexcept;
    ~Reply();

    // -- Building replies (tests, fakes of a server, encode_reply) ----------

    /// RESP3 null (RESP2's $-1 and *-1 decode to this too).
    static Reply null() noexcept { return Reply(); }
    /// A simple string (+OK).
    static Reply simple_string(std::string text) {
        return Reply(Type::simple_string, std::move(text));
    }
    /// A simple error (-ERR ...): the whole message, prefix included.
    static Reply simple_error(std::string message) {
        return Reply(Type::simple_error, std::move(message));
    }
    /// An integer (:1).
    static Reply integer(std::int64_t value) noexcept;
    /// A double (,1.5), including infinities and NaN.
    static Reply double_(double value) noexcept;
    /// A boolean (#t, #f).
    static Reply boolean(bool value) noexcept;
    /// A big number ((1234...) from its decimal text: an optional sign and at
    /// least one digit, else std::invalid_argument.
    static Reply big_number(std::string digits);
    /// A bulk string ($3 xxx): any bytes.
    static Reply bulk_string(std::string bytes) {
        return Reply(Type::bulk_string, std::move(bytes));
    }
    /// A bulk error (!...): the whole message, prefix included.
    static Reply bulk_error(std::string message) {
        return Reply(Type::bulk_error, std::move(message));
    }
    /// A verbatim string (=...): `format` is exactly 3 characters ("txt",
    /// "mkd"), else std::invalid_argument.
    static Reply verbatim_string(std::string_view format, std::string text);
    /// An array (*).
    static Reply array(std::vector<Reply> elements) {
        return Reply(Type::array, std::move(elements));
    }
    /// A set (~), in the given order.
    static Reply set(std::vector<Reply> elements) { return Reply(Type::set, std::move(elements)); }
    /// A push (>): its first element names its kind ("message", "invalidate").
    static Reply push(std::vector<Reply> elements) {
        return Reply(Type::push, std::move(elements));
    }
    /// A map (%), in the given order.
    static Reply map(std::vector<std::pair<Reply, Reply>> entries);
    /// This reply with `entries` as its attributes (|), replacing any.
    Reply with_attributes(std::vector<std::pair<Reply, Reply>> entries) &&;

    // -- What it is ---------------------------------------------------------

    Type type() const noexcept { return type_; }
    /// RESP3 null, or RESP2's null bulk string or null array.
    bool is_null() const noexcept { return type_ == Type::null; }
    /// A simple or bulk error.
    bool is_error() const noexcept {
        return type_ == Type::simple_error || type_ == Type::bulk_error;
    }
    /// A simple, bulk or verbatim string.
    bool is_string() const noexcept {
        return type_ == Type::simple_string || type_ == Type::bulk_string ||
               type_ == Type::verbatim_string;
    }
    bool is_integer() const noexcept { return type_ == Type::integer; }
    bool is_double() const noexcept { return type_ == Type::double_; }
    bool is_boolean() const noexcept { return type_ == Type::boolean; }
    bool is_big_number() const noexcept { return type_ == Type::big_number; }
    /// An array, set or push: a sequence of replies (as_array() reads them).
    bool is_array() const noexcept {
        return type_ == Type::array || type_ == Type::set || type_ == Type::push;
    }
    bool is_map() const noexcept { return type_ == Type::map; }
    bool is_set() const noexcept { return type_ == Type::set; }
    /// An out-of-band push (pub/sub message, client-tracking invalidation).
    bool is_push() const noexcept { return type_ == Type::push; }

    // -- Exact accessors: throw ReplyError on an error reply, ReplyTypeError
    //    on any other type than the ones named --------------------------------

    /// The text of a simple, bulk or verbatim string (without the verbatim
    /// format). The && form moves it out.
    const std::string& as_string() const&;
    std::string as_string() &&;
    /// The value of an integer reply.
    std::int64_t as_integer() const;
    /// The value of a double reply.
    double as_double() const;
    /// The value of a boolean reply.
    bool as_bool() const;
    /// The decimal text of a big number reply.
    const std::string& as_big_number() const;
    /// The elements of an array, set or push. The && form moves them out.
    const std::vector<Reply>& as_array() const&;
    std::vector<Reply> as_array() &&;
    /// The pairs of a map reply, or of an array of even length read as
    /// key, value, key, value ... (RESP2's form of HGETALL, CONFIG GET ...).
    MapView as_map() const;
    /// The 3-character format of a verbatim string ("txt", "mkd").
    std::string_view verbatim_format() const;
    /// The message of a simple or bulk error, without throwing it;
    /// ReplyTypeError for any other type.
    const std::string& as_error() const;
    /// Throws ReplyError if this is an error reply; does nothing otherwise.
    void throw_if_error() const;

    /// The attributes (|) the server sent before this reply, or an empty view.
    MapView attributes() const noexcept;
    bool has_attributes() const noexcept { return attributes_ != nullptr; }

    // -- Conversions across RESP2 and RESP3 forms: throw ReplyError on an error
    //    reply, ReplyTypeError when the reply cannot be read as asked ----------

    /// A simple, bulk or verbatim string's text, a big number's digits, an
    /// integer or double in decimal (doubles as the shortest text that reads
    /// back the same; inf, -inf, nan). Null is a ReplyTypeError: use
    /// to_optional_string(). redis-py: `bytes` (decoded).
    std::string to_string() const&;
    std::string to_string() &&;
    /// std::nullopt for null (GET of a missing key), else to_string().
    std::optional<std::string> to_optional_string() const&;
    std::optional<std::string> to_optional_string() &&;
    /// An integer; a boolean as 0/1; a string or big number holding a decimal
    /// integer that fits in 64 bits (RESP2 sends some numbers as bulk strings).
    std::int64_t to_integer() const;
    /// A double; an integer; a string holding a number ("3.5", "inf", as
    /// ZSCORE answers in RESP2).
    double to_double() const;
    /// A boolean; an integer (0 is false, anything else true; RESP2's form).
    bool to_bool() const;
    /// Each element (array, set or push) through to_string(): KEYS, LRANGE,
    /// SMEMBERS. A null element is a ReplyTypeError: use
    /// to_optional_string_vector() for MGET.
    std::vector<std::string> to_string_vector() const&;
    std::vector<std::string> to_string_vector() &&;
    /// Each element through to_optional_string(): MGET, HMGET.
    std::vector<std::optional<std::string>> to_optional_string_vector() const&;
    std::vector<std::optional<std::string>> to_optional_string_vector() &&;
    /// A map, or a flat array of even length, as std::map: HGETALL,
    /// CONFIG GET in RESP2 and RESP3. A later duplicate key replaces an
    /// earlier one (Python's dict(...)).
    std::map<std::string, std::string> to_string_map() const&;
    std::map<std::string, std::string> to_string_map() &&;
    /// The same as an unordered_map (no ordering, faster for large hashes).
    std::unordered_map<std::string, std::string> to_unordered_string_map() const&;
    std::unordered_map<std::string, std::string> to_unordered_string_map() &&;

    /// The reply as T: Reply itself, std::string, bool, any integral type
    /// (ReplyTypeError if the value does not fit), float or double,
    /// std::optional<T> (null is std::nullopt), std::vector<T>, std::map<K, V>
    /// and std::unordered_map<K, V> (from a map or a flat array), nested freely
    /// (std::vector<std::optional<std::string>> for MGET). The && form moves
    /// payloads out.
    template <class T>
    T to() const& {
        return detail::FromReply<T>::get(*this);
    }
    template <class T>
    T to() && {
        return detail::FromReply<T>::get(std::move(*this));
    }

    /// Deep equality: type, value, verbatim format and attributes (no
    /// attributes equals empty attributes). A NaN double equals a NaN double,
    /// so a decoded reply equals itself re-decoded.
    friend bool operator==(const Reply& a, const Reply& b) noexcept;

    /// A one-line, readable rendering for logs and test failures, in the
    /// style of redis-cli: "OK", (integer) 1, (nil), ["a", "b"], {"k": "v"}.
    std::string repr() const;
    /// Writes repr().
    friend std::ostream& operator<<(std::ostream& os, const Reply& r);

private:
    template <class T>
    friend struct detail::FromReply;
    template <class M, class K, class V>
    friend struct detail::FromReplyMap;
    friend class Decoder;

    Reply(Type type, std::string text) noexcept : type_(type), string_(std::move(text)) {}
    Reply(Type type, std::vector<Reply> elements) noexcept
        : type_(type), elements_(std::move(elements)) {}

    enum class Storage : std::uint8_t { none, integer, number, boolean, string, elements };
    static Storage storage_of(Type type) noexcept;
    void destroy() noexcept;
    void construct_from(const Reply& other);
    void construct_from(Reply&& other) noexcept;
    /// Throws ReplyError for an error reply, else ReplyTypeError naming `fn`.
    [[noreturn]] void wrong_type(const char* fn) const;
    /// The flat key/value storage of a map or even-length array, else throws.
    const std::vector<Reply>& flat_map(const char* fn) const;
    std::vector<Reply>& flat_map(const char* fn);

    // Invariant: exactly the union member storage_of(type_) is alive (none for
    // null). A map keeps its entries flat in elements_ (2 x size, key first).
    Type type_ = Type::null;
    char format_[3] = {};  // verbatim_string only
    union {
        std::int64_t integer_;
        double number_;
        bool boolean_;
        std::string string_;
        std::vector<Reply> elements_;
    };
    std::unique_ptr<std::vector<Reply>> attributes_;  // flat, like a map; never empty
};

/// The name of a reply type, as spelled in Reply::Type ("bulk_string").
std::string_view type_name(Reply::Type type) noexcept;

// -- MapView inline members (they need Reply complete) ----------------------

inline MapView::value_type MapView::iterator::operator*() const noexcept {
    return {at_[0], at_[1]};
}
inline MapView::iterator& MapView::iterator::operator+=(difference_type n) noexcept {
    at_ += 2 * n;
    return *this;
}
inline MapView::iterator::difference_type operator-(const MapView::iterator& a,
                                                    const MapView::iterator& b) noexcept {
    return (a.at_ - b.at_) / 2;
}
inline MapView::value_type MapView::operator[](std::size_t i) const noexcept {
    return {first_[2 * i], first_[2 * i + 1]};
}
inline MapView::iterator MapView::end() const noexcept {
    return iterator(first_ + 2 * size_);
}

// -- Reply::to<T> ------------------------------------------------------------

namespace detail {

/// FromReply<T>::get(const Reply&) and get(Reply&&) convert a reply to T; one
/// specialisation per supported T (see Reply::to).
template <class T>
struct FromReply {
    static_assert(sizeof(T) == 0,
                  "Reply::to<T>: T must be Reply, std::string, bool, an integer or floating type, "
                  "or std::optional / std::vector / std::map / std::unordered_map of those");
};

template <>
struct FromReply<Reply> {
    static Reply get(const Reply& r) { return r; }
    static Reply get(Reply&& r) { return std::move(r); }
};

template <>
struct FromReply<std::string> {
    static std::string get(const Reply& r) { return r.to_string(); }
    static std::string get(Reply&& r) { return std::move(r).to_string(); }
};

template <>
struct FromReply<bool> {
    static bool get(const Reply& r) { return r.to_bool(); }
};

[[noreturn]] void integer_out_of_range(std::int64_t value, const char* type);

template <class T>
requires(std::is_integral_v<T> && !std::is_same_v<T, bool>) struct FromReply<T> {
    static T get(const Reply& r) {
        std::int64_t v = r.to_integer();
        if constexpr (std::is_signed_v<T>) {
            if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) {
                integer_out_of_range(v, "a signed integer type");
            }
        } else {
            if (v < 0 || static_cast<std::uint64_t>(v) > std::numeric_limits<T>::max()) {
                integer_out_of_range(v, "an unsigned integer type");
            }
        }
        return static_cast<T>(v);
    }
};

template <class T>
requires std::is_floating_point_v<T>
struct FromReply<T> {
    static T get(const Reply& r) { return static_cast<T>(r.to_double()); }
};

template <class T>
struct FromReply<std::optional<T>> {
    template <class R>
    static std::optional<T> get(R&& r) {
        if (r.is_null()) {
            return std::nullopt;
        }
        return FromReply<T>::get(std::forward<R>(r));
    }
};

template <class T, class A>
struct FromReply<std::vector<T, A>> {
    static std::vector<T, A> get(const Reply& r) {
        const std::vector<Reply>& elements = r.as_array();
        std::vector<T, A> out;
        out.reserve(elements.size());
        for (const Reply& e : elements) {
            out.push_back(FromReply<T>::get(e));
        }
        return out;
    }
    static std::vector<T, A> get(Reply&& r) {
        r.as_array();  // throws unless a sequence
        std::vector<T, A> out;
        out.reserve(r.elements_.size());
        for (Reply& e : r.elements_) {
            out.push_back(FromReply<T>::get(std::move(e)));
        }
        return out;
    }
};

/// Shared by std::map and std::unordered_map: later keys replace earlier ones.
template <class M, class K, class V>
struct FromReplyMap {
    static M get(const Reply& r) {
        const std::vector<Reply>& flat = r.flat_map("to<map>");
        M out;
        for (std::size_t i = 0; i < flat.size(); i += 2) {
            out.insert_or_assign(FromReply<K>::get(flat[i]), FromReply<V>::get(flat[i + 1]));
        }
        return out;
    }
    static M get(Reply&& r) {
        std::vector<Reply>& flat = r.flat_map("to<map>");
        M out;
        for (std::size_t i = 0; i < flat.size(); i += 2) {
            out.insert_or_assign(FromReply<K>::get(std::move(flat[i])),
                                 FromReply<V>::get(std::move(flat[i + 1])));
        }
        return out;
    }
};

template <class K, class V, class C, class A>
struct FromReply<std::map<K, V, C, A>> : FromReplyMap<std::map<K, V, C, A>, K, V> {};

template <class K, class V, class H, class E, class A>
struct FromReply<std::unordered_map<K, V, H, E, A>>
    : FromReplyMap<std::unordered_map<K, V, H, E, A>, K, V> {};

}  // namespace detail

}  // namespace corio::redis
