#include <catch2/catch.hpp>

#include <cstddef>

extern "C" int c_api_check(long *vsum, long *expected_vsum, int *sorted,
                           int *jumped, size_t *stack);

TEST_CASE("C code on goroutines: variadics, VLAs, qsort, setjmp", "[c]") {
  long vsum = 0, expected = 0;
  int sorted = 0, jumped = 0;
  size_t stack = 0;
  CHECK(c_api_check(&vsum, &expected, &sorted, &jumped, &stack) == 1);
  CHECK(vsum == expected);
  CHECK(sorted == 1);
  CHECK(jumped == 1);
  CHECK(stack >= 32 * 1024);
}
