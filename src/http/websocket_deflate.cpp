// permessage-deflate: the extension header's grammar, negotiation on both
// ends, and zlib's raw deflate.
#include "websocket_deflate.hpp"

#include <zlib.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace corio::http::detail {

namespace {

constexpr std::string_view kName = "permessage-deflate";
constexpr unsigned char kTail[4] = {0x00, 0x00, 0xff, 0xff};

bool is_tchar(char c) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return true;
    }
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

char lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// A cursor over one field value.
struct Scanner {
    std::string_view s;
    std::size_t i = 0;

    void ows() noexcept {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) {
            ++i;
        }
    }
    bool at_end() const noexcept { return i == s.size(); }
    bool eat(char c) noexcept {
        if (i < s.size() && s[i] == c) {
            ++i;
            return true;
        }
        return false;
    }
    std::optional<std::string> token() {
        std::size_t start = i;
        while (i < s.size() && is_tchar(s[i])) {
            ++i;
        }
        if (i == start) {
            return std::nullopt;
        }
        return std::string(s.substr(start, i - start));
    }
    std::optional<std::string> quoted() {
        if (!eat('"')) {
            return std::nullopt;
        }
        std::string v;
        while (i < s.size()) {
            char c = s[i++];
            if (c == '"') {
                return v;
            }
            if (c == '\\') {
                if (i == s.size()) {
                    return std::nullopt;
                }
                c = s[i++];
            }
            v.push_back(c);
        }
        return std::nullopt;  // no closing quote
    }
};

std::string to_lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), lower);
    return s;
}

// RFC 7692 7.1.2: 1*DIGIT without a leading zero, 8..15.
std::optional<int> window_bits(const std::string& v) {
    if (v.empty() || v.size() > 2 || v[0] == '0' ||
        !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
    }
    int n = std::stoi(v);
    if (n < 8 || n > 15) {
        return std::nullopt;
    }
    return n;
}

// The parameters of one permessage-deflate element, checked: each known,
// at most once, with a value exactly where one is allowed.
struct Offer {
    bool server_nct = false;
    bool client_nct = false;
    std::optional<int> server_bits;
    bool client_bits_present = false;
    std::optional<int> client_bits;
};

const char* read_params(const WsExtension& e, bool response, Offer& o) {
    bool seen[4] = {false, false, false, false};
    for (const WsExtensionParam& p : e.params) {
        int k = p.name == "server_no_context_takeover"   ? 0
                : p.name == "client_no_context_takeover" ? 1
                : p.name == "server_max_window_bits"     ? 2
                : p.name == "client_max_window_bits"     ? 3
                                                         : -1;
        if (k < 0) {
            return "unknown permessage-deflate parameter";
        }
        if (seen[k]) {
            return "permessage-deflate parameter given twice";
        }
        seen[k] = true;
        if (k <= 1) {
            if (p.value) {
                return "a *_no_context_takeover parameter takes no value";
            }
            (k == 0 ? o.server_nct : o.client_nct) = true;
            continue;
        }
        std::optional<int> bits;
        if (p.value) {
            bits = window_bits(*p.value);
            if (!bits) {
                return "window bits must be 8 to 15";
            }
        } else if (k == 2 || response) {
            return "server_max_window_bits needs a value";
        }
        if (k == 2) {
            o.server_bits = bits;
        } else {
            o.client_bits_present = true;
            o.client_bits = bits;
        }
    }
    return nullptr;
}

}  // namespace

std::optional<std::vector<WsExtension>> parse_websocket_extensions(
    const std::vector<std::string_view>& values) {
    std::vector<WsExtension> out;
    for (std::string_view value : values) {
        Scanner sc{value};
        for (;;) {
            sc.ows();
            if (sc.at_end()) {
                break;
            }
            if (sc.eat(',')) {  // an empty list element (RFC 9110 5.6.1)
                continue;
            }
            std::optional<std::string> name = sc.token();
            if (!name) {
                return std::nullopt;
            }
            WsExtension ext{to_lower(std::move(*name)), {}};
            sc.ows();
            while (sc.eat(';')) {
                sc.ows();
                std::optional<std::string> pname = sc.token();
                if (!pname) {
                    return std::nullopt;
                }
                WsExtensionParam p{to_lower(std::move(*pname)), std::nullopt};
                sc.ows();
                if (sc.eat('=')) {
                    sc.ows();
                    std::optional<std::string> v =
                        (!sc.at_end() && sc.s[sc.i] == '"') ? sc.quoted() : sc.token();
                    // A quoted value must still be a token (RFC 6455 9.1).
                    if (!v || v->empty() || !std::all_of(v->begin(), v->end(), is_tchar)) {
                        return std::nullopt;
                    }
                    p.value = std::move(v);
                    sc.ows();
                }
                ext.params.push_back(std::move(p));
            }
            out.push_back(std::move(ext));
            if (sc.at_end()) {
                break;
            }
            if (!sc.eat(',')) {
                return std::nullopt;
            }
        }
    }
    return out;
}

