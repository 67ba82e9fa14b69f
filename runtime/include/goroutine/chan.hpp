// chan.hpp: go::chan<T> and go::select, Go's channels.
//
//   go::chan<int> c;         // unbuffered (go::chan<int> c(16): buffered)
//   go::spawn([c] { c.send(42); c.close(); });
//   std::optional<int> v = c.recv(); // empty once closed and drained
//   for (int x : c) { ... }          // until closed
//
//   go::select(go::recv_case(c, [](std::optional<int> v) { ... }),
//              go::send_case(out, 7, [] { ... }),
//              go::recv_case(go::after(100ms), [](auto) { /* timeout */ }),
//              go::default_case([] { ... }));
//
// A chan<T> is a shared handle, like a Go channel value: copies refer to the
// same channel, which lives until its last handle is gone (select cases and
// timers hold handles too). Values are moved through the channel, never
// copied.
//
// Go's zero channel value is nil; a default-constructed chan<T> is not: it is
// a new unbuffered channel (`go::chan<T> c;` is Go's `c := make(chan T)`).
// The nil channel is spelled chan<T>(nullptr), or `c = nullptr`: sending or
// receiving on it blocks forever, closing it panics, and a select case on it
// is never chosen, so Go's idiom of disabling a select case by setting its
// channel to nil works as in Go.
#ifndef GOROUTINE_CHAN_HPP
#define GOROUTINE_CHAN_HPP

#include <cstddef>
#include <new>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include <goroutine/goroutine.h>

