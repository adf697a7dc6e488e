#include "ics/errors.h"

namespace ics {
namespace {

struct Names {
  ErrorCode code;
  std::string_view name;
  std::string_view ec;
};

constexpr Names kNames[] = {
    {ErrorCode::Success, "Success", "ecNone"},
    {ErrorCode::GeneralFailure, "GeneralFailure", "ecError"},
    {ErrorCode::OutOfMemory, "OutOfMemory", "ecMAPIOOM"},
    {ErrorCode::InvalidParameter, "InvalidParameter", "ecInvalidParam"},
    {ErrorCode::AccessDenied, "AccessDenied", "ecAccessDenied"},
    {ErrorCode::NotSupported, "NotSupported", "ecNotSupported"},
    {ErrorCode::NotFound, "NotFound", "ecNotFound"},
    {ErrorCode::ObjectModified, "ObjectModified", "ecObjectModified"},
    {ErrorCode::ObjectDeleted, "ObjectDeleted", "ecObjectDeleted"},
    {ErrorCode::UnknownFlags, "UnknownFlags", "ecUnknownFlags"},
    {ErrorCode::TooBig, "TooBig", "ecTooBig"},
    {ErrorCode::StreamSizeError, "StreamSizeError", "ecStreamSizeError"},
    {ErrorCode::NullObject, "NullObject", "ecNullObject"},
    {ErrorCode::RpcFormat, "RpcFormat", "ecRpcFormat"},
    {ErrorCode::FormatError, "FormatError", "ecFmtError"},
    {ErrorCode::BufferTooSmall, "BufferTooSmall", "ecBufferTooSmall"},
    {ErrorCode::SyncObjectDeleted, "SyncObjectDeleted", "SYNC_E_OBJECT_DELETED"},
    {ErrorCode::SyncIgnore, "SyncIgnore", "SYNC_E_IGNORE"},
    {ErrorCode::SyncConflict, "SyncConflict", "SYNC_E_CONFLICT"},
    {ErrorCode::SyncNoParent, "SyncNoParent", "SYNC_E_NO_PARENT"},
    {ErrorCode::SyncIncest, "SyncIncest", "SYNC_E_CYCLE"},
    {ErrorCode::SyncUnsynchronized, "SyncUnsynchronized", "SYNC_E_UNSYNCHRONIZED"},
    {ErrorCode::SyncProgress, "SyncProgress", "SYNC_W_PROGRESS"},
    {ErrorCode::NewerClientChange, "NewerClientChange", "SYNC_W_CLIENT_CHANGE_NEWER"},
};

const Names* find(ErrorCode code) {
  for (const auto& n : kNames) {
    if (n.code == code) return &n;
  }
  return nullptr;
}

}  // namespace

std::string_view name(ErrorCode code) {
  const Names* n = find(code);
  return n ? n->name : std::string_view("Unknown");
}

std::string_view ec_name(ErrorCode code) {
  const Names* n = find(code);
  return n ? n->ec : std::string_view("Unknown");
}

std::string Error::to_string() const {
  std::string s(name(code_));
  if (!what_.empty()) s += ": " + what_;
  if (offset_ != kNoOffset) s += " (at byte " + std::to_string(offset_) + ")";
  return s;
}

}  // namespace ics
