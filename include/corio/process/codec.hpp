// corio/process/codec.hpp - the binary codec that carries arguments and
// results between processes.
//
// Python pickles whatever it sends to a worker process; C++ cannot, so
// corio::process encodes values of known types with a small binary codec
// (sans-I/O: bytes in, values out). It covers arithmetic types and enums,
// std::string, std::vector, std::array, std::map/std::unordered_map,
// std::set, std::pair, std::tuple, std::optional, std::variant,
// std::monostate, std::chrono::duration, and user structs that list their
// fields with CORIO_PROCESS_FIELDS.
//
// Format (little-endian, no padding, no type tags: both sides know the type):
//   bool              1 byte, 0 or 1
//   integers, chars   sizeof(T) bytes, two's complement
//   float, double     their IEEE-754 bits, sizeof(T) bytes
//   enum              as its underlying type
//   lengths, counts   unsigned LEB128 (1 byte below 128, at most 10)
//   string            length, bytes
//   vector, set, map  count, elements (a map's as key, value)
//   array, tuple, pair, struct fields: the elements in order
//   optional          1 byte (0 empty, 1 present), then the value
//   std::monostate    1 zero byte
//   variant           index (LEB128), then the alternative
// decode(encode(v)) == v. Every value has exactly one encoding (no overlong
// lengths, bool is 0 or 1), so encode(decode(bytes)) == bytes too, except
// for std::unordered_map, whose entries follow its iteration order.
//
// Decoding never reads past its input and never trusts a declared count
// beyond the bytes left: truncated or malformed input throws CodecError
// naming what it was reading and where.
#pragma once

#include <array>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "corio/errors.hpp"

static_assert(std::endian::native == std::endian::little,
              "corio::process's codec copies little-endian integers as they are");

/// Declares a struct's fields for the codec, inside the struct:
///   struct Point { int x; int y; std::string label; CORIO_PROCESS_FIELDS(x, y, label) };
/// The struct must be default-constructible; the fields are encoded in the
/// order given.
#define CORIO_PROCESS_FIELDS(...)     \
    auto corio_fields() {             \
        return std::tie(__VA_ARGS__); \
    }                                 \
    auto corio_fields() const {       \
        return std::tie(__VA_ARGS__); \
    }

namespace corio::process {

/// Input the codec cannot decode: truncated, malformed (a bool byte of 2, an
/// overlong length, a count beyond the bytes left, bytes left over), or
/// nested deeper than DecodeLimits::max_depth.
class CodecError : public Error {
public:
    using Error::Error;
};

/// Limits the decoder enforces on untrusted input.
struct DecodeLimits {
    /// Nesting of containers and structs (a recursive user type could
    /// otherwise exhaust the stack).
    std::size_t max_depth = 256;
};

/// Appends encodings to a string.
class Writer {
public:
    explicit Writer(std::string& out) : out_(&out) {}
    void raw(const void* p, std::size_t n) { out_->append(static_cast<const char*>(p), n); }
    void varint(std::uint64_t v) {
        char buf[10];
        std::size_t n = 0;
        do {
            auto b = static_cast<unsigned char>(v & 0x7f);
            v >>= 7;
            buf[n++] = static_cast<char>(v ? (b | 0x80) : b);
        } while (v);
        out_->append(buf, n);
    }
    std::string& out() { return *out_; }

private:
    std::string* out_;
};

/// Reads encodings from a byte range; throws CodecError on bad input.
class Reader {
public:
    explicit Reader(std::string_view in, DecodeLimits limits = {}) : in_(in), limits_(limits) {}
    void raw(void* p, std::size_t n, const char* what) {
        need(n, what);
        std::memcpy(p, in_.data() + pos_, n);
        pos_ += n;
    }
    std::string_view bytes(std::size_t n, const char* what) {
        need(n, what);
        std::string_view s = in_.substr(pos_, n);
        pos_ += n;
        return s;
    }
    /// An unsigned LEB128 integer; throws CodecError when it is truncated,
    /// does not fit in 64 bits, or is not in its shortest form.
    std::uint64_t varint(const char* what);
    /// A count of elements that follow. Every element takes at least one
    /// byte (a struct or tuple with no fields inside a container is the one
    /// exception, and is not supported there), so a count beyond the bytes
    /// left is an error: allocations and loops stay bounded by the input.
    std::size_t count(const char* what);
    std::size_t remaining() const noexcept { return in_.size() - pos_; }
    std::size_t offset() const noexcept { return pos_; }
    /// Throws CodecError naming `why` and the offset.
    [[noreturn]] void fail(const std::string& why) const;
    /// One nesting level deeper; throws CodecError past the depth limit.
    void enter();
    void leave() noexcept { --depth_; }

private:
    void need(std::size_t n, const char* what) {
        if (n > remaining()) {
            truncated(n, what);
        }
    }
    [[noreturn]] void truncated(std::size_t n, const char* what) const;

