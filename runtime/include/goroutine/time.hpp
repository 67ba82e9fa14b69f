// time.hpp: sleeping, timeouts and tickers on the runtime's timers.
//
//   go::sleep_for(10ms);
//   go::select(go::recv_case(results, ...),
//              go::recv_case(go::after(1s), [](auto) { /* timed out */ }));
//   go::ticker t(100ms);
//   for (auto now : t.c) { ... }       // every 100 ms until t.stop()
//
// Time is std::chrono::steady_clock (CLOCK_MONOTONIC). A sleeping goroutine
// is parked: its thread runs other goroutines meanwhile.
#ifndef GOROUTINE_TIME_HPP
#define GOROUTINE_TIME_HPP

#include <chrono>
#include <cstdint>

#include <goroutine/chan.hpp>
#include <goroutine/goroutine.h>

namespace go {

using clock = std::chrono::steady_clock;

namespace detail {
inline int64_t to_nanotime(clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             t.time_since_epoch())
      .count();
}
inline clock::time_point from_nanotime(int64_t ns) {
  return clock::time_point(std::chrono::duration_cast<clock::duration>(
      std::chrono::nanoseconds(ns)));
}
// Timer callback: a non-blocking send of the current time (dropped if the
// buffer is full, like Go's tickers).
inline void send_time(void *c) {
  clock::time_point now = clock::now();
  goroutine_chan_send(static_cast<goroutine_chan *>(c), &now, 0);
}
inline void send_time_and_release(void *c) {
  send_time(c);
  goroutine_chan_release(static_cast<goroutine_chan *>(c));
}
} // namespace detail

// Parks the calling goroutine until t.
inline void sleep_until(clock::time_point t) {
  goroutine_sleep_until(detail::to_nanotime(t));
}

// Parks the calling goroutine for d (at least).
template <class Rep, class Period>
void sleep_for(std::chrono::duration<Rep, Period> d) {
  sleep_until(clock::now() + std::chrono::ceil<clock::duration>(d));
}

// A channel that receives the time once, after d (Go's time.After).
template <class Rep, class Period>
chan<clock::time_point> after(std::chrono::duration<Rep, Period> d) {
  chan<clock::time_point> c(1);
  goroutine_chan_retain(c.native_handle()); // the timer's reference
  goroutine_after_func(
      detail::to_nanotime(clock::now() + std::chrono::ceil<clock::duration>(d)),
      &detail::send_time_and_release, c.native_handle());
  return c;
}

// Delivers the time on `c` every period (Go's time.Ticker), the first time
// one period from now. Ticks a slow receiver misses are dropped. A period
// that is not positive (after rounding to nanoseconds) panics, as Go's
// NewTicker does: "panic: non-positive interval for go::ticker".
class ticker {
public:
  template <class Rep, class Period>
  explicit ticker(std::chrono::duration<Rep, Period> period)
      : c(1), t_(goroutine_ticker_start(
                  std::chrono::duration_cast<std::chrono::nanoseconds>(period)
                      .count(),
                  &detail::send_time, c.native_handle())) {}
  ticker(const ticker &) = delete;
  ticker &operator=(const ticker &) = delete;
  ~ticker() { stop(); }

  // No more ticks after this returns. The channel is not closed (as in Go).
  void stop() {
    if (t_ != nullptr)
      goroutine_timer_stop(t_);
    t_ = nullptr;
  }

  chan<clock::time_point> c;

private:
  goroutine_timer *t_ = nullptr;
};

} // namespace go

#endif // GOROUTINE_TIME_HPP
