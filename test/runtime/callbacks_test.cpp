// Uninstrumented library code on goroutine stacks: callbacks from libc into
// instrumented code that grows the stack (moving libc's own frames), and the
// reserve below calls into libc/libstdc++ at every distance from the limit.
#include <catch2/catch.hpp>

#include "test_helpers.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>

namespace {

// A comparator that needs a lot of stack: qsort's frames (and the pointers in
// them to the array, which lives on the goroutine stack) move under it.
int deep_compare(const void *a, const void *b) {
  const int x = *static_cast<const int *>(a);
  const int y = *static_cast<const int *>(b);
  const int noise =
      test::burn<500>(40 + (x & 15), x) - test::burn<500>(40 + (x & 15), x);
  return (x > y) - (x < y) + noise;
}

TEST_CASE("qsort and bsearch call back into code that grows the stack",
          "[callbacks]") {
  struct Result {
    int sorted = 0, found = 0, missing = 0;
    size_t stack = 0;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    int values[500];
    for (int i = 0; i < 500; ++i)
      values[i] = (i * 7919) % 1000;
    std::qsort(values, 500, sizeof(int), deep_compare);
    res.sorted = 1;
    for (int i = 1; i < 500; ++i)
      if (values[i - 1] > values[i])
        res.sorted = 0;
    for (int i = 0; i < 500; ++i) {
      const int key = values[i];
      const void *hit =
          std::bsearch(&key, values, 500, sizeof(int), deep_compare);
      res.found += hit != nullptr && *static_cast<const int *>(hit) == key;
    }
    const int absent = 1001;
    res.missing = std::bsearch(&absent, values, 500, sizeof(int),
                               deep_compare) == nullptr;
    res.stack = go::stack_size();
    return res;
  });
  CHECK(r.sorted == 1);
  CHECK(r.found == 500);
  CHECK(r.missing == 1);
  CHECK(r.stack >= 32 * 1024);
}

// Recurses with small frames, then runs f(): f starts at a different
// distance from the end of the first 2 KiB stack for every depth.
template <class F>
__attribute__((noinline)) std::string near_edge(int depth, F &f) {
  volatile char pad[40];
  pad[0] = 1;
  if (depth == 0)
    return f();
  std::string s = near_edge(depth - 1, f);
  s.push_back(pad[0] == 1 ? '.' : '!');
  return s;
}

template <class F> void check_near_edge(F f) {
  for (int d = 0; d < 40; ++d) {
    const std::string expected = near_edge(d, f);
    const std::string got = test::in_goroutine([&] { return near_edge(d, f); });
    INFO("depth " << d);
    REQUIRE(got == expected);
  }
}

TEST_CASE("snprintf from a nearly full stack", "[callbacks]") {
  check_near_edge([] {
    char buf[256];
    std::snprintf(buf, sizeof buf, "%d %s %f %g %e %.30Lf", 42, "str", 3.25,
                  1e-7, 6.02e23, 1.0L / 3);
    return std::string(buf);
  });
}

TEST_CASE("printf to a stream from a nearly full stack", "[callbacks]") {
  check_near_edge([] {
    FILE *f = std::fopen("/dev/null", "w");
    const int n =
        std::fprintf(f, "%s %08.3f %lld\n", "x", 2.5, 1234567890123LL);
    std::fclose(f);
    return std::to_string(n);
  });
}

TEST_CASE("iostreams from a nearly full stack", "[callbacks]") {
  check_near_edge([] {
    std::ostringstream os;
    os << std::setprecision(12) << 3.14159265358979 << ' ' << 42 << ' '
       << std::hex << 255 << ' ' << std::to_string(2.5);
    std::cout << std::flush;
    return os.str();
  });
}

TEST_CASE("libm and strtod from a nearly full stack", "[callbacks]") {
  check_near_edge([] {
    volatile double x = 0.7;
    const double v = std::pow(x, 3.3) + std::sin(x) + std::fmod(x * 10, 3.0) +
                     std::strtod("1.5e3", nullptr) + std::exp(x) +
                     std::log1p(x);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.12g", v);
    return std::string(buf);
  });
}

TEST_CASE("malloc, new and strings from a nearly full stack", "[callbacks]") {
  check_near_edge([] {
    std::string s(100, 'x');
    auto *p = new int[1000];
    p[999] = 5;
    void *q = std::malloc(12345);
    std::memset(q, 1, 12345);
    s += std::to_string(p[999] + static_cast<char *>(q)[12344]);
    std::free(q);
    delete[] p;
    return s;
  });
}

} // namespace