bool negotiate_deflate_server(const std::vector<WsExtension>& offers, int window_bits,
                              bool no_context_takeover, WsDeflateParams& params,
                              std::string& response) {
    for (const WsExtension& e : offers) {
        Offer o;
        if (e.name != kName || read_params(e, false, o) != nullptr) {
            continue;  // not ours, or invalid: declined
        }
        if (o.server_bits && *o.server_bits < 9) {
            continue;  // zlib cannot compress raw deflate with 8 bits
        }
        WsDeflateParams p;
        p.server_no_context_takeover = o.server_nct || no_context_takeover;
        p.client_no_context_takeover = o.client_nct || no_context_takeover;
        p.server_max_window_bits = std::min(window_bits, o.server_bits.value_or(15));
        p.client_max_window_bits = o.client_bits.value_or(15);
        std::string r(kName);
        if (p.server_no_context_takeover) {
            r += "; server_no_context_takeover";
        }
        if (p.client_no_context_takeover) {
            r += "; client_no_context_takeover";
        }
        if (o.server_bits || p.server_max_window_bits < 15) {
            r += "; server_max_window_bits=" + std::to_string(p.server_max_window_bits);
        }
        params = p;
        response = std::move(r);
        return true;
    }
    return false;
}

std::string deflate_offer(int window_bits, bool no_context_takeover) {
    std::string r(kName);
    if (no_context_takeover) {
        r += "; server_no_context_takeover; client_no_context_takeover";
    }
    if (window_bits < 15) {
        r += "; server_max_window_bits=" + std::to_string(window_bits);
    }
    r += "; client_max_window_bits";
    return r;
}

std::string_view accept_deflate_response(const std::vector<std::string_view>& values,
                                         int window_bits, bool no_context_takeover,
                                         std::optional<WsDeflateParams>& params) {
    params.reset();
    std::optional<std::vector<WsExtension>> exts = parse_websocket_extensions(values);
    if (!exts) {
        return "malformed Sec-WebSocket-Extensions";
    }
    if (exts->empty()) {
        return {};
    }
    if (exts->size() != 1 || (*exts)[0].name != kName) {
        return "Sec-WebSocket-Extensions names an extension that was not offered";
    }
    Offer o;
    if (const char* why = read_params((*exts)[0], true, o)) {
        return why;
    }
    if (window_bits < 15 && (!o.server_bits || *o.server_bits > window_bits)) {
        return "server_max_window_bits above the one offered";
    }
    if (no_context_takeover && !o.server_nct) {
        return "server_no_context_takeover was offered but not accepted";
    }
    if (o.client_bits && *o.client_bits < 9) {
        return "client_max_window_bits=8 is not supported (zlib)";
    }
    WsDeflateParams p;
    p.server_no_context_takeover = o.server_nct;
    p.client_no_context_takeover = o.client_nct || no_context_takeover;
    p.server_max_window_bits = o.server_bits.value_or(15);
    p.client_max_window_bits = std::min(window_bits, o.client_bits.value_or(15));
    params = p;
    return {};
}

// -- zlib ----------------------------------------------------------------------

struct WsDeflater::Impl {
    z_stream z{};
};

