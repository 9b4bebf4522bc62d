// fuzz/process_codec_fuzz.cpp - libFuzzer target for corio::process's codec.
//
// Input: byte 0 picks the type to decode, the rest is the encoding. Every
// decode either throws CodecError or yields a value whose encoding is the
// input itself (the codec is canonical), and that decodes again to a value
// with the same encoding. The input is copied to a heap block of exactly its size, so ASan
// catches a read one byte too far; a declared count beyond the input must
// never be allocated (libFuzzer's -rss_limit_mb catches it).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "corio/process/codec.hpp"
#include "corio/process/registry.hpp"

namespace {

struct Item {
    std::int32_t id = 0;
    std::string name;
    std::optional<std::vector<double>> scores;
    std::variant<std::monostate, bool, std::string> tag;
    CORIO_PROCESS_FIELDS(id, name, scores, tag)
    bool operator==(const Item&) const = default;
};

struct Node {
    std::uint8_t v = 0;
    std::vector<Node> kids;
    CORIO_PROCESS_FIELDS(v, kids)
    bool operator==(const Node&) const = default;
};

template <class T>
void check(std::string_view bytes) {
    T v;
    try {
        v = corio::process::decode<T>(bytes, corio::process::DecodeLimits{.max_depth = 64});
    } catch (const corio::process::CodecError&) {
        return;
    }
    std::string again = corio::process::encode(v);
    if (again != bytes) {
        std::fprintf(stderr, "process_codec_fuzz: re-encoding differs from the input\n");
        std::abort();
    }
    // (Bytes, not values, are compared: a NaN is not equal to itself.)
    if (corio::process::encode(corio::process::decode<T>(again)) != again) {
        std::fprintf(stderr, "process_codec_fuzz: a round trip changed the value\n");
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    std::size_t n = size - 1;
    std::unique_ptr<char[]> copy(new char[n == 0 ? 1 : n]);
    std::memcpy(copy.get(), data + 1, n);
    std::string_view bytes(copy.get(), n);
    switch (data[0] % 8) {
        case 0:
            check<std::int64_t>(bytes);
            break;
        case 1:
            check<std::string>(bytes);
            break;
        case 2:
            check<std::vector<std::string>>(bytes);
            break;
        case 3:
            check<std::map<std::string, std::int16_t>>(bytes);
            break;
        case 4:
            check<std::vector<Item>>(bytes);
            break;
        case 5:
            check<Node>(bytes);
            break;
        case 6:
            check<std::tuple<bool, std::set<std::uint32_t>, std::optional<char>>>(bytes);
            break;
        default:
            check<std::vector<corio::process::detail::Outcome>>(bytes);
            break;
    }
    return 0;
}