    std::string_view in_;
    std::size_t pos_ = 0;
    std::size_t depth_ = 0;
    DecodeLimits limits_;
};

/// Codec<T>: `static void encode(Writer&, const T&)`, `static void
/// decode(Reader&, T&)`. Specialise it for a type the codec does not know
/// (or give the type CORIO_PROCESS_FIELDS).
template <class T, class = void>
struct Codec;

/// True for the types the codec knows.
template <class T>
concept encodable = requires(Writer& w, Reader& r, const T& c, T& m) {
    Codec<T>::encode(w, c);
    Codec<T>::decode(r, m);
};

namespace detail {

template <class T>
concept has_fields = requires(T& t, const T& c) {
    t.corio_fields();
    c.corio_fields();
};

// One level of nesting, for the depth limit.
struct DepthGuard {
    explicit DepthGuard(Reader& r) : r_(r) { r_.enter(); }
    ~DepthGuard() { r_.leave(); }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;
    Reader& r_;
};

template <class T>
void encode_all(Writer& w, const T& t) {
    std::apply([&](const auto&... e) { (Codec<std::decay_t<decltype(e)>>::encode(w, e), ...); }, t);
}
template <class T>
void decode_all(Reader& r, T&& t) {
    std::apply([&](auto&... e) { (Codec<std::decay_t<decltype(e)>>::decode(r, e), ...); }, t);
}

}  // namespace detail

template <>
struct Codec<bool> {
    static void encode(Writer& w, bool v) {
        char b = v ? 1 : 0;
        w.raw(&b, 1);
    }
    static void decode(Reader& r, bool& v) {
        unsigned char b = 0;
        r.raw(&b, 1, "bool");
        if (b > 1) {
            r.fail("a bool byte is " + std::to_string(b) + ", not 0 or 1");
        }
        v = b == 1;
    }
};

template <class T>
struct Codec<T, std::enable_if_t<std::is_arithmetic_v<T> && !std::is_same_v<T, bool>>> {
    static void encode(Writer& w, T v) { w.raw(&v, sizeof v); }
    static void decode(Reader& r, T& v) {
        r.raw(&v, sizeof v, std::is_floating_point_v<T> ? "floating-point number" : "integer");
    }
};

template <class T>
struct Codec<T, std::enable_if_t<std::is_enum_v<T>>> {
    using U = std::underlying_type_t<T>;
    static void encode(Writer& w, T v) { Codec<U>::encode(w, static_cast<U>(v)); }
    static void decode(Reader& r, T& v) {
        U u{};
        Codec<U>::decode(r, u);
        v = static_cast<T>(u);
    }
};

template <>
struct Codec<std::string> {
    static void encode(Writer& w, const std::string& s) {
        w.varint(s.size());
        w.raw(s.data(), s.size());
    }
    static void decode(Reader& r, std::string& s) {
        std::size_t n = r.count("string length");
        s.assign(r.bytes(n, "string"));
    }
};

// One zero byte, like Python's None has a pickle: every element of a
// container takes at least one byte, so a count never exceeds the bytes left.
template <>
struct Codec<std::monostate> {
    static void encode(Writer& w, std::monostate) { w.raw("", 1); }
    static void decode(Reader& r, std::monostate&) {
        unsigned char b = 1;
        r.raw(&b, 1, "monostate");
        if (b != 0) {
            r.fail("a monostate byte is " + std::to_string(b) + ", not 0");
        }
    }
};

template <class T, class A>
struct Codec<std::vector<T, A>> {
    static void encode(Writer& w, const std::vector<T, A>& v) {
        w.varint(v.size());
        for (const auto& e : v) {
            Codec<T>::encode(w, e);
        }
    }
    static void decode(Reader& r, std::vector<T, A>& v) {
        detail::DepthGuard g(r);
        std::size_t n = r.count("vector length");
        v.clear();
        v.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            T e{};
            Codec<T>::decode(r, e);
            v.push_back(std::move(e));
        }
    }
};

template <class T, std::size_t N>
struct Codec<std::array<T, N>> {
    static void encode(Writer& w, const std::array<T, N>& a) {
        for (const auto& e : a) {
            Codec<T>::encode(w, e);
        }
    }
    static void decode(Reader& r, std::array<T, N>& a) {
        detail::DepthGuard g(r);
        for (auto& e : a) {
            Codec<T>::decode(r, e);
        }
    }
};

namespace detail {

// std::map, std::unordered_map, std::set: count, then the elements in the
// container's iteration order. Decoding rejects a repeated key, and for the
// ordered containers keys out of order (neither would round-trip).
template <class C>
const auto& last_key(const C& c) {
    if constexpr (requires { c.rbegin()->first; }) {
        return c.rbegin()->first;
    } else {
        return *c.rbegin();
    }
}

template <class C, class K, class V>
struct AssociativeCodec {
    static void encode(Writer& w, const C& c) {
        w.varint(c.size());
        for (const auto& e : c) {
            if constexpr (std::is_void_v<V>) {
                Codec<K>::encode(w, e);
            } else {
                Codec<K>::encode(w, e.first);
                Codec<V>::encode(w, e.second);
            }
        }
    }
    static void decode(Reader& r, C& c) {
        DepthGuard g(r);
        std::size_t n = r.count("container size");
        c.clear();
        for (std::size_t i = 0; i < n; ++i) {
            K k{};
            Codec<K>::decode(r, k);
            if constexpr (requires { c.key_comp(); }) {
                // Ordered containers encode in key order: keys out of order
                // would decode to the same container but not round-trip.
                if (!c.empty() && !c.key_comp()(last_key(c), k)) {
                    r.fail("keys of an ordered container are not in ascending order");
                }
            }
            bool fresh;
            if constexpr (std::is_void_v<V>) {
                fresh = c.insert(std::move(k)).second;
            } else {
                V v{};
                Codec<V>::decode(r, v);
                fresh = c.emplace(std::move(k), std::move(v)).second;
            }
            if (!fresh) {
                r.fail("a key appears twice");
            }
        }
    }
};

}  // namespace detail

