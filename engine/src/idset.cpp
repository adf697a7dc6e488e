#include "ics/idset.h"

#include <utility>

namespace ics {

template <class Key>
Status BasicIdSet<Key>::insert(const Key& key, Globcnt low, Globcnt high) {
  Globset& s = map_[key];
  Status st = s.insert(low, high);
  if (s.empty()) map_.erase(key);  // a rejected insert must not leave an empty entry
  return st;
}

template <class Key>
void BasicIdSet<Key>::insert(const Key& key, const Globset& s) {
  if (s.empty()) return;
  auto [it, added] = map_.try_emplace(key, s);
  if (!added) it->second = unite(it->second, s);
}

template <class Key>
Status BasicIdSet<Key>::remove(const Key& key, Globcnt low, Globcnt high) {
  auto it = map_.find(key);
  if (it == map_.end()) {
    return low <= high && high <= kGlobcntMax
               ? ok_status()
               : Status(ErrorCode::InvalidParameter, "GLOBCNT range reversed or over 48 bits");
  }
  ICS_TRY(it->second.remove(low, high));
  if (it->second.empty()) map_.erase(it);
  return ok_status();
}

template <class Key>
bool BasicIdSet<Key>::contains(const Key& key, Globcnt v) const {
  auto it = map_.find(key);
  return it != map_.end() && it->second.contains(v);
}

template <class Key>
Globset BasicIdSet<Key>::globset(const Key& key) const {
  auto it = map_.find(key);
  return it == map_.end() ? Globset{} : it->second;
}

template <class Key>
std::uint64_t BasicIdSet<Key>::size() const {
  std::uint64_t n = 0;
  for (const auto& [key, s] : map_) n += s.size();
  return n;
}

template <class Key>
BasicIdSet<Key> unite(const BasicIdSet<Key>& a, const BasicIdSet<Key>& b) {
  BasicIdSet<Key> out = a;
  for (const auto& [key, s] : b.replicas()) out.insert(key, s);
  return out;
}

template <class Key>
BasicIdSet<Key> intersect(const BasicIdSet<Key>& a, const BasicIdSet<Key>& b) {
  BasicIdSet<Key> out;
  for (const auto& [key, s] : a.replicas()) {
    auto it = b.replicas().find(key);
    if (it != b.replicas().end()) out.insert(key, intersect(s, it->second));
  }
  return out;
}

template <class Key>
BasicIdSet<Key> difference(const BasicIdSet<Key>& a, const BasicIdSet<Key>& b) {
  BasicIdSet<Key> out;
  for (const auto& [key, s] : a.replicas()) {
    auto it = b.replicas().find(key);
    out.insert(key, it == b.replicas().end() ? s : difference(s, it->second));
  }
  return out;
}

template class BasicIdSet<Replid>;
template class BasicIdSet<Guid>;
template IdSet unite(const IdSet&, const IdSet&);
template IdSet intersect(const IdSet&, const IdSet&);
template IdSet difference(const IdSet&, const IdSet&);
template GuidIdSet unite(const GuidIdSet&, const GuidIdSet&);
template GuidIdSet intersect(const GuidIdSet&, const GuidIdSet&);
template GuidIdSet difference(const GuidIdSet&, const GuidIdSet&);

// ---------------------------------------------------------------------------
// Codecs ([MS-OXCFXICS] 2.2.2.4.1, 2.2.2.4.2)

namespace {

void write_key(Writer& w, Replid k) { w.put_u16(k); }
void write_key(Writer& w, const Guid& k) { write_guid(w, k); }
bool read_key(Reader& r, Replid& k) { return r.read_u16(k); }
bool read_key(Reader& r, Guid& k) { return read_guid(r, k); }

template <class Key>
void encode_pairs(const BasicIdSet<Key>& s, Writer& w) {
  for (const auto& [key, globset] : s.replicas()) {
    if (globset.empty()) continue;  // never stored; kept for clarity of the wire rule
    write_key(w, key);
    encode_globset(globset, w);
  }
}

template <class Key>
Result<BasicIdSet<Key>> decode_pairs(ByteView b, const char* key_name) {
  Reader r(b);
  BasicIdSet<Key> out;
  while (!r.empty()) {
    std::size_t at = r.offset();
    Key key{};
    if (!read_key(r, key)) return Error(ErrorCode::FormatError, std::string("truncated ") + key_name, at);
    if (r.empty()) {
      return Error(ErrorCode::FormatError, std::string(key_name) + " not followed by a GLOBSET", r.offset());
    }
    ICS_TRY_ASSIGN(Globset s, decode_globset(r));
    out.insert(key, s);  // a repeated key is merged
  }
  return out;
}

}  // namespace

void encode_idset(const IdSet& s, Writer& w) { encode_pairs(s, w); }
void encode_idset(const GuidIdSet& s, Writer& w) { encode_pairs(s, w); }

Bytes encode_idset(const IdSet& s) {
  Writer w;
  encode_pairs(s, w);
  return w.take();
}

Bytes encode_idset(const GuidIdSet& s) {
  Writer w;
  encode_pairs(s, w);
  return w.take();
}

Result<IdSet> decode_replid_idset(ByteView b) { return decode_pairs<Replid>(b, "REPLID"); }

Result<GuidIdSet> decode_replguid_idset(ByteView b) { return decode_pairs<Guid>(b, "REPLGUID"); }

// ---------------------------------------------------------------------------
// ReplicaMap

Status ReplicaMap::add(Replid replid, const Guid& guid) {
  auto by_id = by_replid_.find(replid);
  auto by_g = by_guid_.find(guid);
  if (by_id != by_replid_.end() || by_g != by_guid_.end()) {
    bool same = by_id != by_replid_.end() && by_id->second == guid;
    if (same) return ok_status();
    return Status(ErrorCode::InvalidParameter, "REPLID or REPLGUID already mapped");
  }
  by_replid_.emplace(replid, guid);
  by_guid_.emplace(guid, replid);
  return ok_status();
}

std::optional<Guid> ReplicaMap::guid_of(Replid replid) const {
  auto it = by_replid_.find(replid);
  if (it == by_replid_.end()) return std::nullopt;
  return it->second;
}

std::optional<Replid> ReplicaMap::replid_of(const Guid& guid) const {
  auto it = by_guid_.find(guid);
  if (it == by_guid_.end()) return std::nullopt;
  return it->second;
}

Result<Replid> ReplicaMap::replid_for(const Guid& guid) {
  if (auto known = replid_of(guid)) return *known;
  // Bounded: at most max_replid_ steps over the whole life of the map.
  while (next_ != 0 && next_ <= max_replid_ && by_replid_.count(next_) != 0) ++next_;
  if (next_ == 0 || next_ > max_replid_) return Error(ErrorCode::TooBig, "replica map full");
  Replid replid = next_;
  ICS_TRY(add(replid, guid));
  return replid;
}

Result<GuidIdSet> to_replguid(const IdSet& s, const ReplicaMap& map) {
  GuidIdSet out;
  for (const auto& [replid, globset] : s.replicas()) {
    std::optional<Guid> guid = map.guid_of(replid);
    if (!guid) return Error(ErrorCode::NotFound, "REPLID " + std::to_string(replid) + " is not mapped");
    out.insert(*guid, globset);
  }
  return out;
}

Result<IdSet> to_replid(const GuidIdSet& s, ReplicaMap& map) {
  IdSet out;
  for (const auto& [guid, globset] : s.replicas()) {
    ICS_TRY_ASSIGN(Replid replid, map.replid_for(guid));
    out.insert(replid, globset);
  }
  return out;
}

}  // namespace ics
