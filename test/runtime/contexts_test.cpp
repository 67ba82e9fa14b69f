// Code that makes its own execution contexts runs instrumented code correctly
// inside goroutines (runtime/src/contexts.cpp): clone() with a stack of its
// own, vfork(), posix_spawn(), the ucontext functions (with the side stacks
// of user contexts) and sigaltstack. The tests that create processes check
// the children's exit statuses; each runs its stack-hungry code after the
// goroutine's stack has grown (and, in torture mode, moved), so the child
// inherits a real goroutine limit.
#include <catch2/catch.hpp>

#include "test_helpers.h"

#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>
#include <vector>

extern char **environ;

namespace {

uintptr_t current_sp() { // (the address of a local may be on the side stack)
  uintptr_t v;
  asm volatile("movq %%rsp, %0" : "=r"(v));
  return v;
}

uintptr_t current_limit() {
  uintptr_t v;
  asm volatile("movq %%fs:0x70, %0" : "=r"(v));
  return v;
}

// Deep enough to need several stack growths from a 2 KiB stack.
constexpr int kDepth = 200;
int expected_burn() { return test::burn(kDepth, 3); }

// Exit status of a child, or -1 for anything but a normal exit.
int wait_exit(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid)
    return -2;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A clone child: instrumented recursion on the child's own stack; exits 42
// when it computes what the parent computed and runs with the limit cleared.
int clone_child_main(void *arg) {
  const int want = *static_cast<int *>(arg);
  const bool ok = test::burn(kDepth, 3) == want && current_limit() == 0;
  _exit(ok ? 42 : 1);
}

int clone_with_stack(void *top, int flags) {
  static int want; // the child reads it from its copy (or the shared memory)
  want = expected_burn();
  const pid_t pid = clone(clone_child_main, top, flags, &want);
  if (pid < 0)
    return -3;
  return wait_exit(pid);
}

alignas(64) char static_child_stack[256 * 1024];

TEST_CASE("a clone() child on an mmap'd stack runs instrumented code",
          "[contexts]") {
  const int rc = test::in_goroutine([] {
    test::burn(kDepth); // grow (and, in torture mode, move) first
    const size_t size = 256 * 1024;
    void *stack = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    const int r = clone_with_stack(static_cast<char *>(stack) + size, SIGCHLD);
    munmap(stack, size);
    return r;
  });
  CHECK(rc == 42);
}

TEST_CASE("a clone() child on a static array runs instrumented code",
          "[contexts]") {
  const int rc = test::in_goroutine([] {
    test::burn(kDepth);
    return clone_with_stack(static_child_stack + sizeof static_child_stack,
                            SIGCHLD);
  });
  CHECK(rc == 42);
}

TEST_CASE("a clone(CLONE_VM|CLONE_VFORK) child shares memory, and the parent "
          "keeps its goroutine",
          "[contexts]") {
  struct Result {
    int rc = 0;
    uint64_t id_before = 0, id_after = 0;
    uintptr_t limit_before = 0, limit_after = 0;
    int burn_after = 0;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    test::burn(kDepth);
    res.id_before = go::goroutine_id();
    res.limit_before = current_limit();
    res.rc = clone_with_stack(static_child_stack + sizeof static_child_stack,
                              CLONE_VM | CLONE_VFORK | SIGCHLD);
    res.id_after = go::goroutine_id();
    res.limit_after = current_limit();
    res.burn_after = test::burn(kDepth * 2, 5); // checks and moves still work
    return res;
  });
  CHECK(r.rc == 42);
  CHECK(r.id_after == r.id_before);
  CHECK(r.limit_after == r.limit_before);
  CHECK(r.burn_after == test::burn(kDepth * 2, 5));
}

TEST_CASE("clone() outside goroutines", "[contexts]") {
  CHECK(clone_with_stack(static_child_stack + sizeof static_child_stack,
                         SIGCHLD) == 42);
}

