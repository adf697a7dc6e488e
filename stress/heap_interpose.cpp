// ics-stress without a sanitizer: the process's allocation functions, forwarded to glibc's
// (__libc_malloc and friends) and reported to the heap tracker (heap.h). Linked into the
// ics-stress executable only, and only in builds without a sanitizer (which has its own
// allocator and calls the tracker through its hooks).
//
// operator new and delete are replaced too, so that they are compiled with frame pointers:
// libstdc++'s own do not keep one, and the caller of operator new would drop out of the
// recorded stack.
#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <new>

#include "heap.h"

extern "C" {
void* __libc_malloc(std::size_t);
void __libc_free(void*);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void* __libc_valloc(std::size_t);
void* __libc_pvalloc(std::size_t);

__attribute__((visibility("default"))) int ics_heap_interposer = 1;
}

namespace {

using ics::stress::heap::detail::on_alloc;
using ics::stress::heap::detail::on_free;

void* tracked(void* p, std::size_t n) {
  on_alloc(p, n);
  return p;
}

void* aligned(std::size_t align, std::size_t n) { return tracked(__libc_memalign(align, n), n); }

void* new_or_throw(std::size_t n) {
  for (;;) {
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    std::new_handler h = std::get_new_handler();
    if (h == nullptr) throw std::bad_alloc();
    h();
  }
}

void* aligned_new_or_throw(std::size_t n, std::align_val_t a) {
  const auto align = std::max(static_cast<std::size_t>(a), sizeof(void*));
  for (;;) {
    if (void* p = aligned(align, n == 0 ? 1 : n)) return p;
    std::new_handler h = std::get_new_handler();
    if (h == nullptr) throw std::bad_alloc();
    h();
  }
}

}  // namespace

extern "C" {

void* malloc(std::size_t n) { return tracked(__libc_malloc(n), n); }

void free(void* p) {
  on_free(p);
  __libc_free(p);
}

void* calloc(std::size_t count, std::size_t size) {
  void* p = __libc_calloc(count, size);
  return tracked(p, count * size);  // __libc_calloc checked the product
}

void* realloc(void* old, std::size_t n) {
  void* p = __libc_realloc(old, n);
  if (p == nullptr && n != 0) return nullptr;  // old is untouched
  on_free(old);
  return tracked(p, n);
}

void* memalign(std::size_t align, std::size_t n) { return aligned(align, n); }
void* aligned_alloc(std::size_t align, std::size_t n) { return aligned(align, n); }
void* valloc(std::size_t n) { return tracked(__libc_valloc(n), n); }
void* pvalloc(std::size_t n) { return tracked(__libc_pvalloc(n), n); }

int posix_memalign(void** out, std::size_t align, std::size_t n) {
  if (align < sizeof(void*) || (align & (align - 1)) != 0) return EINVAL;
  void* p = aligned(align, n);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}

}  // extern "C"

void* operator new(std::size_t n) { return new_or_throw(n); }
void* operator new[](std::size_t n) { return new_or_throw(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return std::malloc(n == 0 ? 1 : n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return std::malloc(n == 0 ? 1 : n); }
void* operator new(std::size_t n, std::align_val_t a) { return aligned_new_or_throw(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return aligned_new_or_throw(n, a); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return aligned(std::max(static_cast<std::size_t>(a), sizeof(void*)), n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return aligned(std::max(static_cast<std::size_t>(a), sizeof(void*)), n == 0 ? 1 : n);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
