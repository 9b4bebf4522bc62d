// http/file_response.cpp - FileResponse (conditional and range requests)
// and Application::add_static.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <string>
#include <system_error>
#include <utility>

#include "chars.hpp"
#include "corio/errors.hpp"
#include "corio/http/web.hpp"
#include "date.hpp"

namespace corio::http::web {

namespace {

// Closes a file descriptor on scope exit.
struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

std::string_view without_weak(std::string_view tag) {
    return tag.starts_with("W/") ? tag.substr(2) : tag;
}

// If-None-Match: a list of entity tags or "*"; weak comparison (RFC 9110 13.1.2).
bool none_match_hits(std::string_view header, std::string_view etag) {
    return http::detail::any_list_element(header, [etag](std::string_view item) {
        return item == "*" || without_weak(item) == etag;
    });
}

bool parse_u64(std::string_view s, std::uint64_t& out) {
    if (s.empty()) {
        return false;
    }
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
}

// A single "bytes=" range against `size`. nullopt: no usable Range (absent,
// malformed or several ranges: serve the whole file); {} with ok = false:
// unsatisfiable (416).
struct ByteRange {
    bool ok = true;
    std::uint64_t first = 0, last = 0;
};
std::optional<ByteRange> parse_range(std::string_view header, std::uint64_t size) {
    header = http::detail::trim_ows(header);
    if (!header.starts_with("bytes=")) {
        return std::nullopt;
    }
    std::string_view spec = http::detail::trim_ows(header.substr(6));
    if (spec.find(',') != std::string_view::npos) {
        return std::nullopt;  // several ranges: ignored (RFC 9110 14.2)
    }
    std::size_t dash = spec.find('-');
    if (dash == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view a = spec.substr(0, dash), b = spec.substr(dash + 1);
    std::uint64_t first = 0, last = 0;
    if (a.empty()) {  // suffix: the last n bytes
        std::uint64_t n = 0;
        if (!parse_u64(b, n)) {
            return std::nullopt;
        }
        if (n == 0 || size == 0) {
            return ByteRange{false};
        }
        return ByteRange{true, size - std::min(n, size), size - 1};
    }
    if (!parse_u64(a, first) || (!b.empty() && !parse_u64(b, last))) {
        return std::nullopt;
    }
    if (b.empty()) {
        last = size == 0 ? 0 : size - 1;
    } else if (last < first) {
        return std::nullopt;  // invalid: ignored
    }
    if (first >= size) {
        return ByteRange{false};
    }
    return ByteRange{true, first, std::min(last, size - 1)};
}

std::string_view guess_type(const std::filesystem::path& p) {
    static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
        {".html", "text/html; charset=utf-8"},
        {".htm", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".json", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
        {".md", "text/markdown; charset=utf-8"},
        {".csv", "text/csv; charset=utf-8"},
        {".xml", "application/xml"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},
        {".webp", "image/webp"},
        {".ico", "image/vnd.microsoft.icon"},
        {".wasm", "application/wasm"},
        {".pdf", "application/pdf"},
        {".zip", "application/zip"},
        {".gz", "application/gzip"},
        {".woff2", "font/woff2"},
    };
    std::string ext = p.extension().string();
    for (char& c : ext) {
        c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    for (const auto& [e, type] : kTypes) {
        if (ext == e) {
            return type;
        }
    }
    return "application/octet-stream";
}

std::string hex(std::uint64_t v) {
    char buf[17];
    auto r = std::to_chars(buf, buf + sizeof buf, v, 16);
    return std::string(buf, r.ptr);
}

}  // namespace

FileResponse::FileResponse(std::filesystem::path path, std::size_t chunk_size)
    : path_(std::move(path)), chunk_size_(chunk_size == 0 ? 256 * 1024 : chunk_size) {}

Task<void> FileResponse::prepare(Request& request) {
    if (prepared()) {
        throw RuntimeError("FileResponse::prepare: already prepared");
    }
    Fd file;
    file.fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (file.fd < 0) {
        throw HTTPException(errno == EACCES ? 403 : 404);
    }
    struct stat st {};
    if (::fstat(file.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        throw HTTPException(S_ISDIR(st.st_mode) ? 403 : 404);
    }
    const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
    const std::uint64_t mtime_ns = static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1000000000u +
                                   static_cast<std::uint64_t>(st.st_mtim.tv_nsec);
    const std::string etag = "\"" + hex(mtime_ns) + "-" + hex(size) + "\"";
    char date[http::detail::kHttpDateSize];
    http::detail::format_http_date(st.st_mtim.tv_sec, date);
    const std::string_view last_modified(date, sizeof date);

    headers().set("ETag", etag);
    headers().set("Last-Modified", last_modified);
    headers().set("Accept-Ranges", "bytes");
    if (!headers().contains("Content-Type")) {
        set_content_type(guess_type(path_));
    }

    const bool get_or_head = request.method() == Method::GET || request.method() == Method::HEAD;
    const Headers& rh = request.headers();
    if (get_or_head && status() == 200) {
        bool not_modified = false;
        if (auto inm = rh.get("If-None-Match")) {
            not_modified = none_match_hits(*inm, etag);
        } else if (auto ims = rh.get("If-Modified-Since")) {
            std::optional<std::int64_t> since =
                http::detail::parse_http_date(http::detail::trim_ows(*ims));
            not_modified = since && st.st_mtim.tv_sec <= *since;
        }
        if (not_modified) {
            set_status(304);
            co_await StreamResponse::prepare(request);
            co_await write_eof();
            co_return;
        }
    }

    std::uint64_t first = 0, length = size;
    if (request.method() == Method::GET && status() == 200) {
        std::optional<std::string_view> range = rh.get("Range");
        if (auto if_range = rh.get("If-Range"); range && if_range) {
            std::string_view v = http::detail::trim_ows(*if_range);
            // A strong tag must match exactly; a date must equal Last-Modified.
            if (v != etag && v != last_modified) {
                range.reset();
            }
        }
        if (range) {
            if (std::optional<ByteRange> r = parse_range(*range, size)) {
                if (!r->ok) {
                    Headers h;
                    h.set("Content-Range", "bytes */" + std::to_string(size));
                    throw HTTPException(416, {}, std::move(h));
                }
                first = r->first;
                length = r->last - r->first + 1;
                set_status(206);
                headers().set("Content-Range", "bytes " + std::to_string(r->first) + "-" +
                                                   std::to_string(r->last) + "/" +
                                                   std::to_string(size));
            }
        }
    }

    set_content_length(length);
    co_await StreamResponse::prepare(request);
    if (request.method() == Method::HEAD) {
        co_await write_eof();
        co_return;
    }
    bool sent = false;
    if (length > 0) {
        sent = co_await send_file(file.fd, first, length);
    }
    if (sent) {
        co_await write_eof();  // sent by the kernel from the page cache
        co_return;
    }
    std::string buf(static_cast<std::size_t>(std::min<std::uint64_t>(chunk_size_, length)), '\0');
    std::uint64_t offset = first, left = length;
    while (left > 0) {
        const std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
        const ssize_t n = ::pread(file.fd, buf.data(), want, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            // Truncated meanwhile, or a read error: the body stays short of its
            // Content-Length and the server closes the connection.
            throw std::system_error(n < 0 ? errno : EIO, std::generic_category(),
                                    "FileResponse: reading " + path_.string());
        }
        offset += static_cast<std::uint64_t>(n);
        left -= static_cast<std::uint64_t>(n);
        co_await write(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    }
    co_await write_eof();
}

void Application::add_static(std::string_view prefix, const std::filesystem::path& directory) {
    if (prefix.empty() || prefix.front() != '/') {
        throw std::invalid_argument("add_static: prefix must start with '/': " +
                                    std::string(prefix));
    }
    std::error_code ec;
    std::filesystem::path root = std::filesystem::canonical(directory, ec);
    if (ec || !std::filesystem::is_directory(root, ec)) {
        throw std::invalid_argument("add_static: not a directory: " + directory.string());
    }
    while (prefix.size() > 1 && prefix.back() == '/') {
        prefix.remove_suffix(1);
    }
    std::string route(prefix == "/" ? std::string_view() : prefix);
    route += "/{filename:.+}";
    add_get(route, [root](Request& req) -> Task<Response> {
        const std::string& rel = req.match_info().at("filename");  // percent-decoded
        if (rel.find('\0') != std::string::npos || rel.find('\\') != std::string::npos) {
            throw HTTPException(403);
        }
        std::filesystem::path p = root;
        std::string_view rest = rel;
        while (!rest.empty()) {
            std::size_t slash = rest.find('/');
            std::string_view seg = rest.substr(0, slash);
            if (seg == "..") {
                throw HTTPException(403);
            }
            if (!seg.empty() && seg != ".") {
                p /= seg;
            }
            if (slash == std::string_view::npos) {
                break;
            }
            rest.remove_prefix(slash + 1);
        }
        // Symbolic links may not lead outside the directory.
        std::error_code ec;
        std::filesystem::path real = std::filesystem::canonical(p, ec);
        if (ec) {
            throw HTTPException(404);
        }
        auto [r, _] = std::mismatch(root.begin(), root.end(), real.begin(), real.end());
        if (r != root.end()) {
            throw HTTPException(403);
        }
        FileResponse resp(real);
        co_await resp.prepare(req);
        co_return resp;
    });
}

}  // namespace corio::http::web
