// Mirrors the shell pipeline `cat words | sort | uniq -c | sort -rn` (count
// the words, most frequent first), built from real child processes with
// asyncio's create_subprocess_exec and PIPE (Python docs, asyncio ›
// Subprocesses): the coroutine feeds each stage's output to the next stage's
// stdin with communicate(). Then a stage whose output is far larger than a
// pipe buffer (`seq 1 100000`, 588895 bytes, against 64 KiB) and one that
// takes it as input while writing nearly as much (`grep -v 7`): communicate()
// writes, reads stdout and stderr concurrently, so neither deadlocks (a
// wait() before reading would). Last, the word count again as one
// create_subprocess_shell command line.
//
//   WORDS = 'the quick brown fox jumps over the lazy dog the fox'.split()
//
//   async def stage(name, proc, data=None):
//       out, _ = await proc.communicate(data)
//       print(f'{name}: return code {proc.returncode}')
//       return out
//
//   async def main():
//       pipe = dict(stdin=PIPE, stdout=PIPE)
//       words = await stage('printf', await asyncio.create_subprocess_exec(
//           'printf', r'%s\n', *WORDS, stdout=PIPE))
//       s = await stage('sort', await asyncio.create_subprocess_exec('sort', **pipe), words)
//       u = await stage('uniq -c', await asyncio.create_subprocess_exec('uniq', '-c', **pipe), s)
//       counts = await stage('sort -rn', await asyncio.create_subprocess_exec(
//           'sort', '-rn', **pipe), u)
//       print(counts.decode(), end='')
//
//       numbers = await stage('seq', await asyncio.create_subprocess_exec(
//           'seq', '1', '100000', stdout=PIPE))
//       lines = numbers.splitlines()
//       print(f'{len(lines)} lines, {len(numbers)} bytes, last line {lines[-1].decode()}')
//       ...                                          # the same for grep -v 7
//
//       shell = await stage('sh', await asyncio.create_subprocess_shell(
//           'sort | uniq -c | sort -rn', **pipe), words)
//       print('same output' if shell == counts else 'different output')
//
//   asyncio.run(main())
#include <algorithm>
#include <corio/corio.hpp>
#include <corio/net.hpp>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

namespace net = corio::net;

namespace {

// Runs one stage to its end: writes `input` (if any) to the child's stdin
// and closes it, reads its stdout to EOF, waits for it, prints its return
// code and returns what it wrote.
corio::Task<std::string> stage(std::string name, net::Process proc,
                               std::optional<std::string> input = std::nullopt) {
    auto [out, err] = co_await proc.communicate(std::move(input));
    std::printf("%s: return code %d\n", name.c_str(), proc.returncode().value_or(-1000));
    co_return out;
}

// "N lines, B bytes, last line L": a summary of a large output.
void summarize(const std::string& out) {
    const auto lines = std::count(out.begin(), out.end(), '\n');
    std::string last = out;
    if (!last.empty() && last.back() == '\n') {
        last.pop_back();
    }
    last = last.substr(last.rfind('\n') + 1);  // npos + 1 == 0: the whole text
    std::printf("  %ld lines, %zu bytes, last line %s\n", static_cast<long>(lines), out.size(),
                last.c_str());
}

corio::Task<> amain() {
    net::SubprocessOptions pipes;
    pipes.stdin_ = net::PIPE;
    pipes.stdout_ = net::PIPE;
    net::SubprocessOptions out_only;
    out_only.stdout_ = net::PIPE;

    // cat words | sort | uniq -c | sort -rn, one stage after the other.
    std::puts(
        "$ printf '%s\\n' the quick brown fox jumps over the lazy dog the fox "
        "| sort | uniq -c | sort -rn");
    net::Process printf_proc = co_await net::create_subprocess_exec(
        "printf", "%s\\n", "the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog",
        "the", "fox", out_only);
    std::string words = co_await stage("printf", std::move(printf_proc));
    net::Process sort_proc = co_await net::create_subprocess_exec("sort", pipes);
    std::string sorted = co_await stage("sort", std::move(sort_proc), words);
    net::Process uniq_proc = co_await net::create_subprocess_exec("uniq", "-c", pipes);
    std::string uniq = co_await stage("uniq -c", std::move(uniq_proc), sorted);
    net::Process rank_proc = co_await net::create_subprocess_exec("sort", "-rn", pipes);
    std::string counts = co_await stage("sort -rn", std::move(rank_proc), uniq);
    std::fputs(counts.c_str(), stdout);

    // Larger than a pipe buffer, out of a child and into the next one.
    std::puts("$ seq 1 100000 | grep -v 7");
    net::Process seq_proc = co_await net::create_subprocess_exec("seq", "1", "100000", out_only);
    std::string numbers = co_await stage("seq", std::move(seq_proc));
    summarize(numbers);
    net::Process grep_proc = co_await net::create_subprocess_exec("grep", "-v", "7", pipes);
    std::string without_7 = co_await stage("grep -v 7", std::move(grep_proc), numbers);
    summarize(without_7);

    // The word count's last three stages as one shell command line.
    std::puts("$ sh -c 'sort | uniq -c | sort -rn'");
    net::Process shell_proc =
        co_await net::create_subprocess_shell("sort | uniq -c | sort -rn", pipes);
    std::string shell_counts = co_await stage("sh", std::move(shell_proc), words);
    std::puts(shell_counts == counts ? "the same counts as the exec pipeline"
                                     : "different counts from the exec pipeline!");
}

}  // namespace

int main() {
    corio::run(amain());
}
