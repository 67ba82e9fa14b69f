// debug.cpp: GOROUTINE_DEBUG settings, runtime messages and fatal errors.
//
// GOROUTINE_DEBUG is a comma-separated list of key=value pairs, like GODEBUG:
//   stackmove=N   torture mode: every instrumented prologue traps into the
//                 runtime and every Nth trap moves the stack (N=1: every time)
//   guardpages=1  an inaccessible region (64 KiB) below every goroutine stack
//   stacktrace=1  log every stack growth, move and shrink to stderr
//   stackpoison=1 a stack a goroutine moved away from stays inaccessible
//                 for the next 256 frees, so a pointer into it that the move
//                 could not fix (one stored outside the stack) faults at
//                 once, with a message naming the problem
//   stackmin=N    initial stack size in bytes (power of two, 1 KiB to 2 GiB)
//   maxstack=N    maximum stack size in bytes (1 KiB to 2 GiB; default 1 GiB)
//   compactpark=N with N or more goroutines, a goroutine that parks using
//                 little stack waits on a 512-byte stack (default 10000;
//                 0: never)
//   preemptms=N   sysmon preempts a goroutine after N ms (1 to 86400000,
//                 a day; default 10)
// guardpages, stacktrace and stackpoison take 0 or 1.
// Every number, here and in GOROUTINE_MAXPROCS, is read by parse_setting:
// decimal digits only (no sign, spaces or base prefix), checked for overflow
// and against the setting's range. Bad values are fatal errors that name the
// setting and the value; unknown keys are reported and ignored.
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unistd.h>

#include "stack.h"
#include "trace.h"