// vfork: the child runs instrumented code on (its copy of) the goroutine
// stack, then exits or execs; the parent's stack is untouched.
__attribute__((noinline)) int vfork_and_exit(int want) {
  const pid_t pid = vfork();
  if (pid == 0)
    _exit(test::burn(kDepth, 3) == want && current_limit() == 0 ? 43 : 1);
  return pid < 0 ? -3 : wait_exit(pid);
}

__attribute__((noinline)) int vfork_and_exec() {
  const pid_t pid = vfork();
  if (pid == 0) {
    test::burn(kDepth, 3);
    execl("/bin/sh", "sh", "-c", "exit 44", static_cast<char *>(nullptr));
    _exit(1);
  }
  return pid < 0 ? -3 : wait_exit(pid);
}

TEST_CASE("vfork() children run instrumented code, then _exit or exec",
          "[contexts]") {
  struct Result {
    int exited = 0, execed = 0, burn_after = 0;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    const int want = expected_burn();
    test::burn(kDepth);
    res.exited = vfork_and_exit(want);
    res.execed = vfork_and_exec();
    res.burn_after = test::burn(kDepth * 2, 5);
    return res;
  });
  CHECK(r.exited == 43);
  CHECK(r.execed == 44);
  CHECK(r.burn_after == test::burn(kDepth * 2, 5));
}

// Runs f(i) for i in [0, n) in as many goroutines at once, inside go::run;
// returns how many returned true.
template <class F> int count_in_goroutines(int n, F f) {
  std::atomic<int> good{0};
  test::in_goroutine([&] {
    go::wait_group wg;
    for (int i = 0; i < n; ++i) {
      wg.add(1);
      go::spawn([&, i] {
        if (f(i))
          good.fetch_add(1);
        wg.done();
      });
    }
    wg.wait();
  });
  return good.load();
}

int spawn_shell(const char *script) {
  pid_t pid;
  char sh[] = "sh", c[] = "-c";
  char *argv[] = {sh, c, const_cast<char *>(script), nullptr};
  if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv, environ) != 0)
    return -3;
  return wait_exit(pid);
}

TEST_CASE("posix_spawn() from goroutines", "[contexts]") {
  CHECK(count_in_goroutines(4, [](int i) {
          test::burn(kDepth + i * 50);
          return spawn_shell("exit 45") == 45;
        }) == 4);
  // A failed exec is reported through the memory the child shares.
  const int rc = test::in_goroutine([] {
    test::burn(kDepth);
    pid_t pid;
    char name[] = "/nonexistent/program";
    char *argv[] = {name, nullptr};
    return posix_spawn(&pid, name, nullptr, nullptr, argv, environ);
  });
  CHECK(rc == ENOENT);
}

// A generator: a user context on a heap stack yields the squares of 1..n to
// the goroutine that resumes it, running instrumented recursion in between.
struct Generator {
  ucontext_t caller{}, self{};
  void *stack = nullptr;
  int n = 0, value = 0;
  bool done = false;
  uintptr_t limit_inside = 1;
  bool yield_inside = false; // park the goroutine while in the context
};
// The generator's address comes as two int arguments (makecontext passes
// ints): goroutines on other threads run generators of their own at the same
// time, so no global can hand it over.
void generator_body(unsigned hi, unsigned lo) {
  auto *gen = reinterpret_cast<Generator *>(uintptr_t{hi} << 32 | lo);
  for (int i = 1; i <= gen->n; ++i) {
    gen->limit_inside = current_limit();
    gen->value = test::burn(kDepth, i) / (kDepth + 1) * i; // i * i
    try { // the unwinder runs on the context's stack too
      if (i % 3 == 0)
        throw i;
    } catch (int thrown) {
      gen->value = test::burn(kDepth, thrown) / (kDepth + 1) * thrown;
    }
    if (gen->yield_inside) {
      go::yield();
      go::sleep_for(std::chrono::microseconds(100));
      if (current_limit() != 0)
        gen->limit_inside = current_limit();
    }
    swapcontext(&gen->self, &gen->caller);
  }
  gen->done = true; // returns to uc_link: gen->caller
}

