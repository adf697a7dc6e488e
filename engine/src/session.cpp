#include "ics/session.h"

#include "ics/splitmix.h"

#include <algorithm>
#include <string>

namespace ics {
namespace {

constexpr std::uint32_t kSlotBits = 16;
constexpr std::uint32_t kSlotMask = (1u << kSlotBits) - 1;
// Generations run 1..kMaxGeneration; a slot is retired before it would wrap.
constexpr std::uint32_t kMaxGeneration = 0xFFFF;

std::uint32_t salt_for(std::uint64_t session_id) {
  const std::uint64_t z = splitmix64_mix(session_id * kSplitmixGamma + 0xD1B54A32D192ED03ull);
  return static_cast<std::uint32_t>(z ^ (z >> 32));
}

Error null_object(std::string what) { return Error(ErrorCode::NullObject, std::move(what)); }

}  // namespace

Session::Session(std::shared_ptr<Store> store, const SessionOptions& options)
    : store_(std::move(store)),
      id_(store_->next_session_id()),
#if defined(ICS_SEEDED_BUG_HANDLE_CROSS_SESSION)
      // Seeded bug: handles do not depend on the session, so another session's handle
      // resolves here (the owner check below cannot see it: the table is this session's).
      salt_(0 * salt_for(id_)),
#else
      salt_(salt_for(id_)),
#endif
      account_(&store_->memory_stats(), options.memory_budget),
      max_state_size_(options.max_state_size),
      max_handles_(std::min(options.max_handles, kMaxHandles)) {}

Result<std::unique_ptr<Session>> Session::open(std::shared_ptr<Store> store,
                                               SessionOptions options) {
  if (!store) return Error(ErrorCode::InvalidParameter, "a session needs a store");
  std::unique_ptr<Session> s(new Session(std::move(store), options));
  ICS_TRY(s->account_.charge(ObjectKind::Session, sizeof(Session)));
  s->self_charged_ = true;
  return s;
}

Session::~Session() {
  release_all();
  if (self_charged_) account_.release(ObjectKind::Session, sizeof(Session));
}

std::uint32_t Session::encode(std::size_t slot, std::uint32_t generation) const {
  return ((generation << kSlotBits) | static_cast<std::uint32_t>(slot)) ^ salt_;
}

Result<std::size_t> Session::slot_of(std::uint32_t handle) const {
  std::uint32_t raw = handle ^ salt_;
  std::size_t slot = raw & kSlotMask;
  std::uint32_t generation = raw >> kSlotBits;
  if (handle == kInvalidHandle || generation == 0 || slot >= slots_.size()) {
    return null_object("no such handle");
  }
  const Slot& s = slots_[slot];
  if (!s.object || s.generation != generation) return null_object("stale handle");
  if (s.object->owner_ != id_) return null_object("handle of another session");
  return slot;
}

Result<SessionObject*> Session::find(std::uint32_t handle) const {
  ICS_TRY_ASSIGN(std::size_t slot, slot_of(handle));
  return slots_[slot].object.get();
}

Result<std::size_t> Session::child_count(std::uint32_t handle) const {
  ICS_TRY_ASSIGN(std::size_t slot, slot_of(handle));
  return slots_[slot].children.size();
}

Result<std::size_t> Session::take_slot() {
  if (!free_.empty()) {
    std::size_t slot = free_.back();
    free_.pop_back();
    return slot;
  }
  if (slots_.size() >= max_handles_) {
    return Error(ErrorCode::GeneralFailure,
                 "handle table full (" + std::to_string(max_handles_) + " handles)");
  }
  slots_.emplace_back();
  return slots_.size() - 1;
}

Result<std::uint32_t> Session::add(std::unique_ptr<SessionObject> object, std::uint32_t parent) {
  if (!object) return Error(ErrorCode::InvalidParameter, "null object");
  std::size_t parent_slot = 0;
  if (parent != kInvalidHandle) {
    ICS_TRY_ASSIGN(parent_slot, slot_of(parent));
  }
  if (free_.empty() && slots_.size() >= max_handles_) {
    return Error(ErrorCode::GeneralFailure,
                 "handle table full (" + std::to_string(max_handles_) + " handles)");
  }
  ObjectKind kind = object->kind();
  std::size_t bytes = object->footprint();
  ICS_TRY(account_.charge(kind, bytes));
  std::size_t slot = take_slot().value();  // cannot fail: checked above
  Slot& s = slots_[slot];
  std::uint32_t generation = s.generation + 1;
  if (encode(slot, generation) == kInvalidHandle) ++generation;
  std::uint32_t handle = encode(slot, generation);
  object->owner_ = id_;
  object->handle_ = handle;
  s.object = std::move(object);
  s.charged = bytes;
  s.kind = kind;
  s.generation = generation;
  s.parent = parent;
  if (parent != kInvalidHandle) slots_[parent_slot].children.push_back(handle);
  ++live_;
  return handle;
}

// Empties one slot: unlinks it from its parent, destroys the object, returns
// its charge. Children must have been detached already.
void Session::detach(std::size_t slot) {
  Slot& s = slots_[slot];
  std::unique_ptr<SessionObject> object = std::move(s.object);
  if (s.parent != kInvalidHandle) {
    if (auto p = slot_of(s.parent); p.ok()) {
      auto& siblings = slots_[*p].children;
      siblings.erase(std::remove(siblings.begin(), siblings.end(), object->handle_), siblings.end());
    }
  }
  std::size_t charged = s.charged;
  ObjectKind kind = s.kind;
#if defined(ICS_SEEDED_BUG_SESSION_UNCHARGED_LOG)
  // Seeded bug (ci/bugzoo, uncharged growth): a plain map entry per release, outside the session's account.
  released_[object->handle_] = kind;
#endif
  s.charged = 0;
  s.parent = kInvalidHandle;
  std::vector<std::uint32_t>().swap(s.children);
  // Retire the slot when its next handle could need a generation past the max.
  if (s.generation + 2 <= kMaxGeneration) free_.push_back(slot);
  --live_;
#if defined(ICS_SEEDED_BUG_DOWNLOAD_CONTEXT_RETAINED)
  // Seeded bug (the Exchange 2003 ICS leak): a released download context stays reachable
  // from the session, with everything it holds, in a slot no handle names, until logoff.
  if (kind == ObjectKind::DownloadContext) {
    slots_.emplace_back().object = std::move(object);
    return;
  }
#endif
  object.reset();
  account_.release(kind, charged);
}

Status Session::release(std::uint32_t handle) {
  ICS_TRY_ASSIGN(std::size_t root, slot_of(handle));
  // The object and everything below it, parents before children...
  std::vector<std::size_t> doomed = {root};
  for (std::size_t i = 0; i < doomed.size(); ++i) {
    for (std::uint32_t child : slots_[doomed[i]].children) {
      if (auto c = slot_of(child); c.ok()) doomed.push_back(*c);
    }
  }
  // ...released children first.
  for (auto it = doomed.rbegin(); it != doomed.rend(); ++it) detach(*it);
  return ok_status();
}

void Session::release_all() {
  for (std::size_t slot = 0; slot < slots_.size(); ++slot) {
    const Slot& s = slots_[slot];
    if (s.object && s.parent == kInvalidHandle) {
      Status st = release(s.object->handle_);
      (void)st;  // a live top-level handle always releases
    }
  }
}

}  // namespace ics
