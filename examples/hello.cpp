// The smallest goroutine program: go::run runs a function as the main
// goroutine, on a 2 KiB stack that grows as needed.
#include <goroutine/goroutine.hpp>

#include <cstdio>

int main() {
  go::run([] {
    std::printf("Hello from goroutine %llu, on a %zu-byte stack\n",
                static_cast<unsigned long long>(go::goroutine_id()),
                go::stack_size());
  });
  std::printf("Main function\n");
}