WsDeflater::WsDeflater(int window_bits, bool no_context_takeover)
    : impl_(std::make_unique<Impl>()), no_context_takeover_(no_context_takeover) {
    if (deflateInit2(&impl_->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -window_bits, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        throw std::runtime_error("permessage-deflate: deflateInit2 failed");
    }
}

WsDeflater::~WsDeflater() {
    deflateEnd(&impl_->z);
}

void WsDeflater::compress(std::string_view message, std::string& out) {
    z_stream& z = impl_->z;
    if (message.size() > std::numeric_limits<uInt>::max() / 2) {
        throw std::invalid_argument("permessage-deflate: message too large to compress");
    }
    out.clear();
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
    z.avail_in = static_cast<uInt>(message.size());
    std::size_t produced = 0;
    out.resize(deflateBound(&z, static_cast<uLong>(message.size())) + 16);
    for (;;) {
        z.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
        z.avail_out = static_cast<uInt>(out.size() - produced);
        const int rc = deflate(&z, Z_SYNC_FLUSH);
        produced = out.size() - z.avail_out;
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            throw std::runtime_error("permessage-deflate: deflate failed");
        }
        if (z.avail_out != 0) {
            break;  // all input taken and flushed
        }
        out.resize(out.size() * 2);
    }
    out.resize(produced);
    // A sync flush ends with an empty stored block: 00 00 ff ff.
    if (out.size() >= 4 && std::string_view(out).substr(out.size() - 4) ==
                               std::string_view(reinterpret_cast<const char*>(kTail), 4)) {
        out.resize(out.size() - 4);
    }
    if (out.empty()) {
        // Nothing new to flush (an empty message after a flush): zlib wrote
        // nothing, and the tail alone is not a block. RFC 7692 7.2.3.6: an
        // empty stored block's first byte, 0x00.
        out.push_back('\0');
    }
    if (no_context_takeover_) {
        deflateReset(&z);
    }
}

struct WsInflater::Impl {
    z_stream z{};
};

WsInflater::WsInflater(bool no_context_takeover)
    : impl_(std::make_unique<Impl>()), no_context_takeover_(no_context_takeover) {
    if (inflateInit2(&impl_->z, -15) != Z_OK) {
        throw std::runtime_error("permessage-deflate: inflateInit2 failed");
    }
}

WsInflater::~WsInflater() {
    inflateEnd(&impl_->z);
}

WsInflater::Result WsInflater::decompress(std::string_view compressed, std::uint64_t max_size,
                                          std::string& out) {
    z_stream& z = impl_->z;
    constexpr std::size_t kChunk = 16 * 1024;
    // One byte past the limit tells "too big" from "exactly the limit".
    const std::uint64_t cap =
        max_size >= std::numeric_limits<std::size_t>::max() - 1 ? max_size : max_size + 1;
    out.clear();
    if (compressed.empty()) {
        return Result::ok;  // an empty message sent without even 0x00: tolerated
    }
    std::size_t produced = 0;
    bool ended = false;
    auto run = [&](std::string_view in) -> Result {
        if (in.size() > std::numeric_limits<uInt>::max()) {
            return Result::too_big;
        }
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        z.avail_in = static_cast<uInt>(in.size());
        for (;;) {
            if (out.size() == produced) {
                if (produced >= cap) {
                    return Result::too_big;
                }
                out.resize(static_cast<std::size_t>(
                    std::min<std::uint64_t>(produced + std::max(kChunk, produced / 2), cap)));
            }
            z.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
            z.avail_out = static_cast<uInt>(
                std::min<std::size_t>(out.size() - produced, std::numeric_limits<uInt>::max()));
            const uInt before = z.avail_out;
            const int rc = inflate(&z, Z_SYNC_FLUSH);
            produced += before - z.avail_out;
            if (produced > max_size) {
                return Result::too_big;
            }
            if (rc == Z_STREAM_END) {  // the peer set BFINAL: the stream starts afresh
                ended = true;
                return Result::ok;
            }
            if (rc == Z_BUF_ERROR && z.avail_out != 0) {
                return Result::ok;  // no input left
            }
            if (rc != Z_OK && rc != Z_BUF_ERROR) {
                return Result::corrupt;
            }
            if (z.avail_in == 0 && z.avail_out != 0) {
                return Result::ok;
            }
        }
    };
    Result r = run(compressed);
    if (r == Result::ok && !ended) {
        r = run(std::string_view(reinterpret_cast<const char*>(kTail), 4));
    }
    out.resize(produced);
    if (r != Result::ok) {
        return r;
    }
    if (ended || no_context_takeover_) {
        inflateReset(&z);
    }
    return Result::ok;
}

}  // namespace corio::http::detail
