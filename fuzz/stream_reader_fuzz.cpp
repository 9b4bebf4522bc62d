// fuzz/stream_reader_fuzz.cpp - libFuzzer target for StreamReader: data
// arrives in fuzzer-chosen chunks while fuzzer-chosen reads (read(n),
// readexactly, readuntil, readline) consume it. Every result is compared
// with a model of asyncio's streams.py written straight from its docs, so
// the fuzzer finds wrong data, lost or duplicated bytes, and limit/EOF
// handling that differs from asyncio, besides memory errors.
//
// Input: byte 0 picks the limit (1..64); then records, each an opcode byte
// and its operands:
//   0 len bytes...  a chunk of data to arrive (len % 32 bytes)
//   1 n             read(n - 1)          (n - 1 == -1: read to EOF)
//   2 n             readexactly(n)
//   3 k             readuntil(kSeparators[k % 4])
//   4               readline()
// Chunks arrive, in order, only while a read waits for data; EOF comes when
// they run out.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "corio/net/streams.hpp"

namespace {

const char* const kSeparators[] = {"\n", "\r\n", "ab", "xyz"};

struct Op {
    int code;
    long n = 0;
    std::string sep;
};

/// What a read gives: data, or which error (with its payload).
struct Outcome {
    enum Kind { data, incomplete, overrun, line_too_long } kind = data;
    std::string bytes;         // data, or IncompleteReadError::partial
    std::size_t consumed = 0;  // LimitOverrunError::consumed
    bool operator==(const Outcome&) const = default;
};

[[noreturn]] void fail(const char* what, std::size_t op) {
    std::fprintf(stderr, "stream_reader_fuzz: op %zu: %s\n", op, what);
    std::abort();
}

/// asyncio's StreamReader over a plain buffer. step() returns the outcome,
/// or nothing when the read must wait for more data.
struct Model {
    std::string buf;
    bool eof = false;
    std::size_t limit;

    // asyncio's StreamReader.readuntil (3.12), checks in its order.
    std::optional<Outcome> readuntil(const std::string& sep) {
        if (buf.size() >= sep.size()) {
            std::size_t at = buf.find(sep);
            if (at != std::string::npos) {
                if (at > limit) {
                    return Outcome{Outcome::overrun, {}, at};
                }
                return take(at + sep.size());
            }
            std::size_t offset = buf.size() + 1 - sep.size();
            if (offset > limit) {
                return Outcome{Outcome::overrun, {}, offset};
            }
        }
        if (eof) {
            Outcome o{Outcome::incomplete, buf};
            buf.clear();
            return o;
        }
        return std::nullopt;
    }

    std::optional<Outcome> step(const Op& op) {
        switch (op.code) {
            case 1:
                if (op.n == 0) {
                    return Outcome{Outcome::data, {}, 0};
                }
                if (op.n < 0) {
                    if (!eof) {
                        return std::nullopt;
                    }
                    return take(buf.size());
                }
                if (buf.empty() && !eof) {
                    return std::nullopt;
                }
                return take(std::min(buf.size(), static_cast<std::size_t>(op.n)));
            case 2:
                if (buf.size() >= static_cast<std::size_t>(op.n)) {
                    return take(static_cast<std::size_t>(op.n));
                }
                if (eof) {
                    Outcome o{Outcome::incomplete, buf};
                    buf.clear();
                    return o;
                }
                return std::nullopt;
            case 3:
                return readuntil(op.sep);
            default: {  // readline
                std::optional<Outcome> o = readuntil("\n");
                if (!o || o->kind == Outcome::data) {
                    return o;
                }
                if (o->kind == Outcome::incomplete) {
                    return Outcome{Outcome::data, o->bytes};
                }
                if (o->consumed < buf.size() && buf[o->consumed] == '\n') {
                    buf.erase(0, o->consumed + 1);
                } else {
                    buf.clear();
                }
                return Outcome{Outcome::line_too_long, {}, 0};
            }
        }
    }

    Outcome take(std::size_t n) {
        Outcome o{Outcome::data, buf.substr(0, n)};
        buf.erase(0, n);
        return o;
    }
};

corio::Task<Outcome> perform(corio::net::StreamReader reader, Op op) {
    try {
        switch (op.code) {
            case 1:
                co_return Outcome{Outcome::data, co_await reader.read(op.n)};
            case 2:
                co_return Outcome{Outcome::data,
                                  co_await reader.readexactly(static_cast<std::size_t>(op.n))};
            case 3:
                co_return Outcome{Outcome::data, co_await reader.readuntil(op.sep)};
            default:
                co_return Outcome{Outcome::data, co_await reader.readline()};
        }
    } catch (corio::IncompleteReadError& e) {
        co_return Outcome{Outcome::incomplete, std::move(e.partial)};
    } catch (const corio::LimitOverrunError& e) {
        co_return Outcome{Outcome::overrun, {}, e.consumed};
    } catch (const std::invalid_argument&) {
        co_return Outcome{Outcome::line_too_long, {}, 0};
    }
}

corio::Task<void> drive(std::size_t limit, std::deque<std::string> chunks, std::vector<Op> ops) {
    corio::net::StreamReader reader(limit);
    Model model{{}, false, limit};
    auto arrive = [&] {
        if (chunks.empty()) {
            reader.feed_eof();
            model.eof = true;
        } else {
            reader.feed_data(chunks.front());
            model.buf += chunks.front();
            chunks.pop_front();
        }
    };
    ops.push_back(Op{1, -1, {}});  // finally: everything that is left
    for (std::size_t i = 0; i < ops.size(); ++i) {
        auto task = corio::create_task(perform(reader, ops[i]));
        for (;;) {
            // A woken read runs within a few loop iterations.
            for (int k = 0; k < 4 && !task.done(); ++k) {
                co_await corio::sleep(std::chrono::seconds(0));
            }
            std::optional<Outcome> expected = model.step(ops[i]);
            if (task.done() != expected.has_value()) {
                fail(task.done() ? "returned while asyncio would wait for data"
                                 : "waits while asyncio would return",
                     i);
            }
            if (expected) {
                if (!(task.result() == *expected)) {
                    fail("result differs from asyncio's", i);
                }
                break;
            }
            if (model.eof) {
                fail("waits after EOF", i);
            }
            arrive();
        }
    }
    if (!reader.at_eof() && model.eof) {
        fail("not at EOF after reading everything", ops.size());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    std::size_t limit = 1 + data[0] % 64;
    std::deque<std::string> chunks;
    std::vector<Op> ops;
    std::size_t i = 1;
    auto next = [&]() -> int { return i < size ? data[i++] : -1; };
    while (i < size && ops.size() < 64) {
        int code = next() % 5;
        int arg = next();
        if (arg < 0) {
            break;
        }
        switch (code) {
            case 0: {
                std::size_t len = static_cast<std::size_t>(arg % 32);
                len = std::min(len, size - i);
                chunks.emplace_back(reinterpret_cast<const char*>(data + i), len);
                i += len;
                break;
            }
            case 1:
                ops.push_back(Op{1, arg - 1, {}});
                break;
            case 2:
                ops.push_back(Op{2, arg, {}});
                break;
            case 3:
                ops.push_back(Op{3, 0, kSeparators[arg % 4]});
                break;
            default:
                --i;  // readline has no operand
                ops.push_back(Op{4, 0, {}});
                break;
        }
    }
    corio::run(drive(limit, std::move(chunks), std::move(ops)));
    return 0;
}
