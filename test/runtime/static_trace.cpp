// A -static program (see CMakeLists.txt): a panic and a deadlock report must
// print their traces, with function names, instead of crashing inside libdw
// (runtime/src/symbolize.cpp leaves libdw out of static programs).
//   static_trace panic | deadlock
#include <goroutine/goroutine.hpp>

#include <cstring>

namespace {

__attribute__((noinline)) void close_twice(go::chan<int> c) {
  c.close();
  c.close();
}

} // namespace

int main(int argc, char **argv) {
  if (argc == 2 && std::strcmp(argv[1], "panic") == 0)
    go::run([] { close_twice(go::chan<int>()); });
  else if (argc == 2 && std::strcmp(argv[1], "deadlock") == 0)
    go::run([] { go::chan<int>().recv(); });
  return 1;
}
