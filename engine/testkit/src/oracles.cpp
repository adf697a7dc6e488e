#include "ics/testkit/oracles.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "ics/fxstream.h"
#include "ics/restriction.h"

namespace ics::testkit {
namespace {

Error differ(std::string what) { return Error(ErrorCode::GeneralFailure, std::move(what)); }

bool kind_wanted(const SyncConfig& c, bool associated) {
  return c.has(associated ? sync_flags::kFAI : sync_flags::kNormal);
}

// The documented property-list rule of sync.h, written out again.
bool synced(const SyncConfig& c, PropTag tag, bool associated) {
  if (is_marker(tag.value) || is_meta_property(tag)) return false;
  if (associated && c.has(sync_flags::kIgnoreSpecifiedOnFAI)) return true;
  bool listed = false;
  for (PropTag t : c.property_tags) listed = listed || t.id() == tag.id();
  return c.has(sync_flags::kOnlySpecifiedProperties) ? listed : !listed;
}

std::uint64_t flags_of(const PropertyBag& bag) {
  const PropValue* v = bag.get(tags::kMessageFlags);
  return v != nullptr && v->as_integer() != nullptr ? *v->as_integer() : 0;
}

std::string show(const PropValue* v) {
  return v == nullptr ? std::string("(absent)") : ics::describe(FxEvent::property(*v));
}

// The first tag whose value differs between two bags, described.
std::optional<std::string> bag_difference(const PropertyBag& want, const PropertyBag& have) {
  std::set<PropTag> all;
  for (const PropValue& v : want.values()) all.insert(v.tag);
  for (const PropValue& v : have.values()) all.insert(v.tag);
  for (PropTag t : all) {
    const PropValue* a = want.get(t);
    const PropValue* b = have.get(t);
    if (a != nullptr && b != nullptr && *a == *b) continue;
    return "server " + show(a) + " / replica " + show(b);
  }
  return std::nullopt;
}

PropertyBag restriction_view(const MessageSnapshot& m) {
  PropertyBag view = m.props;
  std::uint64_t flags = flags_of(m.props) & 0xFFFFFFFFu;
  flags = m.read ? (flags | kMessageFlagRead) : (flags & ~std::uint64_t{kMessageFlagRead});
  view.set(PropValue::integer(tags::kMessageFlags, flags));
  return view;
}

Status compare_message(const MessageSnapshot& s, const LocalMessage& l, const SyncConfig& c) {
  const std::string who = "message " + describe(s.source_key) + ": ";
  if (l.associated != s.associated) return differ(who + "associated flag differs");
  if (!(l.change_key == s.change_key)) return differ(who + "change key differs");
  if (!(l.pcl == s.pcl)) return differ(who + "PCL differs");
  if (l.last_modified != s.last_modified) return differ(who + "LastModificationTime differs");
  if (l.mid && *l.mid != s.mid) return differ(who + "PidTagMid differs");
  PropertyBag want = normalized_message_props(expected_message_props(s.props, s.associated, c));
  PropertyBag have = normalized_message_props(l.props);
  if (auto d = bag_difference(want, have)) return differ(who + "property differs: " + *d);
  if (c.has(sync_flags::kReadState) && l.read != s.read) {
    return differ(who + (s.read ? "read on the server, unread in the replica"
                                : "unread on the server, read in the replica"));
  }
  return ok_status();
}

struct ServerView {
  std::map<Gid, MessageSnapshot> in_scope;
  std::set<Gid> out_of_scope;
};

Result<ServerView> server_view(const Store& store, Fid folder, const SyncConfig& c) {
  std::optional<Restriction> restriction;
  if (!c.restriction.empty()) {
    ICS_TRY_ASSIGN(Restriction r, Restriction::parse(c.restriction));
    restriction = std::move(r);
  }
  ServerView view;
  for (MessageKind k : {MessageKind::Normal, MessageKind::Associated}) {
    if (!kind_wanted(c, k == MessageKind::Associated)) continue;
    ICS_TRY_ASSIGN(std::vector<Mid> mids, store.message_ids(folder, k));
    for (const Mid& mid : mids) {
      ICS_TRY_ASSIGN(MessageSnapshot m, store.get_message(mid));
      if (restriction && !restriction->matches(restriction_view(m))) {
        view.out_of_scope.insert(m.source_key);
      } else {
        view.in_scope.emplace(m.source_key, std::move(m));
      }
    }
  }
  return view;
}

Status check_extra_messages(const ServerView& view, const Replica& replica, const SyncConfig& c) {
  for (const auto& [key, local] : replica.messages()) {
    if (!kind_wanted(c, local.associated) || view.in_scope.count(key)) continue;
    if (c.has(sync_flags::kNoDeletions)) continue;
    if (c.has(sync_flags::kIgnoreNoLongerInScope) && view.out_of_scope.count(key)) continue;
    return differ("replica holds message " + describe(key) +
                  ", which the server folder does not have in scope");
  }
  return ok_status();
}

PropertyBag expected_folder_props(const PropertyBag& server, const SyncConfig& c) {
  PropertyBag out;
  for (const PropValue& v : server.values()) {
    if (v.tag == tags::kDisplayName || synced(c, v.tag, false)) out.set(v);
  }
  return out;
}

Status compare_folder(const FolderSnapshot& s, Fid top, const LocalFolder& l, const SyncConfig& c) {
  const std::string who = "folder " + describe(s.source_key) + ": ";
  std::optional<Gid> parent;
  if (s.parent != top) parent = s.parent_source_key;
  if (l.parent != parent) return differ(who + "parent differs");
  if (!(l.change_key == s.change_key)) return differ(who + "change key differs");
  if (!(l.pcl == s.pcl)) return differ(who + "PCL differs");
  if (l.last_modified != s.last_modified) return differ(who + "LastModificationTime differs");
  if (l.fid && *l.fid != s.fid) return differ(who + "PidTagFolderId differs");
  if (auto d = bag_difference(expected_folder_props(s.props, c), l.props)) {
    return differ(who + "property differs: " + *d);
  }
  return ok_status();
}

}  // namespace

std::string describe(const Gid& gid) {
  return gid.guid.to_string() + "/" + std::to_string(gid.globcnt);
}

PropertyBag expected_message_props(const PropertyBag& server, bool associated,
                                   const SyncConfig& config) {
  PropertyBag out;
  for (const PropValue& v : server.values()) {
    if (v.tag == tags::kMessageFlags || synced(config, v.tag, associated)) out.set(v);
  }
  return out;
}

PropertyBag normalized_message_props(PropertyBag props) {
  const std::uint64_t flags = flags_of(props) & ~std::uint64_t{kMessageFlagRead};
  if (flags == 0) {
    props.erase(tags::kMessageFlags);
  } else {
    props.set(PropValue::integer(tags::kMessageFlags, flags));
  }
  return props;
}

Status check_converged(const Store& store, Fid folder, const Replica& replica,
                       const SyncConfig& config) {
  ICS_TRY_ASSIGN(ServerView view, server_view(store, folder, config));
  for (const auto& [key, server] : view.in_scope) {
    auto it = replica.messages().find(key);
    if (it == replica.messages().end()) {
      return differ("replica lacks message " + describe(key) + " (MID " +
                    std::to_string(server.mid.globcnt) + ")");
    }
    ICS_TRY(compare_message(server, it->second, config));
  }
  return check_extra_messages(view, replica, config);
}

Status check_hierarchy_converged(const Store& store, Fid folder, const Replica& replica,
                                 const SyncConfig& config) {
  ICS_TRY_ASSIGN(std::vector<FolderSnapshot> tree, store.folder_tree(folder));
  std::set<Gid> keys;
  for (const FolderSnapshot& f : tree) {
    keys.insert(f.source_key);
    auto it = replica.folders().find(f.source_key);
    if (it == replica.folders().end()) return differ("replica lacks folder " + describe(f.source_key));
    ICS_TRY(compare_folder(f, folder, it->second, config));
  }
  if (config.has(sync_flags::kNoDeletions)) return ok_status();
  for (const auto& [key, local] : replica.folders()) {
    if (!keys.count(key)) return differ("replica holds folder " + describe(key) + " the server lacks");
  }
  return ok_status();
}

MemoryBaseline::MemoryBaseline(const MemoryAccount& account)
    : bytes_(account.live_bytes()), objects_(account.live_objects()) {
  for (std::size_t k = 0; k < kObjectKindCount; ++k) {
    kind_bytes_[k] = account.bytes(static_cast<ObjectKind>(k));
    kind_objects_[k] = account.objects(static_cast<ObjectKind>(k));
  }
}

namespace {
std::string delta(std::size_t now, std::size_t then) {
  return std::to_string(now) + " (baseline " + std::to_string(then) + ")";
}
}  // namespace

Status MemoryBaseline::check(const MemoryAccount& account) const {
  std::string what;
  if (account.live_bytes() != bytes_) what += " live bytes " + delta(account.live_bytes(), bytes_);
  if (account.live_objects() != objects_) {
    what += " live objects " + delta(account.live_objects(), objects_);
  }
  for (std::size_t k = 0; k < kObjectKindCount; ++k) {
    const auto kind = static_cast<ObjectKind>(k);
    if (account.bytes(kind) != kind_bytes_[k]) {
      what += " " + std::string(name(kind)) + " bytes " + delta(account.bytes(kind), kind_bytes_[k]);
    }
    if (account.objects(kind) != kind_objects_[k]) {
      what += " " + std::string(name(kind)) + " objects " +
              delta(account.objects(kind), kind_objects_[k]);
    }
  }
  if (what.empty()) return ok_status();
  return Error(ErrorCode::GeneralFailure, "memory not back to baseline:" + what);
}

}  // namespace ics::testkit
