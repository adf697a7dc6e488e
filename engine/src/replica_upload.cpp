// The upload side of Replica: local changes and upload() (see replica.h).
#include <algorithm>

#include "ics/collector.h"
#include "ics/context.h"
#include "ics/fxstream.h"
#include "ics/replica.h"
#include "replica_detail.h"

namespace ics {
namespace {

using detail::HandleGuard;
using detail::read_flag;
using detail::write_read_flag;

// The four ICS header values of an import, then the message's properties.
std::vector<PropValue> import_values(const Gid& key, const LocalMessage& m) {
  std::vector<PropValue> v = {PropValue::binary(tags::kSourceKey, serialize_gid(key)),
                              PropValue::integer(tags::kLastModificationTime, m.last_modified),
                              PropValue::binary(tags::kChangeKey, serialize_xid(m.change_key)),
                              PropValue::binary(tags::kPredecessorChangeList, m.pcl.serialize())};
  v.insert(v.end(), m.props.values().begin(), m.props.values().end());
  return v;
}

// Outcomes that are results, not failures: the next sync brings the server's version.
bool expected_refusal(const Error& e) {
  return e.code() == ErrorCode::SyncIgnore || e.code() == ErrorCode::SyncObjectDeleted ||
         e.code() == ErrorCode::SyncConflict;
}

// IdsetGiven less the ids deleted during the upload.
Status remove_deleted(GuidIdSet& given, const GuidIdSet& deleted) {
  for (const auto& [guid, globset] : deleted.replicas()) {
    for (const GlobRange& r : globset.ranges()) ICS_TRY(given.remove(guid, r.low, r.high));
  }
  return ok_status();
}

Result<IcsState> read_transfer_state(Session& session, std::uint32_t handle, std::size_t chunk) {
  ICS_TRY_ASSIGN(std::uint32_t ts, get_transfer_state(session, handle));
  HandleGuard guard(session, ts);
  Bytes stream, buffer;
  for (;;) {
    ICS_TRY_ASSIGN(BufferResult r, get_buffer(session, ts, chunk, buffer));
    stream.insert(stream.end(), buffer.begin(), buffer.end());
    if (r.status == TransferStatus::Done) break;
    if (r.status != TransferStatus::Partial) {
      return Error(ErrorCode::GeneralFailure, "get_buffer returned neither Partial nor Done");
    }
  }
  ICS_TRY_ASSIGN(std::vector<FxEvent> events, parse_fx(stream));
  return read_state(events);
}

}  // namespace

Xid Replica::next_change_key() { return Xid::from_globcnt(options_.client_guid, ++local_counter_); }

std::uint64_t Replica::next_time(std::uint64_t at_least) {
  clock_ = std::max(clock_, at_least) + 1;
  return clock_;
}

void Replica::stamp(LocalMessage& m) {
  m.change_key = next_change_key();
  m.pcl.add(m.change_key);
  m.last_modified = next_time(m.last_modified);
}

Status Replica::local_modify(const Gid& message, const std::vector<PropValue>& set,
                             const std::vector<PropTag>& remove) {
  auto it = messages_.find(message);
  if (it == messages_.end()) return Error(ErrorCode::NotFound, "no such local message");
  for (const PropValue& v : set) it->second.props.set(v);
  for (PropTag t : remove) it->second.props.erase(t);
  it->second.read = read_flag(it->second.props);
  stamp(it->second);
  pending_.push_back({PendingChange::Kind::Change, message});
  return ok_status();
}

Gid Replica::local_create(PropertyBag props, bool associated) {
  const Gid key{options_.client_guid, ++local_counter_};
  LocalMessage& m = messages_[key];
  m.props = std::move(props);
  m.associated = associated;
  m.read = read_flag(m.props);
  stamp(m);
  pending_.push_back({PendingChange::Kind::Change, key});
  return key;
}

Status Replica::local_delete(const Gid& message, bool hard) {
  if (messages_.erase(message) == 0) return Error(ErrorCode::NotFound, "no such local message");
  pending_.push_back({PendingChange::Kind::Delete, message, hard});
  return ok_status();
}

Status Replica::local_set_read(const Gid& message, bool read) {
  auto it = messages_.find(message);
  if (it == messages_.end()) return Error(ErrorCode::NotFound, "no such local message");
  if (it->second.associated) {
    // The server MUST ignore read-state changes of FAI messages ([MS-OXCFXICS]
    // 3.2.5.9.4.6): a local one would never reach it, nor ever be undone.
    return Error(ErrorCode::NotSupported, "read state of an FAI message");
  }
  write_read_flag(it->second, read);
  pending_.push_back({PendingChange::Kind::Read, message, false, read});
  return ok_status();
}

Status Replica::upload(Session& session) {
  upload_counters_ = UploadCounters{};
  deleted_now_ = GuidIdSet{};
  reached_ = IcsState{};
  if (options_.config.hierarchy()) return Error(ErrorCode::NotSupported, "upload of a hierarchy replica");
  ICS_TRY_ASSIGN(std::uint32_t handle, open_collector(session, folder_, true));
  HandleGuard guard(session, handle);
  return upload_all(session, handle);
}

Status Replica::upload_all(Session& session, std::uint32_t handle) {
  const std::size_t before = counters_.state_bytes_uploaded;
  for (StateProperty p : detail::kStateOrder) ICS_TRY(upload_property(session, handle, p));
  upload_counters_.state_bytes_uploaded = counters_.state_bytes_uploaded - before;
  std::size_t done = 0;
  Status status = ok_status();
  for (; done < pending_.size(); ++done) {
    status = import_one(session, handle, pending_[done]);
    if (!status.ok()) break;
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(done));
  if (status.ok()) status = merge_transfer_state(session, handle);
  // The imports done reached the server whatever failed after them (the next
  // import or the transfer state): the state must say what they did.
  if (!status.ok()) keep_reached();
  return status;
}

Status Replica::import_one(Session& session, std::uint32_t handle, const PendingChange& c) {
  switch (c.kind) {
    case PendingChange::Kind::Change: return import_change(session, handle, c.key);
    case PendingChange::Kind::Delete: return import_delete(session, handle, c);
    case PendingChange::Kind::Read: return import_read(session, handle, c);
  }
  return Error(ErrorCode::InvalidParameter, "unknown pending change");
}

Status Replica::import_change(Session& session, std::uint32_t handle, const Gid& key) {
  auto it = messages_.find(key);
  if (it == messages_.end()) {  // deleted locally afterwards: the delete follows
    ++upload_counters_.ignored;
    return ok_status();
  }
  const std::uint8_t flags = it->second.associated ? import_flag::kAssociated : 0;
  Result<ImportResult> r = import_message_change(session, handle, flags, import_values(key, it->second));
  if (!r.ok()) {
    if (!expected_refusal(r.error())) return r.error();
    ++(r.error().code() == ErrorCode::SyncConflict ? upload_counters_.conflicts : upload_counters_.ignored);
    return ok_status();
  }
  ++upload_counters_.uploaded;
  note_import(*r, session.store().guid(), it->second.associated);
  if (r->outcome == ImportOutcome::ClientWon || r->outcome == ImportOutcome::ServerWon) {
    ++upload_counters_.conflicts;
    if (r->outcome == ImportOutcome::ClientWon) ++upload_counters_.client_won;
  }
  return ok_status();
}

Status Replica::import_delete(Session& session, std::uint32_t handle, const PendingChange& c) {
  const std::uint8_t flags = c.hard ? import_delete_flag::kHardDelete : 0;
  ICS_TRY_ASSIGN(DeleteResult r, import_deletes(session, handle, flags, {serialize_gid(c.key)}));
  upload_counters_.uploaded += r.deleted;
  upload_counters_.ignored += r.skipped;
  // The server no longer has it and IdsetGiven drops it, so the local copy must
  // not hold it either, even if a sync since (after a failed upload) brought it back.
  messages_.erase(c.key);
  return deleted_now_.insert(c.key.guid, c.key.globcnt);
}

Status Replica::import_read(Session& session, std::uint32_t handle, const PendingChange& c) {
  if (messages_.count(c.key) == 0) {  // deleted locally afterwards
    ++upload_counters_.ignored;
    return ok_status();
  }
  ICS_TRY_ASSIGN(ReadStateResult r,
                 import_read_state_changes(session, handle, {{serialize_gid(c.key), c.read}}));
  // The server now has c.read and the transfer state marks its read CN seen,
  // so the local copy must say so too, even if a sync since overwrote it.
  if (r.changed + r.unchanged != 0) write_read_flag(messages_.at(c.key), c.read);
  upload_counters_.uploaded += r.changed;
  upload_counters_.ignored += r.unchanged + r.ignored + r.skipped;
  return ok_status();
}

// What the collector's state got from one import (collector.h, "State"): the
// source key into IdsetGiven, the CN into CnsetSeen(FAI) when it was marked seen.
void Replica::note_import(const ImportResult& r, const Guid& store_guid, bool associated) {
  Status g = reached_.given.insert(r.source_key.guid, r.source_key.globcnt);
  Status s = r.seen ? (associated ? reached_.seen_fai : reached_.seen).insert(store_guid, r.cn) : ok_status();
  (void)g;  // GLOBCNTs from GIDs and the store are 48-bit by construction
  (void)s;
}

// A failed upload: the state takes what the imports that reached the server
// added (no read CNs: they stay unseen, so the next sync resends them).
void Replica::keep_reached() {
  IcsState kept = state_;
  kept.given = unite(state_.given, reached_.given);
  // Cannot fail (48-bit ids); an id left in IdsetGiven would only be reported deleted again.
  Status removed = remove_deleted(kept.given, deleted_now_);
  (void)removed;
  kept.seen = unite(state_.seen, reached_.seen);
  kept.seen_fai = unite(state_.seen_fai, reached_.seen_fai);
  state_ = std::move(kept);
}

Status Replica::merge_transfer_state(Session& session, std::uint32_t handle) {
  ICS_TRY_ASSIGN(IcsState t, read_transfer_state(session, handle, options_.buffer_size));
  IcsState merged;
  // 3.3.5.13: IdsetGiven may be left out of the final state; merge ours back in.
  merged.given = unite(state_.given, t.given);
  ICS_TRY(remove_deleted(merged.given, deleted_now_));
  merged.seen = unite(state_.seen, t.seen);
  merged.seen_fai = unite(state_.seen_fai, t.seen_fai);
  merged.read = unite(state_.read, t.read);
  state_ = std::move(merged);
  return ok_status();
}

}  // namespace ics
