// local.hpp: goroutine-local storage.
//
//   go::local<RequestContext> ctx;   // one per goroutine, like thread_local
//   ctx->user = "ann";               // in this goroutine only
//
// A goroutine may run on a different OS thread after any blocking point, so
// `thread_local` variables are per thread, not per goroutine
// (docs/guide.md, "What stays with the thread"). go::local<T> is the
// per-goroutine kind: each goroutine sees its own T, default-constructed on
// first use and destroyed when the goroutine ends. Outside goroutines each
// thread has its own.
//
// Each go::local object takes a key for the life of the process, and keys are
// never reused: at most GOROUTINE_MAX_LOCAL_KEYS (4,096) go::local objects
// may ever be created, counting destroyed ones. One more is a fatal error
// ("too many go::local keys: at most 4096 ..."). Make them static or global,
// like thread_local variables, not members of objects created per request.
#ifndef GOROUTINE_LOCAL_HPP
#define GOROUTINE_LOCAL_HPP

#include <cstddef>

#include <goroutine/goroutine.h>

namespace go {

template <class T> class local {
public:
  local() : key_(goroutine_local_key(&destroy)) {}
  local(const local &) = delete;
  local &operator=(const local &) = delete;

  // The calling goroutine's T.
  T &get() const {
    void **slot = goroutine_local_slot(key_);
    if (*slot == nullptr)
      *slot = new T();
    return *static_cast<T *>(*slot);
  }
  T &operator*() const { return get(); }
  T *operator->() const { return &get(); }

private:
  static void destroy(void *p) { delete static_cast<T *>(p); }
  size_t key_;
};

} // namespace go

#endif // GOROUTINE_LOCAL_HPP
