// Private to the engine: helpers shared by the two halves of Replica
// (replica.cpp: download; replica_upload.cpp: upload).
#pragma once

#include <cstdint>

#include "ics/props.h"
#include "ics/replica.h"
#include "ics/session.h"
#include "ics/state.h"

namespace ics::detail {

// Releases a handle when the scope leaves, whatever the path.
class HandleGuard {
 public:
  HandleGuard(Session& session, std::uint32_t handle) : session_(session), handle_(handle) {}
  ~HandleGuard() { (void)session_.release(handle_); }
  HandleGuard(const HandleGuard&) = delete;
  HandleGuard& operator=(const HandleGuard&) = delete;

 private:
  Session& session_;
  std::uint32_t handle_;
};

// The order the state properties are uploaded in (hierarchy: the first two).
inline constexpr StateProperty kStateOrder[] = {StateProperty::IdsetGiven, StateProperty::CnsetSeen,
                                                StateProperty::CnsetSeenFAI, StateProperty::CnsetRead};

// Whether PidTagMessageFlags in props has mfRead.
inline bool read_flag(const PropertyBag& props) {
  const PropValue* v = props.get(tags::kMessageFlags);
  const std::uint64_t* flags = v ? v->as_integer() : nullptr;
  return flags != nullptr && (*flags & kMessageFlagRead) != 0;
}

// Sets or clears mfRead in the message's PidTagMessageFlags and its read field.
inline void write_read_flag(LocalMessage& m, bool read) {
  std::uint64_t flags = 0;
  const PropValue* v = m.props.get(tags::kMessageFlags);
  if (v != nullptr && v->as_integer() != nullptr) flags = *v->as_integer();
  flags = read ? (flags | kMessageFlagRead) : (flags & ~std::uint64_t{kMessageFlagRead});
  m.props.set(PropValue::integer(tags::kMessageFlags, flags));
  m.read = read;
}

}  // namespace ics::detail
