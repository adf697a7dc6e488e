// Oracle: an IDSET (byte 0: bit 0 picks the REPLID or REPLGUID form, bits 1-3 a
// small replica-map capacity) fails with FormatError at an offset inside the
// input exactly when reading it pair by pair (key, one GLOBSET) fails; else it
// equals that reading with repeated keys united, holds no empty replica,
// re-encodes to bytes that decode to an equal set and re-encode identically,
// and survives REPLID->REPLGUID->REPLID (or REPLGUID->REPLID->REPLGUID) through
// a ReplicaMap unchanged, a full map failing with exactly TooBig.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>

#include "fuzz_check.h"
#include "ics/idset.h"
#include "mutate/hooks.h"
#include "mutate/set_mutator.h"

namespace {

// An injective REPLID -> GUID mapping for the conversion round trip.
ics::Guid guid_for(ics::Replid replid) {
  ics::Guid g;
  g.bytes.fill(0xA5);
  g.bytes[0] = static_cast<std::uint8_t>(replid);
  g.bytes[1] = static_cast<std::uint8_t>(replid >> 8);
  return g;
}

bool read_key(ics::Reader& r, ics::Replid& key) { return r.read_u16(key); }
bool read_key(ics::Reader& r, ics::Guid& key) { return ics::read_guid(r, key); }

// The IDSET read pair by pair, each key followed by exactly one GLOBSET, the
// values of a repeated key united; nullopt if the input is malformed.
template <class Key>
std::optional<std::map<Key, ics::Globset>> pairwise(ics::ByteView b) {
  ics::Reader r(b);
  std::map<Key, ics::Globset> out;
  while (!r.empty()) {
    Key key{};
    if (!read_key(r, key) || r.empty()) return std::nullopt;
    ics::Result<ics::Globset> s = ics::decode_globset(r);
    if (!s.ok()) return std::nullopt;
    if (!s->empty()) out[key] = ics::unite(out[key], *s);
  }
  return out;
}

// Decoded as pairwise() reads it, or FormatError inside the input; an accepted
// set round-trips.
template <class Set>
bool check_codec(const ics::Result<Set>& s, ics::ByteView body,
                 ics::Result<Set> (*decode)(ics::ByteView)) {
  auto ref = pairwise<typename Set::Map::key_type>(body);
  ICS_FUZZ_CHECK(s.ok() == ref.has_value());
  if (!s.ok()) {
    ICS_FUZZ_CHECK(s.code() == ics::ErrorCode::FormatError);
    ICS_FUZZ_CHECK(s.error().offset() <= body.size());
    return false;
  }
  ICS_FUZZ_CHECK(s->replicas() == *ref);
  for (const auto& [key, globset] : s->replicas()) ICS_FUZZ_CHECK(!globset.empty());
  ics::Bytes enc = ics::encode_idset(*s);
  ics::Result<Set> back = decode(ics::ByteView(enc));
  ICS_FUZZ_CHECK(back.ok() && *back == *s);
  ICS_FUZZ_CHECK(ics::encode_idset(*back) == enc);
  return true;
}

void replid_form(ics::ByteView body) {
  ics::Result<ics::IdSet> s = ics::decode_replid_idset(body);
  if (!check_codec(s, body, &ics::decode_replid_idset)) return;
  ics::ReplicaMap map;
  for (const auto& [replid, globset] : s->replicas()) {
    ICS_FUZZ_CHECK(map.add(replid, guid_for(replid)).ok());
  }
  ics::Result<ics::GuidIdSet> g = ics::to_replguid(*s, map);
  ICS_FUZZ_CHECK(g.ok() && g->size() == s->size());
  ics::Result<ics::IdSet> r = ics::to_replid(*g, map);
  ICS_FUZZ_CHECK(r.ok() && *r == *s && map.size() == s->replicas().size());
}

void replguid_form(ics::ByteView body, ics::Replid capacity) {
  ics::Result<ics::GuidIdSet> s = ics::decode_replguid_idset(body);
  if (!check_codec(s, body, &ics::decode_replguid_idset)) return;
  ics::ReplicaMap map(capacity);
  ics::Result<ics::IdSet> r = ics::to_replid(*s, map);
  if (s->replicas().size() > capacity) {
    ICS_FUZZ_CHECK(r.code() == ics::ErrorCode::TooBig);
    return;
  }
  ICS_FUZZ_CHECK(r.ok() && r->size() == s->size() && r->replicas().size() == s->replicas().size());
  ics::Result<ics::GuidIdSet> g = ics::to_replguid(*r, map);
  ICS_FUZZ_CHECK(g.ok() && *g == *s);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  ics::ByteView body = ics::ByteView(data, size).subspan(1);
  unsigned small = (data[0] >> 1) & 7;
  if ((data[0] & 1) == 0) {
    replid_form(body);
  } else {
    replguid_form(body, small == 0 ? ics::Replid{0xFFFF} : static_cast<ics::Replid>(small));
  }
  return 0;
}

// Structure-aware mutation (fuzz/mutate/set_mutator.h); ICS_FUZZ_BYTE_ONLY=1 turns it off.
ICS_FUZZ_CUSTOM_MUTATORS(ics_fuzz::idset_custom_mutate, ics_fuzz::idset_custom_crossover)
