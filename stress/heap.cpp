#include "heap.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "ics/testkit/sanitizers.h"
#if defined(ICS_SANITIZER_HEAP)
#include <sanitizer/allocator_interface.h>
#endif
#if defined(ICS_ASAN)
#include <sanitizer/asan_interface.h>
#endif
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ICS_HEAP_TSAN_STACKS 1
// TSan's debugging interface (no public header in clang 14): the stack TSan recorded for the
// heap block at addr, as the caller's return addresses, innermost first.
extern "C" int __tsan_get_alloc_stack(unsigned long addr, unsigned long* trace,
                                      unsigned long size, int* thread_id, unsigned long* os_id);
#endif
#endif

#include <pthread.h>

// Defined by heap_interpose.cpp when it is linked in (builds without a sanitizer).
extern "C" __attribute__((weak)) int ics_heap_interposer;

namespace ics::stress::heap {

namespace {

// ---- memory the tracker lives in: mmap'd, never the heap it watches ----

void* map_zeroed(std::size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

class SpinLock {
 public:
  void lock() {
    while (flag_.exchange(true, std::memory_order_acquire)) {
      while (flag_.load(std::memory_order_relaxed)) __builtin_ia32_pause();
    }
  }
  void unlock() { flag_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> flag_{false};
};

class Locked {
 public:
  explicit Locked(SpinLock& l) : l_(l) { l_.lock(); }
  ~Locked() { l_.unlock(); }
  Locked(const Locked&) = delete;
  Locked& operator=(const Locked&) = delete;

 private:
  SpinLock& l_;
};

std::uint64_t mix(std::uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  return h ^ (h >> 33);
}

// ---- live allocations: a sharded open-addressing table (linear probing, backward-shift
// deletion) ----

struct Entry {
  std::uintptr_t ptr;  // 0 = empty slot
  std::uint64_t size;
  std::uint32_t owner;
  std::uint32_t stack;
  std::uint16_t epoch;
  Side side;
};

constexpr std::size_t kShards = 64;
constexpr std::size_t kMinSlots = 1024;

struct alignas(64) Shard {
  SpinLock mu;
  Entry* slots = nullptr;
  std::size_t cap = 0;  // a power of two
  std::size_t used = 0;
};

std::size_t home(std::uintptr_t ptr, std::size_t cap) { return (mix(ptr) >> 6) & (cap - 1); }
std::size_t shard_of(std::uintptr_t ptr) { return mix(ptr) & (kShards - 1); }

bool grow(Shard& s) {
  const std::size_t cap = s.cap == 0 ? kMinSlots : s.cap * 2;
  auto* slots = static_cast<Entry*>(map_zeroed(cap * sizeof(Entry)));
  if (slots == nullptr) return false;
  for (std::size_t i = 0; i < s.cap; ++i) {
    if (s.slots[i].ptr == 0) continue;
    std::size_t j = home(s.slots[i].ptr, cap);
    while (slots[j].ptr != 0) j = (j + 1) & (cap - 1);
    slots[j] = s.slots[i];
  }
  if (s.slots != nullptr) munmap(s.slots, s.cap * sizeof(Entry));
  s.slots = slots;
  s.cap = cap;
  return true;
}

// The slot of ptr, or of the empty slot where it would go.
std::size_t probe(const Shard& s, std::uintptr_t ptr) {
  std::size_t i = home(ptr, s.cap);
  while (s.slots[i].ptr != 0 && s.slots[i].ptr != ptr) i = (i + 1) & (s.cap - 1);
  return i;
}

void erase_slot(Shard& s, std::size_t i) {
  const std::size_t mask = s.cap - 1;
  std::size_t j = i;
  for (;;) {
    j = (j + 1) & mask;
    if (s.slots[j].ptr == 0) break;
    const std::size_t k = home(s.slots[j].ptr, s.cap);
    // Move j back to i unless its home lies cyclically in (i, j].
    const bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
    if (!stays) {
      s.slots[i] = s.slots[j];
      i = j;
    }
  }
  s.slots[i].ptr = 0;
  --s.used;
}

// ---- stacks: interned, fixed capacity (reserved address space, touched as used) ----

struct StackRec {
  std::uint64_t hash;
  std::uint32_t depth;
  std::uintptr_t pcs[kMaxFrames];
};

constexpr std::size_t kMaxStacks = std::size_t{1} << 18;
constexpr std::size_t kStackIndex = kMaxStacks * 2;

struct Stacks {
  SpinLock mu;
  StackRec* recs = nullptr;    // id - 1
  std::uint32_t* index = nullptr;  // open addressing over hash -> id
  std::uint32_t count = 0;
};

std::uint32_t intern(Stacks& st, const std::uintptr_t* pcs, std::uint32_t depth) {
  std::uint64_t h = depth;
  for (std::uint32_t i = 0; i < depth; ++i) h = mix(h ^ pcs[i]);
  const Locked lock(st.mu);
  std::size_t i = h & (kStackIndex - 1);
  for (;;) {
    const std::uint32_t id = st.index[i];
    if (id == 0) break;
    const StackRec& r = st.recs[id - 1];
    if (r.hash == h && r.depth == depth && std::memcmp(r.pcs, pcs, depth * sizeof(*pcs)) == 0) {
      return id;
    }
    i = (i + 1) & (kStackIndex - 1);
  }
  if (st.count + 1 >= kMaxStacks) return 0;
  StackRec& r = st.recs[st.count];
  r.hash = h;
  r.depth = depth;
  std::memcpy(r.pcs, pcs, depth * sizeof(*pcs));
  st.index[i] = ++st.count;
  return st.count;
}

#if !defined(ICS_ASAN) && !defined(ICS_HEAP_TSAN_STACKS)
// Return addresses along the frame-pointer chain, each frame checked to lie inside the
// running stack's bounds and above the previous one (never a read outside [lo, hi)).
__attribute__((noinline, no_sanitize("address", "thread", "undefined"))) std::uint32_t walk(
    std::uintptr_t* out, std::uint32_t max, const char* lo, const char* hi) {
  const auto* fp = static_cast<const std::uintptr_t*>(__builtin_frame_address(0));
  std::uint32_t n = 0;
  while (n < max) {
    const auto* at = reinterpret_cast<const char*>(fp);
    if (at < lo || at + 2 * sizeof(std::uintptr_t) > hi ||
        (reinterpret_cast<std::uintptr_t>(fp) & 7) != 0) {
      break;
    }
    const std::uintptr_t ret = fp[1];
    const auto* next = reinterpret_cast<const std::uintptr_t*>(fp[0]);
    if (ret < 4096) break;
    out[n++] = ret;
    if (next <= fp) break;
    fp = next;
  }
  return n;
}
#endif

// ---- the tracker ----

struct OwnerBytes {
  std::int64_t bytes;
  std::int64_t client;
};

struct Tracker {
  std::atomic<bool> active{false};
  std::atomic<bool> started{false};
  std::atomic<std::uint32_t> epoch{0};
  std::uint32_t stack_every = 0;
  std::atomic<std::int64_t> bytes{0};
  std::atomic<std::int64_t> client{0};
  std::atomic<std::int64_t> allocations{0};
  OwnerBytes* owners = nullptr;  // owners_count entries
  std::size_t owners_count = 0;
  Shard shards[kShards];
  Stacks stacks;
};

Tracker g;  // the malloc hooks are process-wide; this is their state

thread_local Context t_ctx;
thread_local bool t_busy = false;
thread_local std::uint32_t t_since_stack = 0;

void count(const Entry& e, std::int64_t sign) {
  const auto n = static_cast<std::int64_t>(e.size) * sign;
  g.bytes.fetch_add(n, std::memory_order_relaxed);
  g.allocations.fetch_add(sign, std::memory_order_relaxed);
  const std::uint32_t o = e.owner < g.owners_count ? e.owner : 0;
  std::atomic_ref<std::int64_t>(g.owners[o].bytes).fetch_add(n, std::memory_order_relaxed);
  if (e.side == Side::Client) {
    g.client.fetch_add(n, std::memory_order_relaxed);
    std::atomic_ref<std::int64_t>(g.owners[o].client).fetch_add(n, std::memory_order_relaxed);
  }
}

// The allocation's stack: under ASan and TSan the one their allocator just recorded (the hook
// runs after it; their runtimes keep no frame pointers we could follow: under TSan the walk
// lost the allocating function's own frame), otherwise our own walk.
std::uint32_t record_stack(void* ptr, std::uint32_t epoch) {
  if (epoch == 0 || g.stack_every == 0 || ++t_since_stack < g.stack_every) return 0;
  t_since_stack = 0;
  std::uintptr_t pcs[kMaxFrames];
#if defined(ICS_ASAN)
  int thread = 0;
  const auto depth = static_cast<std::uint32_t>(__asan_get_alloc_stack(
      ptr, reinterpret_cast<void**>(pcs), kMaxFrames, &thread));
#elif defined(ICS_HEAP_TSAN_STACKS)
  int thread = 0;
  unsigned long os_id = 0;
  static_assert(sizeof(unsigned long) == sizeof(std::uintptr_t));
  const auto depth = static_cast<std::uint32_t>(
      __tsan_get_alloc_stack(reinterpret_cast<unsigned long>(ptr),
                             reinterpret_cast<unsigned long*>(pcs), kMaxFrames, &thread, &os_id));
#else
  (void)ptr;
  const std::uint32_t depth = walk(pcs, kMaxFrames, t_ctx.stack_lo, t_ctx.stack_hi);
#endif
  return depth == 0 ? 0 : intern(g.stacks, pcs, depth);
}

void insert(const Entry& e) {
  Shard& s = g.shards[shard_of(e.ptr)];
  const Locked lock(s.mu);
  if ((s.used + 1) * 2 > s.cap && !grow(s)) return;
  const std::size_t i = probe(s, e.ptr);
  if (s.slots[i].ptr == e.ptr) {
    count(s.slots[i], -1);  // its free was not seen
  } else {
    ++s.used;
  }
  s.slots[i] = e;
  count(e, +1);
}

#if defined(ICS_SANITIZER_HEAP)
void malloc_hook(const volatile void* ptr, std::size_t size) {
  detail::on_alloc(const_cast<void*>(ptr), size);
}
void free_hook(const volatile void* ptr) { detail::on_free(const_cast<void*>(ptr)); }
#endif

}  // namespace

namespace detail {

void on_alloc(void* ptr, std::size_t size) {
  if (ptr == nullptr || !g.active.load(std::memory_order_relaxed) || t_busy) return;
  t_busy = true;
  const std::uint32_t epoch = g.epoch.load(std::memory_order_relaxed);
  Entry e{reinterpret_cast<std::uintptr_t>(ptr), size, t_ctx.owner, 0,
          static_cast<std::uint16_t>(std::min<std::uint32_t>(epoch, 0xffff)), t_ctx.side};
  e.stack = record_stack(ptr, epoch);
  insert(e);
  t_busy = false;
}

void on_free(void* ptr) {
  if (ptr == nullptr || !g.active.load(std::memory_order_relaxed) || t_busy) return;
  t_busy = true;
  const auto p = reinterpret_cast<std::uintptr_t>(ptr);
  Shard& s = g.shards[shard_of(p)];
  {
    const Locked lock(s.mu);
    if (s.cap != 0) {
      const std::size_t i = probe(s, p);
      if (s.slots[i].ptr == p) {
        count(s.slots[i], -1);
        erase_slot(s, i);
      }
    }
  }
  t_busy = false;
}

}  // namespace detail

bool available() {
#if defined(ICS_SANITIZER_HEAP)
  return true;
#else
  return &ics_heap_interposer != nullptr;
#endif
}

std::string_view source() {
#if defined(ICS_SANITIZER_HEAP)
  return "sanitizer-hooks";
#else
  return available() ? "malloc-interposer" : "none";
#endif
}

bool start(std::size_t owners, std::uint32_t stack_every) {
  if (!available() || g.started.exchange(true)) return false;
  g.owners_count = owners + 1;
  g.owners = static_cast<OwnerBytes*>(map_zeroed(g.owners_count * sizeof(OwnerBytes)));
  g.stacks.recs = static_cast<StackRec*>(map_zeroed(kMaxStacks * sizeof(StackRec)));
  g.stacks.index = static_cast<std::uint32_t*>(map_zeroed(kStackIndex * sizeof(std::uint32_t)));
  if (g.owners == nullptr || g.stacks.recs == nullptr || g.stacks.index == nullptr) return false;
  g.stack_every = stack_every;
#if defined(ICS_SANITIZER_HEAP)
  if (__sanitizer_install_malloc_and_free_hooks(malloc_hook, free_hook) == 0) return false;
#endif
  g.active.store(true, std::memory_order_release);
  return true;
}

void stop() { g.active.store(false, std::memory_order_release); }
bool active() { return g.active.load(std::memory_order_acquire); }

Totals totals() {
  return {g.bytes.load(std::memory_order_relaxed), g.client.load(std::memory_order_relaxed),
          g.allocations.load(std::memory_order_relaxed)};
}

void owner_bytes(std::uint32_t owner, std::int64_t& bytes, std::int64_t& client) {
  bytes = client = 0;
  if (g.owners == nullptr || owner >= g.owners_count) return;
  bytes = std::atomic_ref<std::int64_t>(g.owners[owner].bytes).load(std::memory_order_relaxed);
  client = std::atomic_ref<std::int64_t>(g.owners[owner].client).load(std::memory_order_relaxed);
}

Context context() { return t_ctx; }
void set_context(const Context& c) { t_ctx = c; }

void enter_thread() {
  Context c;
  const Untracked quiet;  // pthread_getattr_np may allocate (the main thread reads /proc)
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void* base = nullptr;
    std::size_t size = 0;
    if (pthread_attr_getstack(&attr, &base, &size) == 0) {
      c.stack_lo = static_cast<const char*>(base);
      c.stack_hi = c.stack_lo + size;
    }
    pthread_attr_destroy(&attr);
  }
  t_ctx = c;
}

ClientScope::ClientScope() : saved_(t_ctx.side) { t_ctx.side = Side::Client; }
ClientScope::~ClientScope() { t_ctx.side = saved_; }

Untracked::Untracked() : saved_(t_busy) { t_busy = true; }
Untracked::~Untracked() { t_busy = saved_; }

void next_epoch() { g.epoch.fetch_add(1, std::memory_order_relaxed); }
std::uint32_t epoch() { return g.epoch.load(std::memory_order_relaxed); }
std::uint32_t stack_every() { return g.stack_every; }

Snapshot snapshot(std::uint32_t min_epoch, bool client_only) {
  const Untracked quiet;
  Snapshot out;
  for (Shard& s : g.shards) {
    const Locked lock(s.mu);
    for (std::size_t i = 0; i < s.cap; ++i) {
      const Entry& e = s.slots[i];
      if (e.ptr == 0 || e.epoch < min_epoch || (client_only && e.side != Side::Client)) continue;
      StackBytes& b = out[e.stack];
      b.bytes += static_cast<std::int64_t>(e.size);
      ++b.count;
    }
  }
  return out;
}

std::vector<std::uintptr_t> stack_frames(std::uint32_t id) {
  const Untracked quiet;
  std::vector<std::uintptr_t> out;
  if (id == 0 || g.stacks.recs == nullptr) return out;
  const Locked lock(g.stacks.mu);
  if (id > g.stacks.count) return out;
  const StackRec& r = g.stacks.recs[id - 1];
  out.assign(r.pcs, r.pcs + r.depth);
  return out;
}

}  // namespace ics::stress::heap
