#include "ics/memory.h"

#include "ics/splitmix.h"

#include <algorithm>
#include <string>

namespace ics {

std::string_view name(ObjectKind kind) {
  switch (kind) {
    case ObjectKind::Session:
      return "Session";
    case ObjectKind::DownloadContext:
      return "DownloadContext";
    case ObjectKind::UploadContext:
      return "UploadContext";
    case ObjectKind::StateStream:
      return "StateStream";
    case ObjectKind::FxBuffer:
      return "FxBuffer";
    case ObjectKind::TransferState:
      return "TransferState";
    case ObjectKind::Message:
      return "Message";
    case ObjectKind::Other:
      return "Other";
    case ObjectKind::kCount:
      break;
  }
  return "Unknown";
}

namespace {

void raise_peak(std::atomic<std::size_t>& peak, std::size_t now) {
  std::size_t seen = peak.load(std::memory_order_relaxed);
  while (now > seen && !peak.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
  }
}

// A tiny deterministic generator, one per account.
std::uint64_t next_random(std::uint64_t& state) { return splitmix64_next(state); }

}  // namespace

// ---- MemoryStats ----

void MemoryStats::add(ObjectKind k, std::size_t bytes, std::size_t objects) {
  std::size_t now = live_bytes_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  live_objects_.fetch_add(objects, std::memory_order_relaxed);
  at(bytes_, k).fetch_add(bytes, std::memory_order_relaxed);
  at(objects_, k).fetch_add(objects, std::memory_order_relaxed);
  raise_peak(peak_bytes_, now);
}

void MemoryStats::sub(ObjectKind k, std::size_t bytes, std::size_t objects) {
  live_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
  live_objects_.fetch_sub(objects, std::memory_order_relaxed);
  at(bytes_, k).fetch_sub(bytes, std::memory_order_relaxed);
  at(objects_, k).fetch_sub(objects, std::memory_order_relaxed);
}

// ---- MemoryAccount ----

MemoryAccount::MemoryAccount(MemoryStats* totals, std::size_t budget)
    : totals_(totals), budget_(budget) {}

bool MemoryAccount::inject_failure() {
  if (fail_rate_ <= 0.0) return false;
  double u = static_cast<double>(next_random(rng_state_) >> 11) * 0x1.0p-53;
  return u < fail_rate_;
}

Status MemoryAccount::charge(ObjectKind kind, std::size_t bytes, std::size_t objects) {
  std::size_t live = live_bytes();
  if (bytes > budget() || live > budget() - bytes) {
    failed_charges_.fetch_add(1, std::memory_order_relaxed);
    return Error(ErrorCode::GeneralFailure, "session memory budget exceeded: " +
                                                std::to_string(live) + " live + " +
                                                std::to_string(bytes) + " > " +
                                                std::to_string(budget()));
  }
  if (inject_failure()) {
    failed_charges_.fetch_add(1, std::memory_order_relaxed);
    return Error(ErrorCode::OutOfMemory, "injected allocation failure");
  }
  store(live_bytes_, live + bytes);
  store(live_objects_, live_objects() + objects);
  store(bytes_[index(kind)], load(bytes_[index(kind)]) + bytes);
  store(objects_[index(kind)], load(objects_[index(kind)]) + objects);
  if (live + bytes > peak_bytes()) store(peak_bytes_, live + bytes);
  if (totals_ != nullptr) totals_->add(kind, bytes, objects);
  return ok_status();
}

// Subtracts n from c, clamping at zero; returns what was actually taken.
std::size_t MemoryAccount::take(Counter& c, std::size_t n, bool& clamped) {
  std::size_t have = load(c);
  std::size_t taken = std::min(have, n);
  if (taken != n) clamped = true;
  store(c, have - taken);
  return taken;
}

void MemoryAccount::release(ObjectKind kind, std::size_t bytes, std::size_t objects) {
  bool clamped = false;
  // Clamp per kind first: the per-kind figure bounds what may leave the totals.
  std::size_t b = take(bytes_[index(kind)], bytes, clamped);
  std::size_t o = take(objects_[index(kind)], objects, clamped);
  take(live_bytes_, b, clamped);
  take(live_objects_, o, clamped);
  if (clamped) release_errors_.fetch_add(1, std::memory_order_relaxed);
  if (totals_ != nullptr) totals_->sub(kind, b, o);
}

void MemoryAccount::set_fail_rate(double p, std::uint64_t seed) {
  fail_rate_ = std::clamp(p, 0.0, 1.0);
  rng_state_ = seed;
}

// ---- Charge ----

Result<Charge> Charge::make(MemoryAccount& account, ObjectKind kind, std::size_t bytes) {
  ICS_TRY(account.charge(kind, bytes, 1));
  return Charge(&account, kind, bytes);
}

Charge::Charge(Charge&& o) noexcept : account_(o.account_), kind_(o.kind_), bytes_(o.bytes_) {
  o.account_ = nullptr;
  o.bytes_ = 0;
}

Charge& Charge::operator=(Charge&& o) noexcept {
  if (this != &o) {
    reset();
    account_ = o.account_;
    kind_ = o.kind_;
    bytes_ = o.bytes_;
    o.account_ = nullptr;
    o.bytes_ = 0;
  }
  return *this;
}

Status Charge::resize(std::size_t new_bytes) {
  if (account_ == nullptr) return Error(ErrorCode::NullObject, "resize of an empty Charge");
  if (new_bytes > bytes_) {
    ICS_TRY(account_->charge(kind_, new_bytes - bytes_, 0));
  } else if (new_bytes < bytes_) {
    account_->release(kind_, bytes_ - new_bytes, 0);
  }
  bytes_ = new_bytes;
  return ok_status();
}

void Charge::reset() {
  if (account_ == nullptr) return;
  account_->release(kind_, bytes_, 1);
  account_ = nullptr;
  bytes_ = 0;
}

// ---- ChargedBuffer ----

Status ChargedBuffer::reserve_for(std::size_t needed) {
  std::size_t have = charge_.bytes();
  if (needed <= have) return ok_status();
  std::size_t grown = std::max<std::size_t>(256, have > cap_ / 2 ? cap_ : have * 2);
  std::size_t want = std::max(needed, std::min(grown, cap_));
  if (charge_.active()) {
    ICS_TRY(charge_.resize(want));
  } else {
    ICS_TRY_ASSIGN(charge_, Charge::make(*account_, kind_, want));
  }
  data_.reserve(want);
  return ok_status();
}

Status ChargedBuffer::append(ByteView data) {
  if (data.empty()) return ok_status();
  if (data.size() > cap_ || size() > cap_ - data.size()) {
    return Error(ErrorCode::TooBig, "buffer would exceed its cap of " + std::to_string(cap_) +
                                        " bytes (" + std::to_string(size()) + " held, " +
                                        std::to_string(data.size()) + " more)");
  }
  ICS_TRY(reserve_for(size() + data.size()));
  data_.insert(data_.end(), data.begin(), data.end());
  return ok_status();
}

void ChargedBuffer::clear() {
  Bytes().swap(data_);
  charge_.reset();
}

}  // namespace ics
