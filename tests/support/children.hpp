// tests/support/children.hpp - the child processes a test left behind.
//
// A pool test checks that every worker was reaped. Under ThreadSanitizer
// the runtime itself may have started one child, llvm-symbolizer (to match
// a suppression's function name), which lives as long as the test process:
// it is not the test's, so it is left out.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace corio_test {

/// The pids of this process's children (running or zombie), from
/// /proc/self/task/*/children, except the sanitizer's symbolizer.
inline std::vector<pid_t> child_pids() {
    std::vector<pid_t> out;
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
        std::ifstream in(task.path() / "children");
        for (pid_t pid = 0; in >> pid;) {
            std::string comm;
            std::ifstream("/proc/" + std::to_string(pid) + "/comm") >> comm;
            if (comm != "llvm-symbolizer") {
                out.push_back(pid);
            }
        }
    }
    return out;
}

}  // namespace corio_test
