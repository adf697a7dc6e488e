// Every live heap byte of ics-stress, attributed: which fiber allocated it, on which side of
// the protocol (server or client), in which epoch (quiescent points passed), and from which
// stack. This is what lets the growth detector see memory the engine does not charge to a
// MemoryAccount (a plain container member, the client's Replica) and name where it grows.
//
// Hooks. Under a sanitizer the allocator calls us (__sanitizer_install_malloc_and_free_hooks:
// every malloc, operator new and free, with the requested size). Without one, ics-stress
// replaces malloc, calloc, realloc, free and the aligned forms (heap_interpose.cpp, linked
// into that binary only) and forwards them to glibc. Either way each live allocation is one
// entry of a sharded hash table that lives in mmap'd memory, so the tracker never allocates
// through the heap it watches; an allocation made inside a hook (none today) is not tracked.
//
// Attribution. A thread-local Context says who runs: the owner (fiber index + 1; 0 outside
// fibers), the side (ClientScope marks the client's calls), and the bounds of the stack that
// runs (for the frame-pointer walk). The runner sets it when a fiber starts and after every
// switch back to it. Per owner the live bytes (and the client's share) are kept, so a fiber
// can tell how much it holds now, as it does for its sessions' MemoryAccounts.
//
// Stacks. From epoch 1 on (the loops), every stack_every-th allocation of a thread records
// its call stack (frame pointers, within the current stack's bounds, up to kMaxFrames) in an
// interned table; the others carry stack 0. Snapshots count live bytes per stack for the
// allocations of an epoch range: two snapshots' difference is UMDH's per-stack diff.
//
// Thread-safe. One tracker per process (the malloc hooks are process-wide): start() once
// before the fibers, stop() after them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ics::stress::heap {

inline constexpr std::size_t kMaxFrames = 32;

enum class Side : std::uint8_t { Server = 0, Client = 1 };

struct Context {
  std::uint32_t owner = 0;
  Side side = Side::Server;
  const char* stack_lo = nullptr;  // bounds of the stack that runs (empty: no stack walk)
  const char* stack_hi = nullptr;
};

struct Totals {
  std::int64_t bytes = 0;   // live bytes tracked
  std::int64_t client = 0;  // of which allocated under ClientScope
  std::int64_t allocations = 0;
};

// Whether this build can track (hooks or the interposer are there).
bool available();
// "sanitizer-hooks", "malloc-interposer" or "none".
std::string_view source();
// Starts tracking for owners 0..owners; stack_every = 0 records no stacks. False when not
// available or already started.
bool start(std::size_t owners, std::uint32_t stack_every);
// Stops tracking (entries are kept for the final figures).
void stop();
bool active();

Totals totals();
// Live bytes allocated by one owner (and the client's share of them).
void owner_bytes(std::uint32_t owner, std::int64_t& bytes, std::int64_t& client);

// The running thread's context.
Context context();
void set_context(const Context& c);
// This thread's own stack as the walk bounds; owner 0, server side.
void enter_thread();

// Marks the allocations of a scope as the client's (restores the previous side).
class ClientScope {
 public:
  ClientScope();
  ~ClientScope();
  ClientScope(const ClientScope&) = delete;
  ClientScope& operator=(const ClientScope&) = delete;

 private:
  Side saved_;
};

// Epochs: 0 until the first next_epoch(); stacks are recorded from epoch 1.
void next_epoch();
std::uint32_t epoch();

struct StackBytes {
  std::int64_t bytes = 0;
  std::int64_t count = 0;
};
using Snapshot = std::unordered_map<std::uint32_t, StackBytes>;
// Live bytes per stack id of the allocations made in epochs >= min_epoch (client side only
// when client_only). Nothing it allocates is tracked.
Snapshot snapshot(std::uint32_t min_epoch, bool client_only);
// The recorded return addresses of a stack id (innermost first); empty for 0.
std::vector<std::uintptr_t> stack_frames(std::uint32_t id);
// How many allocations of a thread share one recorded stack (start()'s stack_every).
std::uint32_t stack_every();

// While one lives on a thread, that thread's allocations are not tracked (the tracker's own
// reports, symbolisation).
class Untracked {
 public:
  Untracked();
  ~Untracked();
  Untracked(const Untracked&) = delete;
  Untracked& operator=(const Untracked&) = delete;

 private:
  bool saved_;
};

namespace detail {
// Called by the hooks; never allocate.
void on_alloc(void* ptr, std::size_t size);
void on_free(void* ptr);
// The interposer sets this when linked in (heap_interpose.cpp).
void mark_interposer();
}  // namespace detail

}  // namespace ics::stress::heap
