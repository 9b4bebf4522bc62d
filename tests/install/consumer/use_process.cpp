// corio::process from an installed corio: a value through the codec, and a
// call in a worker process (this program, started again).
#include <corio/process.hpp>
#include <cstdio>
#include <map>
#include <string>

namespace {

int add(int a, int b) {
    return a + b;
}
CORIO_PROCESS_REGISTER(add);

}  // namespace

int main(int argc, char** argv) {
    corio::process::worker_main_if_child(argc, argv);
    std::map<std::string, int> m{{"a", 1}};
    auto back = corio::process::decode<std::map<std::string, int>>(corio::process::encode(m));
    corio::process::ProcessPoolExecutor pool(1);
    int sum = pool.submit(add, 40, 2).result();
    std::printf("process: %d, %zu entry\n", sum, back.size());
    return sum == 42 && back == m ? 0 : 1;
}
