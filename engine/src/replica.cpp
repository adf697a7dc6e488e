#include "ics/replica.h"

#include <algorithm>
#include <set>
#include <string>

#include "ics/context.h"
#include "ics/fxstream.h"
#include "replica_detail.h"

namespace ics {
namespace {

using detail::HandleGuard;
using detail::kStateOrder;
using detail::read_flag;

Result<GuidIdSet> resolve(const IdSet& set, const Store& store) {
  GuidIdSet out;
  for (const auto& [replid, globset] : set.replicas()) {
    std::optional<Guid> guid = store.guid_of(replid);
    if (!guid) {
      return Error(ErrorCode::FormatError,
                   "REPLID " + std::to_string(replid) + " is not in the replica map");
    }
    out.insert(*guid, globset);
  }
  return out;
}

// Calls f(iterator) for every entry of map whose key is in ids.
template <class Map, class F>
void for_each_in(Map& map, const GuidIdSet& ids, F&& f) {
  for (const auto& [guid, globset] : ids.replicas()) {
    for (const GlobRange& r : globset.ranges()) {
      auto it = map.lower_bound(Gid{guid, r.low});
      while (it != map.end() && it->first.guid == guid && it->first.globcnt <= r.high) {
        it = f(it);
      }
    }
  }
}

struct Resolved {
  GuidIdSet deleted;  // deleted + expired + no longer in scope
  GuidIdSet read;
  GuidIdSet unread;
};

Result<Resolved> resolve_all(const SyncDownload& d, const Store& store) {
  Resolved r;
  ICS_TRY_ASSIGN(GuidIdSet deleted, resolve(d.deleted, store));
  ICS_TRY_ASSIGN(GuidIdSet expired, resolve(d.expired, store));
  ICS_TRY_ASSIGN(GuidIdSet gone, resolve(d.no_longer_in_scope, store));
  r.deleted = unite(unite(deleted, expired), gone);
  ICS_TRY_ASSIGN(r.read, resolve(d.read, store));
  ICS_TRY_ASSIGN(r.unread, resolve(d.unread, store));
  return r;
}

}  // namespace

Replica::Replica(Fid folder, ReplicaOptions options)
    : folder_(folder), options_(std::move(options)) {}

Status Replica::sync(Session& session) {
  counters_ = SyncCounters{};
  ICS_TRY_ASSIGN(std::uint32_t handle, sync_configure(session, folder_, options_.config));
  HandleGuard guard(session, handle);
  return run(session, handle);
}

Status Replica::run(Session& session, std::uint32_t handle) {
  ICS_TRY(upload_state(session, handle));
  ICS_TRY_ASSIGN(SyncDownload download, this->download(session, handle));
  auto stats = download_stats(session, handle);
  if (stats.ok()) counters_.server = *stats;
  ICS_TRY(apply(download, session.store()));
  return ok_status();
}

Status Replica::upload_state(Session& session, std::uint32_t handle) {
  const std::size_t count = options_.config.hierarchy() ? 2 : 4;
  for (std::size_t i = 0; i < count; ++i) ICS_TRY(upload_property(session, handle, kStateOrder[i]));
  return ok_status();
}

Status Replica::upload_property(Session& session, std::uint32_t handle, StateProperty p) {
  const Bytes bytes = encode_idset(state_.get(p));
  if (bytes.size() > 0xFFFFFFFFu) return Error(ErrorCode::TooBig, "state property over 4 GiB");
  ICS_TRY(upload_state_begin(session, handle, state_tag(p), static_cast<std::uint32_t>(bytes.size())));
  const std::size_t chunk = options_.state_chunk == 0 ? bytes.size() : options_.state_chunk;
  const ByteView all(bytes);
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    ICS_TRY(upload_state_continue(session, handle, all.subspan(at, std::min(chunk, bytes.size() - at))));
  }
  counters_.state_bytes_uploaded += bytes.size();
  return upload_state_end(session, handle);
}