void generator_start(Generator *gen, size_t stack_size) {
  gen->stack = std::malloc(stack_size);
  getcontext(&gen->self);
  gen->self.uc_stack.ss_sp = gen->stack;
  gen->self.uc_stack.ss_size = stack_size;
  gen->self.uc_link = &gen->caller;
  const auto addr = reinterpret_cast<uintptr_t>(gen);
  makecontext(&gen->self, reinterpret_cast<void (*)()>(generator_body), 2,
              static_cast<unsigned>(addr >> 32), static_cast<unsigned>(addr));
}

// Resumes gen until it is done; returns the sum of the values, or -1 if the
// limit was wrong on either side.
__attribute__((noinline)) long run_generator(Generator *gen) {
  long sum = 0;
  for (;;) {
    test::burn(kDepth, 7); // the goroutine's stack grows and moves in between
    swapcontext(&gen->caller, &gen->self);
    if (current_limit() == 0 || gen->limit_inside != 0)
      return -1;
    if (gen->done)
      return sum;
    sum += gen->value;
  }
}

TEST_CASE("makecontext/swapcontext generators inside goroutines",
          "[contexts]") {
  constexpr int n = 20;
  constexpr long want = n * (n + 1) * (2 * n + 1) / 6;
  CHECK(count_in_goroutines(4, [](int i) {
          Generator gen;
          gen.n = n;
          gen.yield_inside = i % 2 == 1;
          generator_start(&gen, 256 * 1024);
          const bool ok =
              run_generator(&gen) == want &&
              test::burn(kDepth * 2, 5) == test::burn(kDepth * 2, 5);
          std::free(gen.stack);
          return ok;
        }) == 4);
}

// Runs fn() on a user context with a heap stack of its own and returns once
// fn returns (through uc_link).
void run_on_context(void (*fn)()) {
  std::vector<char> stack(256 * 1024);
  ucontext_t caller, self;
  getcontext(&self);
  self.uc_stack.ss_sp = stack.data();
  self.uc_stack.ss_size = stack.size();
  self.uc_link = &caller;
  makecontext(&self, fn, 0);
  swapcontext(&caller, &self);
}

TEST_CASE("makecontext with arguments on the stack", "[contexts]") {
  static long total;
  static ucontext_t caller, self;
  struct F {
    static void sum8(int a, int b, int c, int d, int e, int f, int g, int h) {
      total = test::burn(kDepth, 1) + a + 2 * b + 3 * c + 4 * d + 5 * e +
              6 * f + 7 * g + 8 * h;
    }
  };
  const long got = test::in_goroutine([] {
    std::vector<char> stack(256 * 1024);
    getcontext(&self);
    self.uc_stack.ss_sp = stack.data();
    self.uc_stack.ss_size = stack.size();
    self.uc_link = &caller;
    makecontext(&self, reinterpret_cast<void (*)()>(F::sum8), 8, 1, 2, 3, 4, 5,
                6, 7, 8);
    test::burn(kDepth);
    swapcontext(&caller, &self);
    return total;
  });
  CHECK(got == test::burn(kDepth, 1) + 204);
}

// Locals whose address escapes live on a side stack (LIFO); each context
// needs its own, or the caller's frames overwrite the suspended context's.
int *volatile escape_sink; // storing a local's address here makes it escape

__attribute__((noinline)) int fill_escaping(int seed) {
  int local[64]; // escapes: on the side stack of the running context
  escape_sink = local;
  for (int i = 0; i < 64; ++i)
    local[i] = seed * 1000 + i;
  int sum = 0;
  for (int i = 0; i < 64; ++i)
    sum += escape_sink[i];
  return sum;
}

struct Coroutine {
  ucontext_t caller{}, self{};
  bool intact = true;
};
Coroutine *running_coroutine;

void coroutine_body() {
  Coroutine *co = running_coroutine;
  int mine[64]; // escapes, and must survive the caller's side frames
  escape_sink = mine;
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 64; ++i)
      mine[i] = round * 100 + i;
    swapcontext(&co->self, &co->caller);
    for (int i = 0; i < 64; ++i)
      if (mine[i] != round * 100 + i)
        co->intact = false;
    if (fill_escaping(round) != 64 * 1000 * round + 2016)
      co->intact = false;
  }
}