template <class K, class V, class Cmp, class A>
struct Codec<std::map<K, V, Cmp, A>> : detail::AssociativeCodec<std::map<K, V, Cmp, A>, K, V> {};
template <class K, class V, class H, class E, class A>
struct Codec<std::unordered_map<K, V, H, E, A>>
    : detail::AssociativeCodec<std::unordered_map<K, V, H, E, A>, K, V> {};
template <class K, class Cmp, class A>
struct Codec<std::set<K, Cmp, A>> : detail::AssociativeCodec<std::set<K, Cmp, A>, K, void> {};

template <class A, class B>
struct Codec<std::pair<A, B>> {
    static void encode(Writer& w, const std::pair<A, B>& p) {
        Codec<A>::encode(w, p.first);
        Codec<B>::encode(w, p.second);
    }
    static void decode(Reader& r, std::pair<A, B>& p) {
        detail::DepthGuard g(r);
        Codec<A>::decode(r, p.first);
        Codec<B>::decode(r, p.second);
    }
};

template <class... T>
struct Codec<std::tuple<T...>> {
    static void encode(Writer& w, const std::tuple<T...>& t) { detail::encode_all(w, t); }
    static void decode(Reader& r, std::tuple<T...>& t) {
        detail::DepthGuard g(r);
        detail::decode_all(r, t);
    }
};

template <class T>
struct Codec<std::optional<T>> {
    static void encode(Writer& w, const std::optional<T>& o) {
        Codec<bool>::encode(w, o.has_value());
        if (o) {
            Codec<T>::encode(w, *o);
        }
    }
    static void decode(Reader& r, std::optional<T>& o) {
        detail::DepthGuard g(r);
        bool present = false;
        Codec<bool>::decode(r, present);
        if (!present) {
            o.reset();
            return;
        }
        T v{};
        Codec<T>::decode(r, v);
        o.emplace(std::move(v));
    }
};

template <class... T>
struct Codec<std::variant<T...>> {
    static void encode(Writer& w, const std::variant<T...>& v) {
        w.varint(v.index());
        std::visit([&](const auto& e) { Codec<std::decay_t<decltype(e)>>::encode(w, e); }, v);
    }
    static void decode(Reader& r, std::variant<T...>& v) {
        detail::DepthGuard g(r);
        std::uint64_t i = r.varint("variant index");
        if (i >= sizeof...(T)) {
            r.fail("variant index " + std::to_string(i) + " is not below " +
                   std::to_string(sizeof...(T)));
        }
        decode_alt(r, v, i, std::index_sequence_for<T...>{});
    }

private:
    template <std::size_t... I>
    static void decode_alt(Reader& r, std::variant<T...>& v, std::uint64_t i,
                           std::index_sequence<I...>) {
        ((i == I ? (Codec<std::variant_alternative_t<I, std::variant<T...>>>::decode(
                        r, v.template emplace<I>()),
                    0)
                 : 0),
         ...);
    }
};

template <class Rep, class Period>
struct Codec<std::chrono::duration<Rep, Period>> {
    using D = std::chrono::duration<Rep, Period>;
    static void encode(Writer& w, D d) { Codec<Rep>::encode(w, d.count()); }
    static void decode(Reader& r, D& d) {
        Rep c{};
        Codec<Rep>::decode(r, c);
        d = D(c);
    }
};

template <class T>
struct Codec<T, std::enable_if_t<detail::has_fields<T>>> {
    static void encode(Writer& w, const T& v) { detail::encode_all(w, v.corio_fields()); }
    static void decode(Reader& r, T& v) {
        detail::DepthGuard g(r);
        detail::decode_all(r, v.corio_fields());
    }
};

/// Appends the encoding of `v` to `out`.
template <encodable T>
void encode_into(std::string& out, const T& v) {
    Writer w(out);
    Codec<T>::encode(w, v);
}

/// The encoding of `v`.
template <encodable T>
std::string encode(const T& v) {
    std::string out;
    encode_into(out, v);
    return out;
}

/// Decodes a T that must span all of `bytes`. Throws CodecError on truncated
/// or malformed input, and on bytes left over.
template <encodable T>
T decode(std::string_view bytes, DecodeLimits limits = {}) {
    Reader r(bytes, limits);
    T v{};
    Codec<T>::decode(r, v);
    if (r.remaining() != 0) {
        r.fail(std::to_string(r.remaining()) + " bytes left over after the value");
    }
    return v;
}

}  // namespace corio::process
