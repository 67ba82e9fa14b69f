// The public headers compile and work under -fno-exceptions (see
// CMakeLists.txt): go::run, go::spawn with arguments, channels, select,
// timers, sync and go::local, with stacks that grow. Prints "ok" and exits 0.
#include <goroutine/chan.hpp>
#include <goroutine/goroutine.hpp>
#include <goroutine/local.hpp>
#include <goroutine/sync.hpp>
#include <goroutine/time.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#if __cpp_exceptions
#error "no_exceptions.cpp must be compiled with -fno-exceptions"
#endif

namespace {

__attribute__((noinline)) int deep(int n) {
  char buf[256];
  std::memset(buf, n, sizeof buf);
  return n == 0 ? 0 : deep(n - 1) + (buf[n % 256] & 1);
}

int failures = 0;

void check(bool ok, const char *what) {
  if (!ok) {
    std::printf("FAIL: %s\n", what);
    ++failures;
  }
}

} // namespace

int main() {
  go::run([] {
    go::chan<std::unique_ptr<int>> results(4);
    go::wait_group wg;
    go::mutex mu;
    int total = 0;
    go::local<std::string> name;
    for (int i = 0; i < 4; ++i) {
      wg.add(1);
      go::spawn(
          [&](int id, std::string label) {
            *name = label;
            const int d = deep(2000 * (id + 1));
            {
              std::lock_guard<go::mutex> lock(mu);
              total += d;
            }
            check(*name == label, "go::local keeps each goroutine's value");
            results.send(std::make_unique<int>(id));
            wg.done();
          },
          i, "worker " + std::to_string(i));
    }
    wg.wait();
    results.close();
    int sum = 0;
    for (const std::unique_ptr<int> &v : results)
      sum += *v;
    check(sum == 0 + 1 + 2 + 3, "every result arrives");
    check(total == 1000 * (1 + 2 + 3 + 4), "deep recursion on goroutines");

    go::chan<int> never;
    bool timed_out = false;
    go::select(go::recv_case(never),
               go::recv_case(go::after(std::chrono::milliseconds(1)),
                             [&](auto) { timed_out = true; }));
    check(timed_out, "select with a timer");
  });
  if (failures == 0)
    std::puts("ok");
  return failures == 0 ? 0 : 1;
}
