// The parse path allocates nothing per request on a keep-alive connection
// once its buffers have grown (the W6 target needs it). Counts calls of a
// replaced global operator new; not built with the sanitizers, whose own
// allocators must not be replaced.
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <string>

#include "http/parser.hpp"

namespace {
std::size_t g_allocations = 0;
}  // namespace

void* operator new(std::size_t n) {
    ++g_allocations;
    if (void* p = std::malloc(n == 0 ? 1 : n)) {
        return p;
    }
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}

using namespace corio::http::detail;

namespace {

const std::string kRequests =
    "GET / HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n"
    "POST /echo?x=1 HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\n"
    "hello world"
    "PUT /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";

/// Parses every request of `in` (whole) and returns the number of heads,
/// or -1 on an unexpected event.
int parse_all(RequestParser& p, std::string_view in) {
    int heads = 0;
    for (;;) {
        ParseStep s = p.parse(in);
        in.remove_prefix(s.consumed);
        switch (s.event) {
            case ParseStep::head:
                heads += p.head().headers.size() > 0 ? 1 : 0;
                break;
            case ParseStep::body:
            case ParseStep::message_complete:
                break;
            case ParseStep::need_data:
                return in.empty() ? heads : -1;
            default:
                return -1;
        }
    }
}

/// Same through feed(), the first request's head cut in two (after 20
/// bytes), so that it goes through the parser's own copy.
int feed_split(RequestParser& p, std::string_view in) {
    int heads = 0;
    std::string_view first = in.substr(0, 20);
    in.remove_prefix(first.size());
    for (std::string_view piece : {first, in}) {
        for (;;) {
            ParseStep s = p.feed(piece);
            piece.remove_prefix(s.consumed);
            if (s.event == ParseStep::need_data) {
                break;
            }
            if (s.event == ParseStep::error) {
                return -1;
            }
            heads += s.event == ParseStep::head ? 1 : 0;
        }
    }
    return heads;
}

}  // namespace

TEST(ParserAllocations, KeepAliveRequestsAllocateNothingOnceWarm) {
    RequestParser p;
    ASSERT_EQ(parse_all(p, kRequests), 3);  // warm-up
    const std::size_t before = g_allocations;
    int heads = 0;
    for (int i = 0; i < 1000; ++i) {
        heads += parse_all(p, kRequests);
    }
    const std::size_t allocated = g_allocations - before;
    EXPECT_EQ(heads, 3000);
    EXPECT_EQ(allocated, 0u);
}

TEST(ParserAllocations, SplitHeadsReuseTheParsersCopy) {
    RequestParser p;
    ASSERT_EQ(feed_split(p, kRequests), 3);
    const std::size_t before = g_allocations;
    int heads = 0;
    for (int i = 0; i < 1000; ++i) {
        heads += feed_split(p, kRequests);
    }
    const std::size_t allocated = g_allocations - before;
    EXPECT_EQ(heads, 3000);
    EXPECT_EQ(allocated, 0u);
}

TEST(ParserAllocations, TheCounterCounts) {
    const std::size_t before = g_allocations;
    auto* p = new std::string(100, 'x');  // a heap string: two allocations at least one
    delete p;
    EXPECT_GT(g_allocations, before);
}
