// Memory accounting: live bytes and live objects per session, per object kind
// and in total, each read in O(1). This is what the leak oracles read: after a
// context is released, a session's figures are back exactly where they were.
//
// MemoryStats   the totals across accounts. Owned by whoever owns the accounts
//               (the Store owns one for its sessions); never a global. All
//               counters are relaxed atomics: thread-safe, any thread may read.
// MemoryAccount one per session. Single writer (the session's owner, one fiber
//               at a time); its figures are atomics so a monitor thread may
//               read them. It must outlive every Charge made against it. An
//               account destroyed with live charges leaves them in the totals
//               (that is a leak, and the totals show it).
// Charge        RAII: a move-only handle on bytes charged to an account for
//               one object; releases on destruction.
// ChargedBuffer a byte buffer charged to an account, with a hard size cap
//               (the uploaded-state cap): past the cap append() fails with
//               TooBig and nothing beyond the cap is ever buffered.
//
// A charge that would take an account past its budget fails with
// GeneralFailure (0x80004005, the error Exchange 2003 clients saw when its ICS
// object leaked) and charges nothing. For stress work, set_fail_rate() makes
// charges fail with OutOfMemory pseudo-randomly, deterministically per seed.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

#include "ics/bytes.h"
#include "ics/errors.h"

namespace ics {

enum class ObjectKind : std::uint8_t {
  Session,
  DownloadContext,
  UploadContext,
  StateStream,
  FxBuffer,
  TransferState,
  Message,
  Other,
  kCount
};
inline constexpr std::size_t kObjectKindCount = static_cast<std::size_t>(ObjectKind::kCount);
std::string_view name(ObjectKind kind);

// Live bytes/objects, per kind and in total, with a byte peak.
class MemoryStats {
 public:
  MemoryStats() = default;
  MemoryStats(const MemoryStats&) = delete;
  MemoryStats& operator=(const MemoryStats&) = delete;

  std::size_t live_bytes() const { return live_bytes_.load(std::memory_order_relaxed); }
  std::size_t live_objects() const { return live_objects_.load(std::memory_order_relaxed); }
  std::size_t bytes(ObjectKind k) const { return at(bytes_, k).load(std::memory_order_relaxed); }
  std::size_t objects(ObjectKind k) const { return at(objects_, k).load(std::memory_order_relaxed); }
  std::size_t peak_bytes() const { return peak_bytes_.load(std::memory_order_relaxed); }

 private:
  friend class MemoryAccount;
  using Counters = std::array<std::atomic<std::size_t>, kObjectKindCount>;
  static std::atomic<std::size_t>& at(Counters& c, ObjectKind k) {
    return c[static_cast<std::size_t>(k)];
  }
  static const std::atomic<std::size_t>& at(const Counters& c, ObjectKind k) {
    return c[static_cast<std::size_t>(k)];
  }
  void add(ObjectKind k, std::size_t bytes, std::size_t objects);
  void sub(ObjectKind k, std::size_t bytes, std::size_t objects);

  std::atomic<std::size_t> live_bytes_{0};
  std::atomic<std::size_t> live_objects_{0};
  std::atomic<std::size_t> peak_bytes_{0};
  Counters bytes_{};
  Counters objects_{};
};

class MemoryAccount {
 public:
  static constexpr std::size_t kUnlimited = std::numeric_limits<std::size_t>::max();

  // totals may be null (a standalone account); otherwise it must outlive this.
  explicit MemoryAccount(MemoryStats* totals = nullptr, std::size_t budget = kUnlimited);
  MemoryAccount(const MemoryAccount&) = delete;
  MemoryAccount& operator=(const MemoryAccount&) = delete;

  // Charges bytes and objects to kind. GeneralFailure if live_bytes() would
  // exceed the budget; OutOfMemory when fault injection fires. On failure
  // nothing is charged.
  Status charge(ObjectKind kind, std::size_t bytes, std::size_t objects = 1);
  // Returns what charge() took. Releasing more than is live is a bookkeeping
  // bug: the figures clamp at zero and release_errors() counts it.
  void release(ObjectKind kind, std::size_t bytes, std::size_t objects = 1);