// Resumes co from a frame of its own on the side stack, which is gone (and
// its side stack space reused) by the time co is resumed again.
__attribute__((noinline)) void resume(Coroutine *co) {
  int token[16];
  escape_sink = token;
  token[0] = 1;
  swapcontext(&co->caller, &co->self);
}

// Resumes a coroutine 11 times, calling code with escaping locals in between;
// true if nobody's side frames were overwritten.
bool side_stacks_stay_apart() {
  std::vector<char> stack(256 * 1024);
  Coroutine co;
  running_coroutine = &co;
  getcontext(&co.self);
  co.self.uc_stack.ss_sp = stack.data();
  co.self.uc_stack.ss_size = stack.size();
  co.self.uc_link = &co.caller;
  makecontext(&co.self, coroutine_body, 0);
  bool ok = true;
  for (int round = 0; round < 11; ++round) {
    resume(&co);
    ok &= fill_escaping(round) == 64 * 1000 * round + 2016;
    ok &= test::burn(kDepth, round + 1) == (kDepth + 1) * (round + 1);
  }
  return ok && co.intact;
}

TEST_CASE("each user context has a side stack of its own", "[contexts]") {
  CHECK(test::in_goroutine([] {
    test::burn(kDepth);
    return side_stacks_stay_apart();
  }));
  // On a thread that runs no goroutine too.
  CHECK(side_stacks_stay_apart());
}

// An initializer that runs before the runtime's own uses the ucontext
// functions: the runtime finds glibc's at that first call.
bool early_context_resumed = false;
__attribute__((constructor(101))) void use_contexts_early() {
  static ucontext_t saved;
  static volatile int passes = 0;
  getcontext(&saved);
  passes = passes + 1;
  if (passes == 1)
    setcontext(&saved);
  early_context_resumed = passes == 2;
}

TEST_CASE("ucontext functions in initializers before main", "[contexts]") {
  CHECK(early_context_resumed);
}

// Code on a user context is not preempted (the limit slot stays 0, as in
// uninstrumented code): sysmon's signal must not poison it there.
TEST_CASE("a long computation on a user context keeps the limit at 0",
          "[contexts]") {
  static bool limit_stayed_zero;
  test::in_goroutine([] {
    run_on_context([] {
      limit_stayed_zero = true;
      const go::clock::time_point start = go::clock::now();
      while (test::ms_since(start) < 50) // sysmon preempts after 10 ms
        if (test::burn(20) == 0 || current_limit() != 0)
          limit_stayed_zero = false;
    });
  });
  CHECK(limit_stayed_zero);
}

// getcontext/setcontext used like setjmp/longjmp, with stack growth (and in
// torture mode, moves) between saving and resuming.
TEST_CASE("getcontext/setcontext across stack moves", "[contexts]") {
  static ucontext_t saved;
  static volatile int rounds;
  static volatile long sum;
  static volatile bool own_stack; // resumed on the goroutine's (moved) stack
  const long got = test::in_goroutine([] {
    rounds = 0;
    sum = 0;
    own_stack = true;
    getcontext(&saved);
    if (current_limit() == 0)
      own_stack = false;
    const int r = rounds;
    rounds = r + 1;
    sum = sum + test::burn(kDepth * (r + 1), r + 1);
    if (r < 4)
      setcontext(&saved);
    return own_stack ? static_cast<long>(sum) : -1L;
  });
  long want = 0;
  for (int r = 0; r < 5; ++r)
    want += test::burn(kDepth * (r + 1), r + 1);
  CHECK(got == want);
}

