// stack_usage: how much stack calls into libc, libm and libstdc++ use on this
// machine. The plugin's reserve below uninstrumented calls (16 KiB) and the
// smaller libm reserve (2 KiB) are chosen from these numbers (docs/design.md, "The reserve for uninstrumented calls").
//
// Each case runs in a fresh process (so a first call pays for the dynamic
// linker's lazy binding inside shared libraries, which -z now on the
// executable does not cover), on a thread whose stack is painted with a
// pattern; the deepest byte no longer holding the pattern gives the bytes
// used. The thread's own start-up depth is measured with an empty call and
// subtracted. Linked like instrumented programs (-z now).
//
// Output: one line per case, "<case> <first call> <later calls>" in bytes.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <netdb.h>
#include <pthread.h>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace {

constexpr size_t kStackSize = 256 * 1024;
constexpr unsigned char kPaint = 0xa5;

volatile double sink_double;
volatile long sink_long;

int compare_ints(const void *a, const void *b) {
  return *static_cast<const int *>(a) - *static_cast<const int *>(b);
}

struct Case {
  const char *name;
  void (*run)();
};

const Case kCases[] = {
    {"empty", [] {}},
    {"memcpy+strlen",
     [] {
       char a[64], b[64] = "some text";
       std::memcpy(a, b, sizeof a);
       sink_long = static_cast<long>(std::strlen(a));
     }},
    {"malloc+free",
     [] {
       void *p = std::malloc(100);
       sink_long = reinterpret_cast<long>(p);
       std::free(p);
     }},
    {"printf+fflush",
     [] {
       std::printf("%s", "");
       std::fflush(stdout);
     }},
    {"snprintf(%d %s)",
     [] {
       char b[64];
       sink_long = std::snprintf(b, sizeof b, "%d %s", 42, "x");
     }},
    {"snprintf(%f %g %e)",
     [] {
       char b[128];
       sink_long = std::snprintf(b, sizeof b, "%f %g %e", 3.14, 2.5e-7, 6e23);
     }},
    {"snprintf(%.50Lf)",
     [] {
       char b[128];
       sink_long = std::snprintf(b, sizeof b, "%.50Lf", 1.0L / 3);
     }},
    {"qsort",
     [] {
       int v[64];
       for (int i = 0; i < 64; ++i)
         v[i] = (i * 37) % 64;
       std::qsort(v, 64, sizeof(int), compare_ints);
       sink_long = v[5];
     }},
    {"strtod", [] { sink_double = std::strtod("1.2345e-300", nullptr); }},
    {"fopen+fread+fclose",
     [] {
       FILE *f = std::fopen("/proc/self/stat", "r");
       char b[64];
       if (f != nullptr) {
         sink_long = static_cast<long>(std::fread(b, 1, sizeof b, f));
         std::fclose(f);
       }
     }},
    {"localtime_r+strftime",
     [] {
       const time_t t = 1700000000;
       struct tm tm;
       localtime_r(&t, &tm);
       char b[64];
       sink_long = static_cast<long>(std::strftime(b, sizeof b, "%c %Z", &tm));
     }},
    {"getaddrinfo(localhost)",
     [] {
       struct addrinfo *res = nullptr;
       if (getaddrinfo("localhost", "80", nullptr, &res) == 0)
         freeaddrinfo(res);
     }},
    {"libm pow+sin+exp+log+fmod",
     [] {
       volatile double x = 0.7;
       sink_double = std::pow(x, 3.3) + std::sin(x * 1e6) + std::exp(x) +
                     std::log(x) + std::fmod(x * 1e9, 3.0);
     }},
    {"new[]+delete[]",
     [] {
       auto *p = new int[100];
       sink_long = reinterpret_cast<long>(p);
       delete[] p;
     }},
    {"std::cout<<flush", [] { std::cout << std::flush; }},
    {"ostringstream<<double",
     [] {
       std::ostringstream os;
       os << 3.14159;
       sink_long = static_cast<long>(os.str().size());
     }},
    {"std::to_string(double)",
     [] { sink_long = static_cast<long>(std::to_string(2.5).size()); }},
    {"throw+catch",
     [] {
       try {
         throw std::runtime_error("x");
       } catch (const std::exception &e) {
         sink_long = static_cast<long>(std::strlen(e.what()));
       }
     }},
};

unsigned char *stack_memory;
const Case *current;
size_t used[2];

size_t high_water() {
  size_t i = 0;
  while (i < kStackSize && stack_memory[i] == kPaint)
    ++i;
  return kStackSize - i;
}

void *measure(void *) {
  for (size_t &u : used) {
    current->run();
    u = high_water();
    // Repaint below this frame for the second, warm call.
    volatile unsigned char here;
    const size_t limit = static_cast<size_t>(&here - stack_memory) - 512;
    std::memset(stack_memory, kPaint, limit);
  }
  return nullptr;
}

// The bytes one case uses: first call, later calls.
void run_case(const Case &c) {
  current = &c;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  stack_memory =
      static_cast<unsigned char *>(std::aligned_alloc(4096, kStackSize));
  std::memset(stack_memory, kPaint, kStackSize);
  pthread_attr_setstack(&attr, stack_memory, kStackSize);
  pthread_t t;
  pthread_create(&t, &attr, measure, nullptr);
  pthread_join(t, nullptr);
}

} // namespace

int main() {
  // The thread's own depth before the call, to subtract.
  size_t base[2] = {0, 0};
  for (const Case &c : kCases) {
    int fds[2];
    if (pipe(fds) != 0)
      return 1;
    if (fork() == 0) {
      run_case(c);
      if (write(fds[1], used, sizeof used) != sizeof used)
        _exit(1);
      _exit(0);
    }
    size_t result[2] = {0, 0};
    if (read(fds[0], result, sizeof result) != sizeof result)
      return 1;
    wait(nullptr);
    close(fds[0]);
    close(fds[1]);
    if (std::strcmp(c.name, "empty") == 0) {
      base[0] = result[0];
      base[1] = result[1];
      continue;
    }
    std::printf("%-28s %6zu %6zu\n", c.name, result[0] - base[0],
                result[1] - base[1]);
    std::fflush(stdout);
  }
  return 0;
}
