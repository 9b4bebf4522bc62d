// corio/http/multidict.hpp - ordered multi-maps of string keys to string
// values: MultiDict (case-sensitive keys, for query strings and forms) and
// CIMultiDict (ASCII case-insensitive keys).
//
// Mirrors Python's `multidict` package, which aiohttp uses for
// `request.query`, `request.headers` and form data. Entries keep their
// insertion order and the key's original spelling; a key may occur many
// times. Lookups are linear scans: HTTP messages carry a few dozen entries
// at most, for which a scan of a contiguous vector beats any hash table.
// Like Python's, these containers are plain values: not thread-safe.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corio::http {

/// ASCII case-insensitive equality, the comparison HTTP field names use
/// (RFC 9110 5.1). Bytes outside A-Z/a-z compare exactly.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i];
        char y = b[i];
        if (x != y) {
            x = (x >= 'A' && x <= 'Z') ? static_cast<char>(x + 32) : x;
            y = (y >= 'A' && y <= 'Z') ? static_cast<char>(y + 32) : y;
            if (x != y) {
                return false;
            }
        }
    }
    return true;
}

namespace detail {

/// Key comparison and insertion checks of MultiDict: exact keys, any bytes.
struct ExactKeys {
    static bool equal(std::string_view a, std::string_view b) noexcept { return a == b; }
    static void check(std::string_view, std::string_view) {}
};

/// Key comparison and insertion checks of CIMultiDict: ASCII
/// case-insensitive keys, any bytes.
struct CaseInsensitiveKeys {
    static bool equal(std::string_view a, std::string_view b) noexcept { return iequals(a, b); }
    static void check(std::string_view, std::string_view) {}
};

/// The tag of BasicMultiDict::add(detail::Validated, ...): the caller
/// has checked the entry already (the HTTP parser's header fields).
struct Validated {
    explicit Validated() = default;
};

}  // namespace detail

/// One entry of a multi-map: the key as it was given, and its value.
struct MultiDictEntry {
    std::string key;
    std::string value;
    bool operator==(const MultiDictEntry&) const = default;
};

/// An ordered multi-map from string keys to string values, parameterised by
/// how keys compare and what an insertion checks (`Traits::equal`,
/// `Traits::check`, which may throw std::invalid_argument). Use the aliases
/// MultiDict, CIMultiDict and Headers. Nothing here suspends.
/// Python: `multidict.MultiDict` / `CIMultiDict`.
template <class Traits>
class BasicMultiDict {
public:
    using value_type = MultiDictEntry;
    using const_iterator = typename std::vector<MultiDictEntry>::const_iterator;

    /// An empty map.
    BasicMultiDict() = default;
    /// The given pairs, in order (repeated keys are kept). Throws what
    /// add() throws.
    BasicMultiDict(std::initializer_list<std::pair<std::string_view, std::string_view>> items) {
        entries_.reserve(items.size());
        for (const auto& [k, v] : items) {
            add(k, v);
        }
    }

    /// The value of the first entry with this key, or nothing.
    /// Python: `md.get(key)`.
    std::optional<std::string_view> get(std::string_view key) const noexcept {
        for (const MultiDictEntry& e : entries_) {
            if (Traits::equal(e.key, key)) {
                return std::string_view(e.value);
            }
        }
        return std::nullopt;
    }
    /// The value of the first entry with this key, or `fallback`.
    /// Python: `md.get(key, default)`.
    std::string_view get(std::string_view key, std::string_view fallback) const noexcept {
        std::optional<std::string_view> v = get(key);
        return v ? *v : fallback;
    }
    /// Every value with this key, in insertion order (empty when there is
    /// none). Python: `md.getall(key, [])`.
    std::vector<std::string_view> get_all(std::string_view key) const {
        std::vector<std::string_view> out;
        for (const MultiDictEntry& e : entries_) {
            if (Traits::equal(e.key, key)) {
                out.emplace_back(e.value);
            }
        }
        return out;
    }
    /// Whether some entry has this key. Python: `key in md`.
    bool contains(std::string_view key) const noexcept { return get(key).has_value(); }
    /// How many entries have this key.
    std::size_t count(std::string_view key) const noexcept {
        std::size_t n = 0;
        for (const MultiDictEntry& e : entries_) {
            n += Traits::equal(e.key, key) ? 1 : 0;
        }
        return n;
    }

    /// Appends an entry, keeping any with the same key. Throws
    /// std::invalid_argument when Traits rejects the key or the value
    /// (Headers: not a field name, or a value with CR, LF or NUL).
    /// Python: `md.add(key, value)`.
    void add(std::string_view key, std::string_view value) {
        Traits::check(key, value);
        entries_.push_back(MultiDictEntry{std::string(key), std::string(value)});
    }
    /// add() without Traits' check, for an entry its producer has checked
    /// already (the HTTP parser's fields are checked as they are parsed).
    void add(detail::Validated, std::string_view key, std::string_view value) {
        entries_.push_back(MultiDictEntry{std::string(key), std::string(value)});
    }
    /// Makes `value` the only value of `key`: the first entry with the key
    /// takes the new value (and keeps its position and spelling), later
    /// ones are removed; appended when there was none. Throws as add().
    /// Python: `md[key] = value`.
    void set(std::string_view key, std::string_view value) {
        Traits::check(key, value);
        bool found = false;
        std::size_t out = 0;
        for (std::size_t i = 0; i < entries_.size(); ++i) {
            if (Traits::equal(entries_[i].key, key)) {
                if (found) {
                    continue;
                }
                found = true;
                entries_[i].value.assign(value);
            }
            if (out != i) {
                entries_[out] = std::move(entries_[i]);
            }
            ++out;
        }
        entries_.resize(out);
        if (!found) {
            entries_.push_back(MultiDictEntry{std::string(key), std::string(value)});
        }
    }
    /// Removes every entry with this key; returns how many there were.
    /// Python: `md.popall(key, None)` / `del md[key]`.
    std::size_t remove(std::string_view key) {
        std::size_t out = 0;
        for (std::size_t i = 0; i < entries_.size(); ++i) {
            if (Traits::equal(entries_[i].key, key)) {
                continue;
            }
            if (out != i) {
                entries_[out] = std::move(entries_[i]);
            }
            ++out;
        }
        std::size_t removed = entries_.size() - out;
        entries_.resize(out);
        return removed;
    }
    /// Removes every entry (keeps the capacity). Python: `md.clear()`.
    void clear() noexcept { entries_.clear(); }
    /// Reserves room for `n` entries.
    void reserve(std::size_t n) { entries_.reserve(n); }

    /// Number of entries, counting repeated keys. Python: `len(md)`.
    std::size_t size() const noexcept { return entries_.size(); }
    /// Whether there is no entry.
    bool empty() const noexcept { return entries_.empty(); }
    /// Entries in insertion order. Python: `md.items()`.
    const_iterator begin() const noexcept { return entries_.begin(); }
    const_iterator end() const noexcept { return entries_.end(); }

    /// Same entries in the same order (keys compared exactly).
    bool operator==(const BasicMultiDict&) const = default;

private:
    std::vector<MultiDictEntry> entries_;
};

/// Ordered multi-map with case-sensitive keys, e.g. a query string's
/// parameters (see url.hpp). Python: `multidict.MultiDict`.
using MultiDict = BasicMultiDict<detail::ExactKeys>;
/// Ordered multi-map with ASCII case-insensitive keys.
/// Python: `multidict.CIMultiDict`.
using CIMultiDict = BasicMultiDict<detail::CaseInsensitiveKeys>;

}  // namespace corio::http
