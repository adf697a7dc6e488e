// IDSET ([MS-OXCFXICS] 2.2.2.4, 3.1.5.4.2): a set of IDs grouped by replica,
// each replica's GLOBCNTs held as a Globset. Two wire forms, told apart only
// by context:
//   REPLID form   (2.2.2.4.1): { REPLID (2 bytes, LE) ; GLOBSET }* by REPLID
//   REPLGUID form (2.2.2.4.2): { REPLGUID (16 bytes)  ; GLOBSET }* by GUID bytes
// There is no count: the IDSET is the whole binary value and an empty IDSET
// is zero bytes. A CNSET is an IDSET whose values are change numbers (CNs).
//
// BasicIdSet and ReplicaMap own their contents (std::map); plain values,
// copyable, thread-compatible (concurrent const use is safe, mutation needs
// exclusive access). An IdSet never holds an empty Globset: removing the last
// value of a replica drops the replica.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>

#include "ics/bytes.h"
#include "ics/errors.h"
#include "ics/globset.h"
#include "ics/ids.h"

namespace ics {

template <class Key>
class BasicIdSet {
 public:
  using Map = std::map<Key, Globset>;

  Status insert(const Key& key, Globcnt v) { return insert(key, v, v); }
  Status insert(const Key& key, Globcnt low, Globcnt high);
  // Adds every value of s under key.
  void insert(const Key& key, const Globset& s);
  Status remove(const Key& key, Globcnt v) { return remove(key, v, v); }
  Status remove(const Key& key, Globcnt low, Globcnt high);
  bool contains(const Key& key, Globcnt v) const;
  // The values under key (an empty set if none).
  Globset globset(const Key& key) const;

  // Id-level helpers for the REPLID form: an Id is REPLID + GLOBCNT.
  // (Member templates, so that instantiating BasicIdSet<Guid> skips them.)
  template <class K = Key>
    requires std::same_as<K, Replid>
  Status insert(const Id& id) {
    return insert(id.replid, id.globcnt);
  }
  template <class K = Key>
    requires std::same_as<K, Replid>
  Status remove(const Id& id) {
    return remove(id.replid, id.globcnt);
  }
  template <class K = Key>
    requires std::same_as<K, Replid>
  bool contains(const Id& id) const {
    return contains(id.replid, id.globcnt);
  }

  bool empty() const { return map_.empty(); }
  // Total number of values over all replicas.
  std::uint64_t size() const;
  // Replicas with at least one value, in wire (ascending key) order.
  const Map& replicas() const { return map_; }
  void clear() { map_.clear(); }

  bool operator==(const BasicIdSet&) const = default;

 private:
  Map map_;
};

// Set algebra, replica by replica (instantiated for Replid and Guid).
template <class Key>
BasicIdSet<Key> unite(const BasicIdSet<Key>& a, const BasicIdSet<Key>& b);
template <class Key>
BasicIdSet<Key> intersect(const BasicIdSet<Key>& a, const BasicIdSet<Key>& b);
template <class Key>
BasicIdSet<Key> difference(const BasicIdSet<Key>& a, const BasicIdSet<Key>& b);

// REPLID-keyed IDSET: the transient form (MetaTagIdsetDeleted, ...Read, ...).
using IdSet = BasicIdSet<Replid>;
// REPLGUID-keyed IDSET: the persisted form (MetaTagIdsetGiven, MetaTagCnset*).
using GuidIdSet = BasicIdSet<Guid>;
// A CNSET is an IDSET of change numbers ([MS-OXCFXICS] 2.2.2.4).
using Cnset = IdSet;
using GuidCnset = GuidIdSet;

extern template class BasicIdSet<Replid>;
extern template class BasicIdSet<Guid>;

// Codecs. Encoding writes replicas in ascending key order and skips none
// (an IdSet holds no empty Globset). Decoding reads key + GLOBSET pairs until
// the input ends; FormatError (with the failing offset) for a truncated key,
// a key with no GLOBSET after it, or a bad GLOBSET. A key that appears more
// than once has its GLOBSETs merged (united); keys out of order are accepted.
void encode_idset(const IdSet& s, Writer& w);
Bytes encode_idset(const IdSet& s);
void encode_idset(const GuidIdSet& s, Writer& w);
Bytes encode_idset(const GuidIdSet& s);
Result<IdSet> decode_replid_idset(ByteView b);
Result<GuidIdSet> decode_replguid_idset(ByteView b);

// A logon's replica mapping: REPLID <-> REPLGUID, one-to-one
// ([MS-OXCFXICS] 3.1.5.4.2 refers to [MS-OXCSTOR]).
class ReplicaMap {
 public:
  // REPLIDs handed out by replid_for() are 1..max_replid.
  explicit ReplicaMap(Replid max_replid = 0xFFFF) : max_replid_(max_replid) {}

  // Records replid <-> guid. Adding the same pair again is a no-op;
  // InvalidParameter if either side is already mapped to something else.
  Status add(Replid replid, const Guid& guid);
  std::optional<Guid> guid_of(Replid replid) const;
  std::optional<Replid> replid_of(const Guid& guid) const;
  // The REPLID of guid, mapping it to the lowest free REPLID in
  // 1..max_replid if it is unknown; TooBig when none is free.
  Result<Replid> replid_for(const Guid& guid);
  std::size_t size() const { return by_replid_.size(); }

 private:
  std::map<Replid, Guid> by_replid_;
  std::map<Guid, Replid> by_guid_;
  Replid max_replid_;
  Replid next_ = 1;  // no free REPLID below this one
};

// REPLID form -> REPLGUID form; NotFound for a REPLID that map lacks.
Result<GuidIdSet> to_replguid(const IdSet& s, const ReplicaMap& map);
// REPLGUID form -> REPLID form, mapping unknown GUIDs (TooBig when full).
Result<IdSet> to_replid(const GuidIdSet& s, ReplicaMap& map);

}  // namespace ics