Result<SyncDownload> Replica::download(Session& session, std::uint32_t handle) {
  FxParser lexer;
  SyncStreamParser grammar(options_.config.hierarchy());
  Bytes buffer;  // one transfer buffer for the whole stream
  for (;;) {
    if (counters_.buffers >= options_.max_buffers) {
      return Error(ErrorCode::GeneralFailure, "the stream did not reach Done");
    }
    ICS_TRY_ASSIGN(BufferResult r, get_buffer(session, handle, options_.buffer_size, buffer));
    ++counters_.buffers;
    counters_.stream_bytes += buffer.size();
    ICS_TRY(lexer.feed(buffer));
    ICS_TRY(grammar.push_all(lexer.events()));
    if (r.status == TransferStatus::Done) break;
    if (r.status != TransferStatus::Partial) {
      return Error(ErrorCode::GeneralFailure, "get_buffer returned neither Partial nor Done");
    }
  }
  ICS_TRY(lexer.finish());
  return grammar.finish();
}

Status Replica::apply(const SyncDownload& d, const Store& store) {
  if (d.hierarchy != options_.config.hierarchy()) {
    return Error(ErrorCode::FormatError, "a download of the other synchronization type");
  }
  ICS_TRY_ASSIGN(Resolved ids, resolve_all(d, store));
  // Nothing below can fail: the replica changes all at once or not at all.
  count(d);
  for (const DownloadedMessage& m : d.messages) apply_message(m);
  for (const DownloadedFolder& f : d.folders) apply_folder(f);
  if (d.hierarchy) {
    remove_folders(ids.deleted);
  } else {
    remove_messages(ids.deleted);
    set_read(ids.read, true);
    set_read(ids.unread, false);
  }
  state_ = d.state;
#if defined(ICS_SEEDED_BUG_REPLICA_SYNC_HISTORY)
  // Seeded bug (ci/bugzoo, uncharged growth): one entry per download, never trimmed, charged to nobody.
  given_history_.push_back(encode_idset(state_.given));
#endif
  return ok_status();
}

void Replica::apply_message(const DownloadedMessage& m) {
  LocalMessage& local = messages_[m.header.source_key];
  local.props = PropertyBag(m.props);  // storage sized to this version (a copy-assignment keeps the largest seen)
  local.change_key = m.header.change_key;
  local.pcl = m.header.pcl;
  local.last_modified = m.header.last_modified;
  local.associated = m.associated;
  local.mid = m.header.id;
  local.cn = m.header.cn;
  local.read = read_flag(m.props);
#if defined(ICS_SEEDED_BUG_REPLICA_CHANGE_LOG)
  // Seeded bug (ci/bugzoo, uncharged client growth): every downloaded change's change key,
  // kept "for later conflict checks" and never trimmed; a download that brings no change keeps nothing.
  change_log_.push_back(m.header.change_key);
#endif
}

void Replica::apply_folder(const DownloadedFolder& f) {
  LocalFolder& local = folders_[f.header.source_key];
  local.parent = f.parent_source_key;
  local.props = f.props;
  local.change_key = f.header.change_key;
  local.pcl = f.header.pcl;
  local.last_modified = f.header.last_modified;
  local.fid = f.header.id;
}

void Replica::remove_messages(const GuidIdSet& ids) {
  for_each_in(messages_, ids, [this](MessageMap::iterator it) { return messages_.erase(it); });
}

void Replica::set_read(const GuidIdSet& ids, bool read) {
  for_each_in(messages_, ids, [read](MessageMap::iterator it) {
    detail::write_read_flag(it->second, read);
    return std::next(it);
  });
}

void Replica::remove_folders(const GuidIdSet& ids) {
  std::set<Gid> doomed;
  for_each_in(folders_, ids, [&doomed](FolderMap::iterator it) {
    doomed.insert(it->first);
    return std::next(it);
  });
  // A deleted folder takes its local subtree with it.
  for (bool grew = !doomed.empty(); grew;) {
    grew = false;
    for (const auto& [key, folder] : folders_) {
      if (folder.parent && doomed.count(*folder.parent) && doomed.insert(key).second) grew = true;
    }
  }
  for (const Gid& key : doomed) folders_.erase(key);
}

void Replica::count(const SyncDownload& d) {
  counters_.message_changes = d.messages.size();
  counters_.partial_changes = static_cast<std::size_t>(
      std::count_if(d.messages.begin(), d.messages.end(), [](const auto& m) { return m.partial; }));
  counters_.folder_changes = d.folders.size();
  counters_.deletions = d.deleted.size() + d.expired.size();
  counters_.no_longer_in_scope = d.no_longer_in_scope.size();
  counters_.read_changes = d.read.size() + d.unread.size();
}

}  // namespace ics