namespace go {

namespace detail {
template <class T> void move_elem(void *dst, void *src) {
  ::new (dst) T(std::move(*static_cast<T *>(src)));
}
template <class T> void destroy_elem(void *p) { static_cast<T *>(p)->~T(); }

template <class T>
inline constexpr goroutine_elem_ops kElemOps = {
    sizeof(T), alignof(T),
    std::is_trivially_copyable_v<T> ? nullptr : &move_elem<T>,
    std::is_trivially_destructible_v<T> ? nullptr : &destroy_elem<T>};

// Raw storage the runtime constructs a T in.
template <class T> struct Slot {
  alignas(T) unsigned char bytes[sizeof(T)];
  T *get() { return std::launder(reinterpret_cast<T *>(bytes)); }
  // Moves the value out and destroys it.
  T take() {
    T v(std::move(*get()));
    get()->~T();
    return v;
  }
};
} // namespace detail

template <class T> class chan {
  static_assert(std::is_move_constructible_v<T>,
                "go::chan<T> needs a move-constructible T");
  static_assert(std::is_nothrow_move_constructible_v<T> ||
                    std::is_trivially_copyable_v<T>,
                "go::chan<T> moves values inside the scheduler: T's move "
                "constructor must be noexcept");

public:
  using value_type = T;

  // A new unbuffered channel (not nil, unlike Go's zero value: see above).
  chan() : c_(goroutine_chan_make(&detail::kElemOps<T>, 0)) {}
  // A channel with room for `capacity` values (0: unbuffered). Any integer
  // type, so that `chan<T> c(0)` means capacity 0, not the nil channel; a
  // negative or too large capacity panics ("makechan: size out of range").
  template <class I,
            std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>,
                             int> = 0>
  explicit chan(I capacity)
      : c_(goroutine_chan_make(&detail::kElemOps<T>,
                               static_cast<size_t>(capacity))) {}
  // The nil channel: send and receive block forever, close panics, a select
  // case on it is never chosen.
  chan(std::nullptr_t) noexcept {}

  chan(const chan &o) noexcept : c_(o.c_) { retain(); }
  chan(chan &&o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  chan &operator=(chan o) noexcept {
    std::swap(c_, o.c_);
    return *this;
  }
  ~chan() {
    if (c_ != nullptr)
      goroutine_chan_release(c_);
  }

  // Sends v, blocking until a receiver takes it or there is room in the
  // buffer. Sending on a closed channel panics ("send on closed channel").
  void send(T v) const { goroutine_chan_send(c_, &v, 1); }
  // Sends v only if that needs no waiting (a receiver waits or the buffer has
  // room); returns whether it was sent. The rvalue form moves from v only
  // when it returns true: on false, v is left untouched and still the
  // caller's, so a move-only value can be offered again. The lvalue form
  // never changes v: it makes a copy first and sends that (the copy is
  // destroyed when it cannot be sent). On a nil channel both return false; on
  // a closed one they panic ("send on closed channel"), as send does.
  bool try_send(T &&v) const { return goroutine_chan_send(c_, &v, 0) != 0; }
  bool try_send(const T &v) const { return try_send(T(v)); }

  // Receives a value, blocking until one is sent; empty once the channel is
  // closed and drained.
  std::optional<T> recv() const {
    detail::Slot<T> slot;
    int received = 0;
    goroutine_chan_recv(c_, slot.bytes, 1, &received);
    if (!received)
      return std::nullopt;
    return std::optional<T>(slot.take());
  }
  // Receives only if a value (or the close) is ready now. Returns false if it
  // would block; otherwise true, with `out` empty if the channel is closed.
  bool try_recv(std::optional<T> &out) const {
    detail::Slot<T> slot;
    int received = 0;
    if (!goroutine_chan_recv(c_, slot.bytes, 0, &received))
      return false;
    if (received)
      out.emplace(slot.take());
    else
      out.reset();
    return true;
  }

  // Closes the channel ("close of closed channel" / "close of nil channel"
  // panic as in Go).
  void close() const { goroutine_chan_close(c_); }

  // Values buffered now, and the buffer's size.
  size_t len() const { return goroutine_chan_len(c_); }
  size_t cap() const { return goroutine_chan_cap(c_); }

  bool is_nil() const noexcept { return c_ == nullptr; }
  friend bool operator==(const chan &a, const chan &b) noexcept {
    return a.c_ == b.c_;
  }
  friend bool operator!=(const chan &a, const chan &b) noexcept {
    return a.c_ != b.c_;
  }

  // range-for: receives until the channel is closed and drained.
  class iterator {
  public:
    using value_type = T;
    explicit iterator(const chan *c) : c_(c) { ++*this; }
    iterator() = default;
    T &operator*() { return *v_; }
    iterator &operator++() { // T need not be assignable
      v_.reset();
      if (std::optional<T> next = c_->recv())
        v_.emplace(std::move(*next));
      return *this;
    }
    bool operator!=(const iterator &) const { return v_.has_value(); }
    bool operator==(const iterator &o) const { return !(*this != o); }

  private:
    const chan *c_ = nullptr;
    std::optional<T> v_;
  };
  iterator begin() const { return iterator(this); }
  iterator end() const { return iterator(); }

  goroutine_chan *native_handle() const noexcept { return c_; }

private:
  void retain() const {
    if (c_ != nullptr)
      goroutine_chan_retain(c_);
  }
  goroutine_chan *c_ = nullptr;
};

// ---- select --------------------------------------------------------------

namespace detail {
struct NoHandler {
  template <class... A> void operator()(A &&...) const {}
};

// How a case holds its channel, as std::views::all holds a range: a
// temporary (`go::recv_case(go::after(1s))`) is moved into the case and lives
// as long as it; a named channel is referred to, so building a case costs no
// reference counting. A case must not outlive a named channel it refers to.
template <class T, bool Owned> struct CaseChan {
  chan<T> ch;
  goroutine_chan *get() const { return ch.native_handle(); }
};
template <class T> struct CaseChan<T, false> {
  const chan<T> *ch;
  goroutine_chan *get() const { return ch->native_handle(); }
};

template <class T, class F, bool Owned> struct RecvCase {
  CaseChan<T, Owned> ch;
  F fn;
  Slot<T> slot;
  void fill(goroutine_select_case &c) {
    c = {ch.get(), slot.bytes, GOROUTINE_SELECT_RECV, 0};
  }
  void finish(const goroutine_select_case &c) {
    if (c.received) {
      std::optional<T> v(slot.take());
      fn(std::move(v));
    } else {
      fn(std::optional<T>());
    }
  }
};

template <class T, class F, bool Owned> struct SendCase {
  CaseChan<T, Owned> ch;
  T value;
  F fn;
  void fill(goroutine_select_case &c) {
    c = {ch.get(), &value, GOROUTINE_SELECT_SEND, 0};
  }
  void finish(const goroutine_select_case &) { fn(); }
};

template <class F> struct DefaultCase {
  F fn;
};

template <class C> struct IsDefault : std::false_type {};
template <class F> struct IsDefault<DefaultCase<F>> : std::true_type {};
} // namespace detail

// A case that receives from ch and calls fn(std::optional<T>) (empty if ch
// is closed) when chosen. A temporary channel is moved into the case, so
// `auto c = go::recv_case(go::after(1s));` may be kept and used later; a
// named channel is referred to and must outlive the case (see CaseChan). A
// case on a nil channel is never chosen.
template <class T, class F = detail::NoHandler>
detail::RecvCase<T, F, false> recv_case(const chan<T> &ch, F fn = {}) {
  return {{&ch}, std::move(fn), {}};
}
template <class T, class F = detail::NoHandler>
detail::RecvCase<T, F, true> recv_case(chan<T> &&ch, F fn = {}) {
  return {{std::move(ch)}, std::move(fn), {}};
}
// A case that sends v on ch and calls fn() when chosen. It holds its channel
// as recv_case does, and the value to send (moved in when v is an rvalue). If
// another case is chosen, the value is destroyed with the case.
template <class T, class V, class F = detail::NoHandler>
detail::SendCase<T, F, false> send_case(const chan<T> &ch, V &&v, F fn = {}) {
  return {{&ch}, T(std::forward<V>(v)), std::move(fn)};
}
template <class T, class V, class F = detail::NoHandler>
detail::SendCase<T, F, true> send_case(chan<T> &&ch, V &&v, F fn = {}) {
  return {{std::move(ch)}, T(std::forward<V>(v)), std::move(fn)};
}
// Go's `default:`: chosen at once when no other case is ready.
template <class F = detail::NoHandler>
detail::DefaultCase<F> default_case(F fn = {}) {
  return {std::move(fn)};
}

// Waits until one case can proceed, performs it (choosing uniformly at random
// among ready cases, as Go does) and calls its handler. Returns the index of
// the chosen case among the arguments. With no case at all it blocks forever.
template <class... Cases> size_t select(Cases &&...cases) {
  constexpr size_t kDefaults =
      (size_t{0} + ... + detail::IsDefault<std::decay_t<Cases>>::value);
  static_assert(kDefaults <= 1, "go::select: at most one default_case");
  constexpr size_t kComm = sizeof...(Cases) - kDefaults;
  goroutine_select_case native[kComm == 0 ? 1 : kComm];
  size_t index_of[kComm == 0 ? 1 : kComm]; // native case -> argument index
  size_t default_index = 0;
  {
    size_t arg = 0, n = 0;
    auto fill = [&](auto &c) {
      if constexpr (detail::IsDefault<std::decay_t<decltype(c)>>::value) {
        default_index = arg;
      } else {
        c.fill(native[n]);
        index_of[n++] = arg;
      }
      ++arg;
    };
    (fill(cases), ...);
  }
  const long chosen = goroutine_select(native, kComm, kDefaults == 0);
  const size_t which =
      chosen < 0 ? default_index : index_of[static_cast<size_t>(chosen)];
  size_t arg = 0;
  auto finish = [&](auto &c) {
    if (arg++ != which)
      return;
    if constexpr (detail::IsDefault<std::decay_t<decltype(c)>>::value)
      c.fn();
    else
      c.finish(native[static_cast<size_t>(chosen)]);
  };
  (finish(cases), ...);
  return which;
}

} // namespace go

#endif // GOROUTINE_CHAN_HPP
