// Mirrors the tutorial 《Python中线程、进程与异步的介绍和实现》, "六、异步编程 (2) 2、yield from":
// the delegating generator grouper() passes every send() straight to the sub-generator averager()
// and receives its return value (Python's StopIteration.value) when it ends.
//
//   def averager():                       def grouper(results, key):
//       while True:                           while True:
//           term = yield                          results[key] = yield from averager()
//           if term is None: break
//           ...                           group = grouper(results, key); next(group)
//       return Result(count, average)     for value in values: group.send(value)
//                                         group.send(None)
//
// The seed also defines main2() (the same without yield from, catching
// StopIteration by hand) but never calls it; it has no counterpart here.
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/generator.hpp"

namespace {

struct Result {
    int count;
    std::optional<double> average;
};

using Term = std::optional<double>;  // what send() passes in; nullopt is None

// The sub-generator.
example::Generator<example::None, Term, Result> averager() {
    double total = 0.0;
    int count = 0;
    std::optional<double> average;
    while (true) {
        Term term = co_yield example::none;
        if (!term) {
            break;
        }
        total += *term;
        count += 1;
        average = total / count;
    }
    co_return Result{count, average};
}

// The delegating generator: only when averager() ends does results[key] get its value.
example::Generator<example::None, Term> grouper(std::map<std::string, Result>& results,
                                                std::string key) {
    while (true) {
        results.insert_or_assign(key, co_yield example::from(averager()));
    }
}

void report(const std::map<std::string, Result>& results) {
    for (const auto& [key, result] : results) {  // a std::map is sorted by key
        std::string group = key.substr(0, key.find(';'));
        std::string unit = key.substr(key.find(';') + 1);
        std::printf("%2d %-5s averaging %.2f%s\n", result.count, group.c_str(),
                    result.average.value(), unit.c_str());
    }
}

void main_(const std::vector<std::pair<std::string, std::vector<double>>>& data) {
    std::map<std::string, Result> results;
    for (const auto& [key, values] : data) {
        auto group = grouper(results, key);
        group.next();
        for (double value : values) {
            group.send(value);
        }
        group.send(std::nullopt);
    }
    report(results);
}

}  // namespace

int main() {
    main_({
        {"girls;kg", {40.9, 38.5, 44.3, 42.2, 45.2, 41.7, 44.5, 38.0, 40.6, 44.5}},
        {"girls;m", {1.6, 1.51, 1.4, 1.3, 1.41, 1.39, 1.33, 1.46, 1.45, 1.43}},
        {"boys;kg", {39.0, 40.8, 43.2, 40.8, 43.1, 38.6, 41.4, 40.6, 36.3}},
        {"boys;m", {1.38, 1.5, 1.32, 1.25, 1.37, 1.48, 1.25, 1.49, 1.46}},
    });
}
