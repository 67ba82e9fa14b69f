// A program linked by ld.lld (-fuse-ld=lld, see CMakeLists.txt). lld rewrites
// the split-stack prologue of an instrumented function that calls code
// without split-stack notes: here `deep`, which calls lld_plain.c. Its short
// check becomes `stc` (always calls the runtime) or its long one asks for
// 16 KiB more, and its __morestack call goes to __morestack_non_split. Calls
// into the runtime must be left alone (runtime/src/split_stack_notes.h).
// Four goroutines call a patched short-check function 100,000 times and
// recurse 2,000 deep through patched frames while their stacks grow and (in
// torture mode) move; exits 0 if every result is right.
#include <goroutine/goroutine.hpp>

#include <cstdio>
#include <cstring>

extern "C" int lld_plain_add(int a, int b);

namespace {

__attribute__((noinline)) int deep(int n) {
  char buf[256];
  std::memset(buf, n & 0x7f, sizeof buf);
  asm volatile("" : : "r"(buf) : "memory");
  const int step = buf[n % sizeof buf] == (n & 0x7f) ? 1 : 1000;
  return n == 0 ? lld_plain_add(step, 0) : lld_plain_add(deep(n - 1), step);
}

// A frame under 256 bytes: its short check becomes `stc`, so every call
// goes through the runtime's fast path.
__attribute__((noinline)) int shallow(int x) { return lld_plain_add(x, 1); }

} // namespace

int main() {
  int results[4] = {};
  go::run([&results] {
    go::wait_group wg;
    for (int i = 0; i < 4; ++i) {
      wg.add(1);
      go::spawn([&results, &wg, i] {
        int sum = 0;
        for (int k = 0; k < 100000; ++k)
          sum = shallow(sum);
        results[i] = deep(2000 + i) + sum - 100000;
        wg.done();
      });
    }
    wg.wait();
  });
  int bad = 0;
  for (int i = 0; i < 4; ++i)
    if (results[i] != 2001 + i) {
      std::printf("FAIL: goroutine %d computed %d, not %d\n", i, results[i],
                  2001 + i);
      ++bad;
    }
  std::printf("%s\n", bad == 0 ? "ok" : "FAIL");
  return bad == 0 ? 0 : 1;
}