// A goroutine parked inside a user context shows up in traces of all
// goroutines without upsetting the unwinder.
TEST_CASE("stack traces of a goroutine parked in a user context",
          "[contexts]") {
  static go::chan<int> *wake;
  static bool resumed;
  const bool ok = test::in_goroutine([] {
    go::chan<int> c;
    wake = &c;
    resumed = false;
    go::wait_group wg;
    wg.add(1);
    go::spawn([&] {
      run_on_context([] {
        test::burn(kDepth);
        resumed = wake->recv().value_or(0) == 7; // parks on the context
      });
      wg.done();
    });
    go::sleep_for(std::chrono::milliseconds(20));
    const std::string all = go::stack_trace(true);
    c.send(7);
    wg.wait();
    return resumed && !all.empty();
  });
  CHECK(ok);
}

// sigaltstack.
volatile uintptr_t handler_sp = 0;
volatile uintptr_t handler_limit = 1;
volatile int handler_burn = 0;

void altstack_handler(int) {
  handler_sp = current_sp();
  handler_limit = current_limit();
  handler_burn = test::burn(kDepth, 9); // instrumented code in the handler
}

stack_t real_altstack() {
  stack_t ss{};
  syscall(SYS_sigaltstack, nullptr, &ss);
  return ss;
}

// altstack_handler on SIGUSR1, with SA_ONSTACK, for its lifetime.
class OnStackHandler {
public:
  OnStackHandler() {
    struct sigaction sa{};
    sa.sa_handler = altstack_handler;
    sa.sa_flags = SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, &old_);
  }
  ~OnStackHandler() { sigaction(SIGUSR1, &old_, nullptr); }

private:
  struct sigaction old_{};
};

bool contains(const stack_t &ss, uintptr_t p) {
  const auto lo = reinterpret_cast<uintptr_t>(ss.ss_sp);
  return p >= lo && p < lo + ss.ss_size;
}

TEST_CASE("sigaltstack() from a goroutine keeps the runtime's signal stack",
          "[contexts]") {
  const OnStackHandler installed;
  struct Result {
    bool reported = false, restored = false, kept = false;
    bool on_runtime_stack = false;
    uintptr_t limit = 1, limit_after = 0;
    int burn = 0;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    test::burn(kDepth);
    std::vector<char> mine(64 * 1024);
    const stack_t runtime_stack = real_altstack();
    stack_t ss{}, old{}, now{};
    ss.ss_sp = mine.data();
    ss.ss_size = mine.size();
    sigaltstack(&ss, &old);
    sigaltstack(nullptr, &now);
    res.reported = now.ss_sp == mine.data() && now.ss_size == mine.size();
    res.kept = real_altstack().ss_sp == runtime_stack.ss_sp;
    raise(SIGUSR1);
    res.on_runtime_stack = contains(runtime_stack, handler_sp);
    res.limit = handler_limit;
    res.limit_after = current_limit();
    res.burn = handler_burn;
    sigaltstack(&old, nullptr);
    sigaltstack(nullptr, &now);
    res.restored = (now.ss_flags & SS_DISABLE) != 0;
    return res;
  });
  CHECK(r.reported);
  CHECK(r.kept);
  CHECK(r.on_runtime_stack);
  CHECK(r.limit == 0);
  CHECK(r.limit_after != 0);
  CHECK(r.burn == test::burn(kDepth, 9));
  CHECK(r.restored);
}

TEST_CASE("a plain thread keeps its own sigaltstack for instrumented "
          "handlers",
          "[contexts]") {
  const OnStackHandler installed;
  alignas(64) static char mine[256 * 1024]; // handler_burn needs ~110 KiB
  static bool on_mine = false;
  test::in_goroutine([] {
    // A plain thread started while goroutines run: its own signal stack.
    pthread_t t;
    pthread_create(
        &t, nullptr,
        [](void *) -> void * {
          stack_t ss{};
          ss.ss_sp = mine;
          ss.ss_size = sizeof mine;
          sigaltstack(&ss, nullptr);
          raise(SIGUSR1);
          on_mine = contains(ss, handler_sp);
          ss.ss_flags = SS_DISABLE;
          sigaltstack(&ss, nullptr);
          return nullptr;
        },
        nullptr);
    pthread_join(t, nullptr);
  });
  CHECK(on_mine);
  CHECK(handler_limit == 0);
  CHECK(handler_burn == test::burn(kDepth, 9));
}

} // namespace