  std::size_t live_bytes() const { return load(live_bytes_); }
  std::size_t live_objects() const { return load(live_objects_); }
  std::size_t bytes(ObjectKind k) const { return load(bytes_[index(k)]); }
  std::size_t objects(ObjectKind k) const { return load(objects_[index(k)]); }
  std::size_t peak_bytes() const { return load(peak_bytes_); }
  void reset_peak() { store(peak_bytes_, live_bytes()); }

  std::size_t budget() const { return load(budget_); }
  // A budget below the live bytes is allowed: later charges fail.
  void set_budget(std::size_t budget) { store(budget_, budget); }

  // Makes each charge fail with OutOfMemory with probability p (0 disables),
  // drawn from a generator seeded with seed: the same calls fail every run.
  void set_fail_rate(double p, std::uint64_t seed);
  // Charges refused (budget or injected) and releases beyond the live figures.
  std::uint64_t failed_charges() const { return failed_charges_.load(std::memory_order_relaxed); }
  std::uint64_t release_errors() const { return release_errors_.load(std::memory_order_relaxed); }

 private:
  using Counter = std::atomic<std::size_t>;
  static std::size_t index(ObjectKind k) { return static_cast<std::size_t>(k); }
  static std::size_t load(const Counter& c) { return c.load(std::memory_order_relaxed); }
  static void store(Counter& c, std::size_t v) { c.store(v, std::memory_order_relaxed); }
  static std::size_t take(Counter& c, std::size_t n, bool& clamped);
  bool inject_failure();

  MemoryStats* totals_;
  Counter budget_;
  Counter live_bytes_{0};
  Counter live_objects_{0};
  Counter peak_bytes_{0};
  std::array<Counter, kObjectKindCount> bytes_{};
  std::array<Counter, kObjectKindCount> objects_{};
  std::atomic<std::uint64_t> failed_charges_{0};
  std::atomic<std::uint64_t> release_errors_{0};
  double fail_rate_ = 0.0;
  std::uint64_t rng_state_ = 0;
};

// Bytes charged for one object; released when the Charge dies.
class Charge {
 public:
  Charge() = default;
  // Charges bytes and one object of kind.
  static Result<Charge> make(MemoryAccount& account, ObjectKind kind, std::size_t bytes);
  Charge(Charge&& o) noexcept;
  Charge& operator=(Charge&& o) noexcept;
  Charge(const Charge&) = delete;
  Charge& operator=(const Charge&) = delete;
  ~Charge() { reset(); }

  // Charges or releases the difference; the object count is unchanged. On a
  // failed grow nothing changes.
  Status resize(std::size_t new_bytes);
  // Releases everything now.
  void reset();
  bool active() const { return account_ != nullptr; }
  std::size_t bytes() const { return bytes_; }
  ObjectKind kind() const { return kind_; }

 private:
  Charge(MemoryAccount* a, ObjectKind k, std::size_t b) : account_(a), kind_(k), bytes_(b) {}
  MemoryAccount* account_ = nullptr;
  ObjectKind kind_ = ObjectKind::Other;
  std::size_t bytes_ = 0;
};

// An append-only byte buffer charged to an account (counted as one object of
// kind while it holds memory), capped at `cap` bytes. What is charged is the
// reserved capacity, grown geometrically but never past the cap.
class ChargedBuffer {
 public:
  ChargedBuffer(MemoryAccount& account, ObjectKind kind, std::size_t cap)
      : account_(&account), kind_(kind), cap_(cap) {}

  // TooBig when size() + data.size() would pass the cap; GeneralFailure over
  // budget; OutOfMemory when injected. On failure the buffer is unchanged.
  Status append(ByteView data);
  ByteView view() const { return ByteView(data_.data(), data_.size()); }
  std::size_t size() const { return data_.size(); }
  bool empty() const { return data_.empty(); }
  std::size_t cap() const { return cap_; }
  std::size_t charged() const { return charge_.bytes(); }
  // Frees the bytes and releases the charge.
  void clear();

 private:
  Status reserve_for(std::size_t needed);

  MemoryAccount* account_;
  ObjectKind kind_;
  std::size_t cap_;
  Bytes data_;
  Charge charge_;
};

}  // namespace ics