namespace go::runtime {

Settings settings;

namespace {

void write_all(const char *s, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(STDERR_FILENO, s, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return;
    s += w;
    n -= static_cast<size_t>(w);
  }
}

void vprint_line(const char *prefix, const char *fmt, va_list ap) {
  char buf[1024];
  int n = std::snprintf(buf, sizeof buf, "%s", prefix);
  n +=
      std::vsnprintf(buf + n, sizeof buf - static_cast<size_t>(n) - 1, fmt, ap);
  n = n < static_cast<int>(sizeof buf) - 1 ? n
                                           : static_cast<int>(sizeof buf) - 2;
  buf[n++] = '\n';
  write_all(buf, static_cast<size_t>(n));
}

bool is_power_of_two(size_t v) { return v != 0 && (v & (v - 1)) == 0; }

constexpr uint64_t kMaxU64 = ~uint64_t{0};
// Sysmon's preemption interval, as nanoseconds in an int64_t: up to a day.
constexpr uint64_t kMaxPreemptMs = 24 * 3600 * 1000;

// A GOROUTINE_DEBUG number from min to max.
uint64_t debug_number(const char *key, const char *value, uint64_t min,
                      uint64_t max) {
  return parse_setting("GOROUTINE_DEBUG: ", key, value, min, max);
}

void apply_setting(const char *key, const char *value) {
  if (std::strcmp(key, "stackmove") == 0) {
    settings.stackmove = debug_number(key, value, 0, kMaxU64);
  } else if (std::strcmp(key, "guardpages") == 0) {
    settings.guardpages = debug_number(key, value, 0, 1) != 0;
  } else if (std::strcmp(key, "stacktrace") == 0) {
    settings.stacktrace = debug_number(key, value, 0, 1) != 0;
  } else if (std::strcmp(key, "stackpoison") == 0) {
    settings.stackpoison = debug_number(key, value, 0, 1) != 0;
  } else if (std::strcmp(key, "stackmin") == 0) {
    const size_t v =
        debug_number(key, value, kStackMinAllowed, kStackMaxAllowed);
    if (!is_power_of_two(v))
      fatal("GOROUTINE_DEBUG: stackmin=%s must be a power of two of at "
            "least %zu",
            value, kStackMinAllowed);
    settings.stackmin = v;
  } else if (std::strcmp(key, "compactpark") == 0) {
    settings.compactpark = debug_number(key, value, 0, kMaxU64);
  } else if (std::strcmp(key, "preemptms") == 0) {
    settings.preempt_ns = static_cast<int64_t>(
        debug_number(key, value, 1, kMaxPreemptMs) * 1'000'000);
  } else if (std::strcmp(key, "maxstack") == 0) {
    settings.maxstack =
        debug_number(key, value, kStackMinAllowed, kStackMaxAllowed);
  } else {
    print("unknown GOROUTINE_DEBUG setting %s (ignored)", key);
  }
}

void parse_debug_variable(const char *env) {
  char copy[512];
  if (std::snprintf(copy, sizeof copy, "%s", env) >=
      static_cast<int>(sizeof copy))
    fatal("GOROUTINE_DEBUG is longer than %zu characters", sizeof copy - 1);
  char *save = nullptr;
  for (char *item = strtok_r(copy, ",", &save); item != nullptr;
       item = strtok_r(nullptr, ",", &save)) {
    char *eq = std::strchr(item, '=');
    if (eq == nullptr)
      fatal("GOROUTINE_DEBUG: %s is not of the form key=value", item);
    *eq = '\0';
    apply_setting(item, eq + 1);
  }
  if (settings.stackmin > settings.maxstack)
    fatal("GOROUTINE_DEBUG: stackmin=%zu exceeds maxstack=%zu",
          settings.stackmin, settings.maxstack);
}

struct FatalMessage {
  const char *prefix; // "fatal error: " or "panic: "
  const char *fmt;
  va_list *ap;
};

[[noreturn]] void fatal_on_system_stack(void *arg) {
  auto *m = static_cast<FatalMessage *>(arg);
  vprint_line(m->prefix, m->fmt, *m->ap);
  if (const Goroutine *g = goroutine_thread_state.g) {
    write_all("\n", 1);
    trace_print_current(g, "running");
  }
  std::fflush(nullptr);
  _exit(2);
}

} // namespace

uint64_t parse_setting(const char *prefix, const char *name, const char *value,
                       uint64_t min, uint64_t max) {
  uint64_t v = 0;
  bool overflow = false;
  const char *p = value;
  for (; *p >= '0' && *p <= '9'; ++p) {
    const uint64_t digit = static_cast<uint64_t>(*p - '0');
    overflow |= v > (kMaxU64 - digit) / 10;
    v = v * 10 + digit;
  }
  if (p == value || *p != '\0')
    fatal("%s%s=%s is not an unsigned decimal number", prefix, name, value);
  if (overflow || v < min || v > max) {
    if (min == 0 && max == 1)
      fatal("%s%s=%s must be 0 or 1", prefix, name, value);
    fatal("%s%s=%s must be between %llu and %llu", prefix, name, value,
          static_cast<unsigned long long>(min),
          static_cast<unsigned long long>(max));
  }
  return v;
}

void init_settings() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (const char *env = std::getenv("GOROUTINE_DEBUG"))
      parse_debug_variable(env);
  });
}

void print(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprint_line("runtime: ", fmt, ap);
  va_end(ap);
}

namespace {
// Prints prefix + the message and the goroutine's trace, exits with status 2.
[[noreturn]] void die(const char *prefix, const char *fmt, va_list *ap) {
  FatalMessage m{prefix, fmt, ap};
  // Formatting and unwinding need far more stack than a goroutine may have
  // left, so do both on the system stack.
  goroutine_systemstack([](void *arg) { fatal_on_system_stack(arg); }, &m);
  __builtin_unreachable();
}

[[noreturn]] __attribute__((format(printf, 2, 3))) void
die_with(const char *prefix, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  die(prefix, fmt, &ap);
}
} // namespace

void fatal(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  die("fatal error: ", fmt, &ap);
}

void panic_message(const char *msg) { die_with("panic: ", "%s", msg); }

void fatal_with_trace(const Goroutine *g, const TraceContext &ctx,
                      const char *msg, Symbolize how) {
  char line[512];
  const int n = std::snprintf(line, sizeof line, "fatal error: %s\n\n", msg);
  write_all(line, static_cast<size_t>(n));
  trace_print(g, "running", ctx, how);
  std::fflush(nullptr);
  _exit(2);
}

} // namespace go::runtime
