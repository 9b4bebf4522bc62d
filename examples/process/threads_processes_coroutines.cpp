// The tutorial 《Python中线程、进程与异步的介绍和实现》 walks from one thread
// to threads, processes and coroutines; this program puts the three side by
// side on the two kinds of work it talks about, and prints what each took:
//
//   CPU-bound: 4 jobs that count primes (about 0.1 s each on one core)
//   I/O-bound: 4 jobs that wait 0.2 s (a stand-in for a network reply)
//
// each run one after the other, on 4 threads (ThreadPoolExecutor), on 4
// worker processes (ProcessPoolExecutor), and as 4 coroutines on one loop.
//
// What to read in the times (they depend on the machine and its load):
// - I/O-bound work overlaps however it is spread: threads, processes and
//   coroutines all take about one wait (0.2 s) instead of four; coroutines
//   do it on one thread, without a thread or a process per wait.
// - CPU-bound work speeds up only with more cores: threads and processes
//   divide the time by up to the number of cores; coroutines on one loop
//   take as long as running the jobs in a row (a coroutine that computes
//   never gives the loop back). Unlike CPython, C++ threads have no GIL, so
//   for CPU-bound work in C++ threads are as good as processes, and cheaper;
//   processes are for isolation (a crash, a leak, a library that is not
//   thread-safe), which is why corio has both.
#include <chrono>
#include <corio/corio.hpp>
#include <corio/process.hpp>
#include <cstdio>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

// Primes below n by trial division: plain CPU work.
long count_primes(long n) {
    long count = 0;
    for (long i = 2; i < n; ++i) {
        bool prime = true;
        for (long d = 2; d * d <= i; ++d) {
            if (i % d == 0) {
                prime = false;
                break;
            }
        }
        count += prime;
    }
    return count;
}
constexpr long kPrimesBelow = 700000;
// Where the sequential run's answers go: a volatile store the optimiser must
// keep, so it keeps the calls that compute them.
volatile long sink = 0;

// A blocking wait (time.sleep): what a thread or a process does for I/O.
int blocking_io(int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return ms;
}
CORIO_PROCESS_REGISTER(count_primes);
CORIO_PROCESS_REGISTER(blocking_io);

constexpr int kJobs = 4;
constexpr int kWaitMs = 200;

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void report(const char* work, const char* how, double s, double sequential) {
    if (sequential > 0) {
        std::printf("%-10s %-11s %5.2f s  (%.1fx)\n", work, how, s, sequential / s);
    } else {
        std::printf("%-10s %-11s %5.2f s\n", work, how, s);
    }
}

corio::Task<> as_coroutines(bool cpu) {
    std::vector<corio::Task<long>> jobs;
    for (int i = 0; i < kJobs; ++i) {
        jobs.push_back([](bool cpu) -> corio::Task<long> {
            if (cpu) {
                co_return count_primes(kPrimesBelow);  // never gives the loop back
            }
            co_await corio::sleep(std::chrono::milliseconds(kWaitMs));  // gives it back
            co_return kWaitMs;
        }(cpu));
    }
    co_await corio::gather(std::move(jobs));
}

}  // namespace

int main(int argc, char** argv) {
    corio::process::worker_main_if_child(argc, argv);
    std::printf("%d jobs each; %u cores\n", kJobs, std::thread::hardware_concurrency());
    // The worker processes start once, before the timings (a pool is made
    // once and reused, so its start-up is not part of any one batch).
    corio::process::ProcessPoolExecutor processes(kJobs);
    corio::ThreadPoolExecutor threads(kJobs);
    processes.map(blocking_io, std::vector<int>(kJobs, 0)).all();

    for (bool cpu : {true, false}) {
        const char* work = cpu ? "CPU-bound" : "I/O-bound";
        auto start = std::chrono::steady_clock::now();
        long answers = 0;  // used below, so the optimiser cannot drop the work
        for (int i = 0; i < kJobs; ++i) {
            answers += cpu ? count_primes(kPrimesBelow) : blocking_io(kWaitMs);
        }
        sink = answers;
        double sequential = seconds_since(start);
        report(work, "sequential", sequential, 0);

        start = std::chrono::steady_clock::now();
        std::vector<corio::ConcurrentFuture<long>> futures;
        for (int i = 0; i < kJobs; ++i) {
            futures.push_back(threads.submit([cpu] {
                return cpu ? count_primes(kPrimesBelow) : static_cast<long>(blocking_io(kWaitMs));
            }));
        }
        for (auto& f : futures) {
            f.result();
        }
        report(work, "threads", seconds_since(start), sequential);

        start = std::chrono::steady_clock::now();
        if (cpu) {
            processes.map(count_primes, std::vector<long>(kJobs, kPrimesBelow)).all();
        } else {
            processes.map(blocking_io, std::vector<int>(kJobs, kWaitMs)).all();
        }
        report(work, "processes", seconds_since(start), sequential);

        start = std::chrono::steady_clock::now();
        corio::run(as_coroutines(cpu));
        report(work, "coroutines", seconds_since(start), sequential);
    }
}
