// Vector registers survive stack moves: morestack.S saves the full vector
// state (XSAVE), so __m256 arguments, passed in %ymm registers, arrive intact
// even though the runtime's own code (and glibc's memcpy) ran in between.
#include <catch2/catch.hpp>

#include "test_helpers.h"

#include <immintrin.h>

namespace {

__attribute__((target("avx2"), noinline)) double sum8(__m256d a, __m256d b,
                                                       int depth) {
  // A big frame: the prologue check fails, __morestack runs with a and b
  // live in %ymm0 and %ymm1.
  char big[3000];
  std::memset(big, depth, sizeof big);
  test::keep(big);
  const __m256d s = _mm256_add_pd(a, b);
  double out[4];
  _mm256_storeu_pd(out, s);
  double total = out[0] + out[1] + out[2] + out[3] + big[depth % 3000];
  if (depth > 0)
    total += sum8(_mm256_add_pd(a, _mm256_set1_pd(1.0)), b, depth - 1);
  return total;
}

__attribute__((target("avx2"), noinline)) double run_sums() {
  const __m256d a = _mm256_set_pd(1.5, 2.5, 3.5, 4.5);
  const __m256d b = _mm256_set_pd(10, 20, 30, 40);
  return sum8(a, b, 300);
}

} // namespace

TEST_CASE("ymm arguments survive stack growth and moves", "[vector]") {
  if (!__builtin_cpu_supports("avx2")) {
    WARN("this CPU has no AVX2; nothing to check");
    return;
  }
  const double expected = run_sums(); // on the main thread, never moved
  const double got = test::in_goroutine([] { return run_sums(); });
  CHECK(got == expected);
  CHECK(expected > 0);
}
