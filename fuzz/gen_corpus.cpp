// ics_gen_corpus OUTDIR: writes the seed inputs of every fuzz target into
// OUTDIR/<what>/<label>. This file holds the codec targets' seeds: GLOBSETs, IDSETs,
// FastTransfer streams, PCLs and restrictions made by the engine's own encoders
// (encode_globset, encode_idset, FxWriter, write_state, Pcl::serialize,
// Restriction::serialize) and hand-made malformed inputs, at least one per reject
// class. The op-script targets' seeds live beside their scripts, in
// seeds/<what>_seeds.cpp. Deterministic: fixed seeds, std::mt19937_64 used raw.
// Every codec seed is checked against the outcome its label promises (accepted,
// or rejected with the named error), every globset_ops script against the ops it
// was written from; exit 1 if one is not, 2 on a usage or I/O error. With OPSDIR, the
// op names each session-level script was written with go to OPSDIR/<what>/<label>,
// which fuzz/check-seed-ops compares with what the target runs. ci/gen-corpus names
// the seeds by SHA-1 into corpus/<what>/.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "fxstream_input.h"
#include "ics/fxstream.h"
#include "ics/globset.h"
#include "ics/idset.h"
#include "ics/pcl.h"
#include "ics/restriction.h"
#include "ics/state.h"
#include "ics/store.h"
#include "seeds/seeds.h"

namespace {

using namespace ics_seeds;
using ics::ErrorCode;
using ics::Globcnt;
using ics::Globset;

Bytes hex(std::string_view text) {
  auto b = ics::from_hex(text);
  if (!b.ok()) {
    std::fprintf(stderr, "gen_corpus: bad hex literal %.*s\n", static_cast<int>(text.size()), text.data());
    std::exit(2);
  }
  return *b;
}

std::string outcome(ErrorCode code) {
  return code == ErrorCode::Success ? "accepted" : std::string(ics::name(code));
}

template <class R>
void expect(Seeds& seeds, std::string_view what, std::string_view label, const R& result,
            ErrorCode want) {
  if (result.code() != want) {
    seeds.mismatch(what, label, "expected " + outcome(want) + ", got " + outcome(result.code()));
  }
}

Globset set_of(std::vector<ics::GlobRange> ranges) {
  auto s = Globset::from_ranges(std::move(ranges));
  if (!s.ok()) must(s.error(), "from_ranges");
  return *s;
}

// A set of `clusters` runs and singletons around base, spread over `spread`.
Globset random_set(Rng& rng, Globcnt base, Globcnt spread, int clusters) {
  Globset s;
  for (int i = 0; i < clusters; ++i) {
    Globcnt low = base + rng() % spread;
    Globcnt len = rng() % 4 == 0 ? 1 + rng() % 300 : 1 + rng() % 3;
    Globcnt high = std::min(low + len - 1, ics::kGlobcntMax);
    must(s.insert(std::min(low, ics::kGlobcntMax), high), "insert");
  }
  return s;
}

// ---------------------------------------------------------------------------
// globset

std::vector<Globset> sample_sets(Rng& rng) {
  const Globcnt max = ics::kGlobcntMax;
  std::vector<Globset> sets = {
      Globset{},
      set_of({{0, 0}}),
      set_of({{max, max}}),
      set_of({{0x123456789A, 0x123456789A}}),
      set_of({{1, 1000}}),
      set_of({{0, max}}),
      set_of({{0x01, 0x03}, {0x05, 0x05}, {0x07, 0x09}}),  // Bitmask ([MS-OXCFXICS] 3.1.5.4.3.1.3)
      set_of({{0x10, 0x10}, {0x12, 0x12}, {0x14, 0x14}, {0x16, 0x16}, {0x18, 0x18}}),  // 5 runs in 9
      set_of({{0xF7, 0xF8}, {0xFA, 0xFF}}),                    // Bitmask at the top of a byte
      set_of({{0xFE, 0x101}}),                                 // a run across a byte boundary
      set_of({{1, 1}, {0x0100000000, 0x0100000000}, {max - 1, max - 1}}),  // Push6 singletons
      set_of({{0x0A0B0C0D0E00, 0x0A0B0C0D0E05}, {0x0A0B0C0D0F10, 0x0A0B0C0D0F12},
              {0x0A0B0C100000, 0x0A0B0C10FFFF}}),               // nested common bytes
      set_of({{max - 8, max - 6}, {max - 4, max - 4}, {max - 2, max}}),
  };
  Globset spaced;  // 300 singletons two apart: one long Bitmask train
  for (Globcnt v = 0; v < 600; v += 2) must(spaced.insert(v), "insert");
  sets.push_back(spaced);
  const Globcnt bases[] = {0, 0x10000, 0x01000000, 0x123400000000, max - 0x100000};
  for (int i = 0; i < 15; ++i) {
    Globcnt base = bases[i % 5];
    Globcnt spread = i < 5 ? 64 : i < 10 ? 4096 : 0x1000000;
    sets.push_back(random_set(rng, base, std::min(spread, max - base + 1), 3 + i * 3));
  }
  sets.push_back(random_set(rng, 0x40000000, 0x1000000, 400));  // a large one
  return sets;
}

void globset_seeds(Seeds& seeds, Rng& rng) {
  int n = 0;
  for (const Globset& s : sample_sets(rng)) {
    Bytes b = ics::encode_globset(s);
    std::string label = "encoded-" + std::to_string(n++);
    expect(seeds, "globset", label, ics::decode_globset(ics::ByteView(b)), ErrorCode::Success);
    seeds.write("globset", label, b);
  }
  struct Hand {
    const char* label;
    const char* hex;
    ErrorCode want;
  };
  const Hand hand[] = {
      {"ok-unordered-overlapping", "52000000000010000000000020 52000000000001000000000018 00",
       ErrorCode::Success},
      {"ok-adjacent-ranges", "04 00000000 52 0001 0004 52 0005 0009 50 00", ErrorCode::Success},
      {"ok-push1-chain", "01 00 01 00 01 00 01 00 01 00 01 07 50 50 50 50 50 00", ErrorCode::Success},
      {"ok-push-pop-nothing", "02 0102 50 00", ErrorCode::Success},
      {"ok-range-under-push5", "05 0000000000 52 10 20 50 00", ErrorCode::Success},
      {"bad-unknown-command", "07 00", ErrorCode::FormatError},
      {"bad-truncated-push", "03 0000", ErrorCode::FormatError},
      {"bad-push-over-six", "04 00000000 03 000000 50 00", ErrorCode::FormatError},
      {"bad-pop-empty", "50 00", ErrorCode::FormatError},
      {"bad-end-with-stack", "01 00 00", ErrorCode::FormatError},
      {"bad-no-end", "06 000000000001", ErrorCode::FormatError},
      {"bad-empty-input", "", ErrorCode::FormatError},
      {"bad-bitmask-depth", "04 00000000 42 01 02 50 00", ErrorCode::FormatError},
      {"bad-bitmask-carry", "05 0000000000 42 F8 FF 50 00", ErrorCode::FormatError},
      {"bad-truncated-bitmask", "05 0000000000 42 01", ErrorCode::FormatError},
      {"bad-range-reversed", "52 000000000002 000000000001 00", ErrorCode::FormatError},
      {"bad-truncated-range", "52 000000000001 0000", ErrorCode::FormatError},
      {"bad-trailing-bytes", "06 000000000001 00 00", ErrorCode::FormatError},
  };
  for (const Hand& h : hand) {
    Bytes b = hex(h.hex);
    expect(seeds, "globset", h.label, ics::decode_globset(ics::ByteView(b)), h.want);
    seeds.write("globset", h.label, b);
  }
}

// ---------------------------------------------------------------------------
// idset: byte 0 = form (bit 0: REPLGUID) and replica-map capacity (bits 1-3)

Bytes with_control(std::uint8_t control, const Bytes& body) {
  Bytes b{control};
  b.insert(b.end(), body.begin(), body.end());
  return b;
}

void idset_seed(Seeds& seeds, const std::string& label, std::uint8_t control, const Bytes& body,
                ErrorCode want) {
  if (control & 1) {
    expect(seeds, "idset", label, ics::decode_replguid_idset(ics::ByteView(body)), want);
  } else {
    expect(seeds, "idset", label, ics::decode_replid_idset(ics::ByteView(body)), want);
  }
  seeds.write("idset", label, with_control(control, body));
}

void idset_seeds(Seeds& seeds, Rng& rng) {
  std::vector<Globset> sets = sample_sets(rng);
  for (int i = 0; i < 10; ++i) {
    ics::IdSet ids;
    ics::GuidIdSet guids;
    for (int k = 0; k <= i % 5; ++k) {
      const Globset& s = sets[(i * 7 + k * 3) % sets.size()];
      if (s.empty()) continue;
      ids.insert(static_cast<ics::Replid>(k == 0 ? 1 : rng() % 0x10000), s);
      guids.insert(ics::Guid::from_seed(rng() % 8), s);
    }
    idset_seed(seeds, "replid-" + std::to_string(i), 0, ics::encode_idset(ids), ErrorCode::Success);
    // Capacity 0xFFFF, then 2 (bits 1-3 = 2): a map that fills up on the bigger sets.
    idset_seed(seeds, "replguid-" + std::to_string(i), i < 5 ? 0x01 : 0x05, ics::encode_idset(guids),
               ErrorCode::Success);
  }
  const Bytes one = ics::encode_globset(set_of({{5, 9}}));
  Bytes guid(16, 0x11);
  Bytes dup = hex("0200");  // REPLID 2 twice, out of order after REPLID 3
  dup.insert(dup.end(), one.begin(), one.end());
  Bytes three = hex("0300");
  three.insert(three.end(), one.begin(), one.end());
  dup.insert(dup.begin(), three.begin(), three.end());
  dup.insert(dup.end(), {0x02, 0x00, 0x06, 0, 0, 0, 0, 0, 0x20, 0x00});
  idset_seed(seeds, "ok-empty-replid", 0, {}, ErrorCode::Success);
  idset_seed(seeds, "ok-empty-replguid", 1, {}, ErrorCode::Success);
  idset_seed(seeds, "ok-repeated-unordered-keys", 0, dup, ErrorCode::Success);
  idset_seed(seeds, "bad-truncated-replid", 0, hex("01"), ErrorCode::FormatError);
  idset_seed(seeds, "bad-replid-without-globset", 0, hex("0100"), ErrorCode::FormatError);
  idset_seed(seeds, "bad-truncated-replguid", 1, Bytes(guid.begin(), guid.begin() + 9),
             ErrorCode::FormatError);
  idset_seed(seeds, "bad-replguid-without-globset", 1, guid, ErrorCode::FormatError);
  Bytes bad = hex("0100 52 000000000002 000000000001 00");
  idset_seed(seeds, "bad-globset-inside", 0, bad, ErrorCode::FormatError);
  Bytes cut = hex("0100");
  cut.insert(cut.end(), one.begin(), one.end() - 1);  // GLOBSET without its End
  idset_seed(seeds, "bad-globset-no-end", 0, cut, ErrorCode::FormatError);
}

// ---------------------------------------------------------------------------
// fxstream

using ics::PropTag;
using ics::PropValue;
namespace ptyp = ics::ptyp;
namespace mk = ics::markers;

PropValue prop(std::uint16_t id, std::uint16_t type, ics::PropData data) {
  return PropValue{PropTag(id, type), std::nullopt, std::move(data)};
}

class Fx {
 public:
  Fx& m(std::uint32_t tag) {
    must(w_.marker(tag), "FxWriter::marker");
    return *this;
  }
  Fx& p(const PropValue& v) {
    must(w_.property(v), "FxWriter::property");
    return *this;
  }
  ics::FxWriter& writer() { return w_; }
  Bytes bytes() const { return w_.bytes(); }

 private:
  ics::FxWriter w_;
};

// One property of every type the stream carries, named ones included.
void every_type(Fx& fx) {
  const ics::Guid set = ics::Guid::from_seed(42);
  fx.p(prop(0x6601, ptyp::kInteger16, std::uint64_t{0x7FFF}))
      .p(prop(0x0E07, ptyp::kInteger32, std::uint64_t{0x00000009}))
      .p(prop(0x6602, ptyp::kFloating32, std::uint64_t{0x3F800000}))
      .p(prop(0x6603, ptyp::kFloating64, std::uint64_t{0x400921FB54442D18}))
      .p(prop(0x6604, ptyp::kCurrency, std::uint64_t{123450000}))
      .p(prop(0x6605, ptyp::kFloatingTime, std::uint64_t{0x40E5F54000000000}))
      .p(prop(0x6606, ptyp::kErrorCode, std::uint64_t{0x8004010F}))
      .p(prop(0x0E1F, ptyp::kBoolean, std::uint64_t{1}))
      .p(prop(0x6607, ptyp::kBoolean, std::uint64_t{0x0100}))  // kept as read
      .p(prop(0x6608, ptyp::kInteger64, std::uint64_t{0x0102030405060708}))
      .p(prop(0x0039, ptyp::kTime, std::uint64_t{0x01D9A1B2C3D4E5F6}))
      .p(prop(0x6609, ptyp::kGuid, set))
      .p(prop(0x0037, ptyp::kString8, Bytes{'h', 'e', 'l', 'l', 'o', 0}))
      .p(PropValue::unicode(ics::tags::kSubject, "Quarterly report"))
      .p(prop(0x0E1D, ptyp::kString, Bytes{'n', 0, 'o', 0}))  // no terminator: accepted as is
      .p(prop(0x0070, 0x84E4, Bytes{'c', 'p', '1', '2', '5', '2', 0}))
      .p(prop(0x0071, ptyp::kCodePageUnicode, Bytes{'u', 0, 0, 0}))
      .p(prop(0x660A, ptyp::kServerId, Bytes{1, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}))
      .p(prop(0x3701, ptyp::kObject, Bytes{0xDE, 0xAD}))
      .p(prop(0x0FFF, ptyp::kBinary, Bytes{}))
      .p(prop(0x660B, ptyp::kMultipleFlag | ptyp::kInteger16, std::vector<std::uint64_t>{1, 2, 0xFFFF}))
      .p(prop(0x660C, ptyp::kMultipleFlag | ptyp::kInteger32, std::vector<std::uint64_t>{}))
      .p(prop(0x660D, ptyp::kMultipleFlag | ptyp::kInteger64, std::vector<std::uint64_t>{7}))
      .p(prop(0x660E, ptyp::kMultipleFlag | ptyp::kTime, std::vector<std::uint64_t>{1, 2}))
      .p(prop(0x660F, ptyp::kMultipleFlag | ptyp::kGuid, std::vector<ics::Guid>{set, ics::Guid{}}))
      .p(prop(0x000F, ptyp::kMultipleFlag | ptyp::kString,
              std::vector<Bytes>{{'a', 0, 0, 0}, {0, 0}, {}}))
      .p(prop(0x6610, ptyp::kMultipleFlag | ptyp::kString8, std::vector<Bytes>{{'x', 0}}))
      .p(prop(0x6611, ptyp::kMultipleFlag | ptyp::kBinary, std::vector<Bytes>{{1, 2, 3}, {}}))
      .p(PropValue{PropTag(0x8001, ptyp::kInteger32), ics::NamedProp{set, 0, 0x8233, {}}, std::uint64_t{5}})
      .p(PropValue{PropTag(0x8002, ptyp::kMultipleFlag | ptyp::kString),
                   ics::NamedProp{set, 1, 0, u"Keywords"}, std::vector<Bytes>{{'k', 0, 0, 0}}})
      .p(PropValue{PropTag(0x8003, ptyp::kBoolean), ics::NamedProp{set, 1, 0, u""}, std::uint64_t{0}});
}

Bytes progress_information(std::uint32_t fai, std::uint32_t normal) {
  ics::Writer w;  // Version, Padding1, FAI count, FAI size, normal count, Padding2, normal size
  w.put_u16(0);
  w.put_u16(0);
  w.put_u32(fai);
  w.put_u64(fai * 1000ull);
  w.put_u32(normal);
  w.put_u32(0);
  w.put_u64(normal * 2000ull);
  return w.take();
}

void message_header(Fx& fx, const ics::Guid& replica, Globcnt mid, Globcnt cn, bool fai) {
  ics::Pcl pcl = ics::Pcl::of(ics::Xid::from_globcnt(replica, cn));
  pcl.add(ics::Xid::from_globcnt(ics::Guid::from_seed(7), cn / 2 + 1));
  fx.p(PropValue::binary(ics::tags::kSourceKey, ics::serialize_gid({replica, mid})))
      .p(PropValue::integer(ics::tags::kLastModificationTime, 0x01D9000000000000 + cn))
      .p(PropValue::binary(ics::tags::kChangeKey, ics::serialize_xid(ics::Xid::from_globcnt(replica, cn))))
      .p(PropValue::binary(ics::tags::kPredecessorChangeList, pcl.serialize()))
      .p(PropValue::integer(ics::tags::kAssociated, fai ? 1 : 0))
      .p(PropValue::integer(ics::tags::kMid, ics::Id{1, mid}.to_u64()))
      .p(PropValue::integer(ics::tags::kMessageSize, 512 + mid))
      .p(PropValue::integer(ics::tags::kChangeNumber, ics::Id{1, cn}.to_u64()));
}

ics::IcsState sample_state(Rng& rng) {
  ics::IcsState st;
  const ics::Guid replica = ics::Guid::from_seed(1);
  st.given.insert(replica, random_set(rng, 0x100, 5000, 12));
  st.given.insert(ics::Guid::from_seed(2), random_set(rng, 1, 40, 3));
  st.seen.insert(replica, set_of({{1, 0x2000}}));
  st.seen_fai.insert(replica, set_of({{0x10, 0x12}, {0x40, 0x40}}));
  st.read.insert(replica, random_set(rng, 0x1000, 64, 6));
  return st;
}

Bytes contents_sync(Rng& rng, bool partial) {
  Fx fx;
  const ics::Guid replica = ics::Guid::from_seed(1);
  fx.m(mk::kIncrSyncProgressMode).p(PropValue::binary(PropTag(0x0000, ptyp::kBinary), progress_information(1, 2)));
  for (Globcnt i = 0; i < 2; ++i) {
    fx.m(mk::kIncrSyncProgressPerMsg).p(prop(0, ptyp::kInteger32, std::uint64_t{600})).p(prop(0, ptyp::kBoolean, i));
    if (partial && i == 1) {
      fx.m(mk::kIncrSyncGroupInfo).p(PropValue::binary(PropTag(0x0000, ptyp::kBinary), Bytes(24, 0x01)));
      fx.p(PropValue::integer(ics::tags::kMetaTagIncrSyncGroupId, 1)).m(mk::kIncrSyncChgPartial);
      message_header(fx, replica, 0x100 + i, 0x2000 + i, i == 0);
      fx.p(PropValue::integer(ics::tags::kMetaTagIncrementalSyncMessagePartial, 0));
      fx.p(PropValue::unicode(ics::tags::kSubject, "changed"));
    } else {
      fx.m(mk::kIncrSyncChg);
      message_header(fx, replica, 0x100 + i, 0x2000 + i, i == 0);
      fx.m(mk::kIncrSyncMessage);
      if (i == 0) every_type(fx);
      fx.p(PropValue::unicode(ics::tags::kBody, "body text"));
    }
    fx.p(PropValue::integer(ics::tags::kMetaTagFXDelProp, 0x0E120102));
    fx.m(mk::kStartRecip).p(PropValue::unicode(PropTag(0x3001, ptyp::kString), "Ann")).m(mk::kEndToRecip);
    fx.p(PropValue::integer(ics::tags::kMetaTagFXDelProp, 0x0E130102));
    fx.m(mk::kNewAttach).p(PropValue::integer(ics::tags::kAttachNumber, i));
    fx.p(PropValue::binary(PropTag(0x3701, ptyp::kBinary), Bytes{1, 2, 3, 4}));
    fx.m(mk::kStartEmbed).p(PropValue::unicode(ics::tags::kSubject, "inner")).m(mk::kEndEmbed);
    fx.m(mk::kEndAttach);
  }
  ics::IdSet deleted;
  deleted.insert(1, random_set(rng, 0x50, 200, 5));
  ics::IdSet gone;
  must(gone.insert(1, 0x77), "insert");
  fx.m(mk::kIncrSyncDel).p(PropValue::binary(ics::tags::kMetaTagIdsetDeleted, ics::encode_idset(deleted)));
  fx.p(PropValue::binary(ics::tags::kMetaTagIdsetNoLongerInScope, ics::encode_idset(gone)));
  fx.m(mk::kIncrSyncRead).p(PropValue::binary(ics::tags::kMetaTagIdsetRead, ics::encode_idset(gone)));
  fx.p(PropValue::binary(ics::tags::kMetaTagIdsetUnread, ics::encode_idset(deleted)));
  must(ics::write_state(fx.writer(), sample_state(rng), false), "write_state");
  fx.m(mk::kIncrSyncEnd);
  return fx.bytes();
}

Bytes hierarchy_sync(Rng& rng) {
  Fx fx;
  const ics::Guid replica = ics::Guid::from_seed(1);
  for (Globcnt f = 0; f < 3; ++f) {
    fx.m(mk::kIncrSyncChg);
    fx.p(PropValue::binary(ics::tags::kParentSourceKey,
                           f == 0 ? Bytes{} : ics::serialize_gid({replica, 0x10})));
    fx.p(PropValue::binary(ics::tags::kSourceKey, ics::serialize_gid({replica, 0x10 + f})));
    fx.p(PropValue::integer(ics::tags::kLastModificationTime, 0x01D9000000000000 + f));
    fx.p(PropValue::binary(ics::tags::kChangeKey, ics::serialize_xid(ics::Xid::from_globcnt(replica, 0x300 + f))));
    fx.p(PropValue::binary(ics::tags::kPredecessorChangeList,
                           ics::Pcl::of(ics::Xid::from_globcnt(replica, 0x300 + f)).serialize()));
    fx.p(PropValue::unicode(ics::tags::kDisplayName, f == 0 ? "Inbox" : "Sub"));
    fx.p(PropValue::integer(ics::tags::kParentFolderId, ics::Id{1, 0x10}.to_u64()));
    fx.p(prop(0x10F4, ptyp::kBoolean, std::uint64_t{0}));
  }
  ics::IdSet deleted;
  must(deleted.insert(1, 0x20, 0x24), "insert");
  fx.m(mk::kIncrSyncDel).p(PropValue::binary(ics::tags::kMetaTagIdsetDeleted, ics::encode_idset(deleted)));
  must(ics::write_state(fx.writer(), sample_state(rng), true), "write_state");
  fx.m(mk::kIncrSyncEnd);
  return fx.bytes();
}

void fx_seed(Seeds& seeds, const std::string& label, const Bytes& stream,
             const std::vector<std::uint8_t>& sizes, unsigned limit, ErrorCode want) {
  ics::FxParser::Options o;
  if (ics_fuzz::kFxLimits[limit] != 0) o.max_element_size = ics_fuzz::kFxLimits[limit];
  expect(seeds, "fxstream", label, ics::parse_fx(ics::ByteView(stream), o), want);
  seeds.write("fxstream", label, ics_fuzz::make_fx_input(stream, sizes, limit));
  if (limit == 0) seeds.write("fxdescribe", label, stream);  // the raw stream, for describe()
}

// UTF-16LE code units as bytes.
Bytes utf16(std::u16string_view units) {
  Bytes b;
  for (char16_t u : units) {
    b.push_back(static_cast<std::uint8_t>(u));
    b.push_back(static_cast<std::uint8_t>(u >> 8));
  }
  return b;
}

// Values describe() must escape, decode, show as hex or cut.
void fxdescribe_seeds(Seeds& seeds) {
  const ics::Guid set = ics::Guid::from_seed(7);
  auto seed = [&seeds](const std::string& label, Fx& fx) {
    const Bytes b = fx.bytes();
    expect(seeds, "fxdescribe", label, ics::parse_fx(ics::ByteView(b)), ErrorCode::Success);
    seeds.write("fxdescribe", label, b);
  };
  Fx escapes;
  escapes.p(prop(0x0037, ptyp::kString, utf16(u"tab\tquote\"back\\slash\nnew\rline\u00e9\U0001F600")))
      .p(prop(0x0E1D, ptyp::kString, utf16(u"esc\x1b[31m")))        // a control character: hex
      .p(prop(0x0E1E, ptyp::kString, utf16(u"c1\u0085")))            // C1 control: hex
      .p(prop(0x0E1F, ptyp::kString, Bytes{0x00, 0xD8, 'a', 0}))     // unpaired high surrogate
      .p(prop(0x0E20, ptyp::kString, Bytes{0x00, 0xDC}))             // lone low surrogate
      .p(prop(0x0E21, ptyp::kString, Bytes{'o', 0, 'd'}))            // odd length
      .p(prop(0x0E22, ptyp::kString8, Bytes{'h', 'i', 0x7F, 0}))     // DEL
      .p(prop(0x0E23, ptyp::kString8, Bytes{0xC3, 0xA9, 0}));        // not ASCII
  seed("escapes", escapes);
  Fx long_values;
  long_values.p(prop(0x0037, ptyp::kString, utf16(std::u16string(1000, u'x'))))
      .p(prop(0x0E24, ptyp::kBinary, Bytes(1000, 0xAB)))
      .p(prop(0x6611, ptyp::kMultipleFlag | ptyp::kInteger64, std::vector<std::uint64_t>(100, ~0ull)))
      .p(prop(0x6612, ptyp::kMultipleFlag | ptyp::kString, std::vector<Bytes>(12, utf16(std::u16string(100, u'y')))))
      .p(PropValue{PropTag(0x8004, ptyp::kInteger32),
                   ics::NamedProp{set, 1, 0, std::u16string{u'n', u'a', 0x0007, u'm', u'e', 0xD800}}, std::uint64_t{1}});
  seed("long-values", long_values);
  Fx numbers;
  numbers.p(prop(0x6602, ptyp::kFloating32, std::uint64_t{0x7FC00000}))     // NaN
      .p(prop(0x6603, ptyp::kFloating64, std::uint64_t{0xFFF0000000000000}))  // -inf
      .p(prop(0x0039, ptyp::kTime, std::uint64_t{0xFFFFFFFFFFFFFFFF}))
      .p(prop(0x003A, ptyp::kTime, std::uint64_t{0}))
      .p(prop(0x0E1F, ptyp::kBoolean, std::uint64_t{0xFFFF}));
  seed("numbers", numbers);
}

void fxstream_seeds(Seeds& seeds, Rng& rng) {
  const ErrorCode ok = ErrorCode::Success, bad = ErrorCode::FormatError, big = ErrorCode::TooBig;
  const Bytes contents = contents_sync(rng, false);
  const Bytes partial = contents_sync(rng, true);
  const Bytes hierarchy = hierarchy_sync(rng);
  auto state = ics::serialize_state(sample_state(rng), false);
  must(state.ok() ? ics::ok_status() : ics::Status(state.error()), "serialize_state");
  Fx props;
  every_type(props);
  fx_seed(seeds, "contents-one-piece", contents, {0}, 0, ok);
  fx_seed(seeds, "contents-chunks-7-3", contents, {7, 3}, 0, ok);
  fx_seed(seeds, "contents-chunks-255", contents, {255, 0, 1}, 0, ok);
  fx_seed(seeds, "contents-limit-64", contents, {64}, 10, big);
  fx_seed(seeds, "contents-partial", partial, {13}, 0, ok);
  fx_seed(seeds, "hierarchy-bytewise", hierarchy, {}, 0, ok);
  fx_seed(seeds, "hierarchy-chunks-16", hierarchy, {16}, 0, ok);
  fx_seed(seeds, "state-chunks-5", *state, {5}, 0, ok);
  fx_seed(seeds, "state-limit-24", *state, {}, 7, big);
  fx_seed(seeds, "every-type", props.bytes(), {3, 1, 4, 1, 5, 9, 2, 6}, 0, ok);
  fx_seed(seeds, "every-type-limit-20", props.bytes(), {}, 6, big);
  fx_seed(seeds, "empty", {}, {}, 0, ok);
  fx_seed(seeds, "error-info", hex("03001840 03000000 0f010480"), {1}, 0, ok);
  // Reject classes.
  fx_seed(seeds, "bad-cut-in-value", Bytes(contents.begin(), contents.begin() + 61), {}, 0, bad);
  fx_seed(seeds, "bad-cut-in-tag", Bytes(hierarchy.begin(), hierarchy.begin() + 6), {2}, 0, bad);
  fx_seed(seeds, "bad-cut-in-name", hex("1f000180 1111111111111111 1111111111111111 01 4b00"), {}, 0, bad);
  fx_seed(seeds, "bad-type", hex("01000100 00000000"), {}, 0, bad);
  fx_seed(seeds, "bad-type-mv-codepage", hex("01100100 01000000"), {}, 0, bad);
  fx_seed(seeds, "bad-named-kind", hex("03000180 2222222222222222 2222222222222222 02 00000000"), {}, 0, bad);
  fx_seed(seeds, "big-length", hex("0201e065 ffffffff 00"), {4}, 0, big);
  fx_seed(seeds, "big-mv-count", hex("03100266 ffffff3f"), {}, 0, big);
  fx_seed(seeds, "big-name-limit-32", hex("1f000180 3333333333333333 3333333333333333 01 4100420043004400 4500460047004800"),
          {}, 8, big);
}

// ---------------------------------------------------------------------------
// pcl

ics::Xid xid_of_size(const ics::Guid& g, std::uint8_t size, std::uint64_t value) {
  ics::Xid x;
  x.guid = g;
  x.local_size = size;
  for (std::size_t i = 0; i < size; ++i) x.local[size - 1 - i] = static_cast<std::uint8_t>(value >> (8 * i));
  return x;
}

void pcl_seeds(Seeds& seeds, Rng& rng) {
  auto g = [](int n) { return ics::Guid::from_seed(static_cast<std::uint64_t>(n)); };
  auto pcl = [](std::vector<ics::Xid> xs) {
    ics::Pcl p;
    for (const ics::Xid& x : xs) p.add(x);
    return p.serialize();
  };
  auto seed = [&seeds](const std::string& label, const Bytes& b, ErrorCode want) {
    expect(seeds, "pcl", label, ics::Pcl::parse(ics::ByteView(b)), want);
    seeds.write("pcl", label, b);
  };
  const ErrorCode ok = ErrorCode::Success;
  seed("empty", {}, ok);
  seed("one", pcl({ics::Xid::from_globcnt(g(1), 5)}), ok);
  seed("three-guids", pcl({ics::Xid::from_globcnt(g(1), 5), ics::Xid::from_globcnt(g(2), 0x123456),
                           ics::Xid::from_globcnt(g(3), ics::kGlobcntMax)}), ok);
  seed("every-size", pcl({xid_of_size(g(4), 1, 0x7F), xid_of_size(g(4), 2, 9), xid_of_size(g(4), 4, 1),
                          xid_of_size(g(4), 6, 2), xid_of_size(g(4), 8, ~0ull)}), ok);
  // Two halves that compare Newer, Older, Equal and Conflict.
  const Bytes a = pcl({ics::Xid::from_globcnt(g(1), 5), ics::Xid::from_globcnt(g(2), 7)});
  seed("halves-newer", concat(a, pcl({ics::Xid::from_globcnt(g(1), 9), ics::Xid::from_globcnt(g(2), 7)})), ok);
  seed("halves-older", concat(a, pcl({ics::Xid::from_globcnt(g(1), 5)})), ok);
  seed("halves-equal", concat(a, a), ok);
  seed("halves-conflict", concat(a, pcl({ics::Xid::from_globcnt(g(1), 9), ics::Xid::from_globcnt(g(2), 1)})), ok);
  seed("halves-size-mismatch", concat(pcl({xid_of_size(g(1), 8, 5)}), pcl({ics::Xid::from_globcnt(g(1), 5)})), ok);
  seed("unsorted-duplicates",
       concat(pcl({ics::Xid::from_globcnt(g(9), 3)}),
              concat(pcl({ics::Xid::from_globcnt(g(2), 8)}), pcl({ics::Xid::from_globcnt(g(9), 1)}))),
       ok);
  for (int i = 0; i < 8; ++i) {
    std::vector<ics::Xid> xs;
    for (int k = 0; k < 2 + i * 2; ++k) {
      xs.push_back(xid_of_size(g(static_cast<int>(rng() % 6)), static_cast<std::uint8_t>(1 + rng() % 8), rng()));
    }
    seed("random-" + std::to_string(i), pcl(xs), ok);
  }
  const ErrorCode bad = ErrorCode::FormatError;
  Bytes one = pcl({ics::Xid::from_globcnt(g(1), 5)});
  seed("bad-size-16", concat(one, concat(Bytes{16}, Bytes(16, 0xAB))), bad);
  seed("bad-size-25", concat(Bytes{25}, Bytes(25, 0xAB)), bad);
  seed("bad-size-0", Bytes{0}, bad);
  seed("bad-cut-short", Bytes(one.begin(), one.end() - 1), bad);
  seed("bad-size-alone", concat(one, Bytes{22}), bad);
}

// ---------------------------------------------------------------------------
// restriction

void restriction_seeds(Seeds& seeds) {
  using ics::Restriction;
  namespace op = ics::relop;
  auto seed = [&seeds](const std::string& label, const Bytes& b, ErrorCode want) {
    expect(seeds, "restriction", label, Restriction::parse(ics::ByteView(b)), want);
    seeds.write("restriction", label, b);
  };
  const ics::PropTag size = ics::tags::kMessageSize, importance = ics::tags::kImportance;
  const ics::PropTag i16{0x10000002}, i64{0x674A0014}, time = ics::tags::kLastModificationTime;
  const ics::PropTag flag = ics::tags::kAssociated;
  const Restriction big = Restriction::compare(op::kGreaterThan, size, 1000);
  const Restriction fai = Restriction::compare(op::kEqual, flag, 1);
  const ErrorCode ok = ErrorCode::Success;
  seed("exist", Restriction::exist(ics::tags::kSubject).serialize(), ok);
  seed("size-gt", big.serialize(), ok);
  seed("i16-lt-negative", Restriction::compare(op::kLessThan, i16, 0xFFFE).serialize(), ok);
  seed("i64-ge-min", Restriction::compare(op::kGreaterThanOrEqual, i64, 1ull << 63).serialize(), ok);
  seed("time-le", Restriction::compare(op::kLessThanOrEqual, time, 0x01D0000000000000ull).serialize(), ok);
  seed("importance-ne", Restriction::compare(op::kNotEqual, importance, 1).serialize(), ok);
  seed("and-empty", Restriction::all_of({}).serialize(), ok);
  seed("or-empty", Restriction::any_of({}).serialize(), ok);
  seed("and-or-not",
       Restriction::all_of({big, Restriction::any_of({fai, Restriction::negate(Restriction::exist(importance))}),
                            Restriction::negate(Restriction::compare(op::kEqual, importance, 2))})
           .serialize(),
       ok);
  Restriction deep = Restriction::exist(size);
  for (std::size_t i = 1; i < ics::kMaxRestrictionDepth; ++i) deep = Restriction::negate(deep);
  seed("depth-max", deep.serialize(), ok);
  seed("bad-too-deep", Restriction::negate(deep).serialize(), ErrorCode::TooBig);
  const ErrorCode bad = ErrorCode::FormatError, unsupported = ErrorCode::NotSupported;
  const Bytes whole = big.serialize();
  seed("bad-empty", {}, bad);
  seed("bad-cut-short", Bytes(whole.begin(), whole.end() - 1), bad);
  seed("bad-trailing", concat(whole, Bytes{0}), bad);
  seed("bad-unknown-type", Bytes{0x0C}, bad);
  seed("bad-content", hex("03 000000000000"), unsupported);
  seed("bad-relop-re", hex("04 06 0300080e 0300080e e8030000"), unsupported);
  seed("bad-relop-unknown", hex("04 07 0300080e 0300080e e8030000"), bad);
  seed("bad-string-type", hex("04 04 1f003700 1f003700 4100"), unsupported);
  seed("bad-tag-mismatch", hex("04 02 0300080e 03001700 e8030000"), bad);
  seed("bad-boolean-2", hex("04 04 0b00aa67 0b00aa67 02"), bad);
  seed("bad-count-short", hex("00 0200 08 0300080e"), bad);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    std::fprintf(stderr, "usage: ics_gen_corpus OUTDIR [OPSDIR]\n");
    return 2;
  }
  Seeds seeds{std::filesystem::path(argv[1]), argc == 3 ? std::filesystem::path(argv[2]) : std::filesystem::path()};
  Rng rng(0x1C5F022);  // fixed: the same seeds on every run
  globset_seeds(seeds, rng);
  idset_seeds(seeds, rng);
  globset_ops_seeds(seeds, rng);
  fxstream_seeds(seeds, rng);
  pcl_seeds(seeds, rng);
  state_upload_seeds(seeds, rng);
  import_seeds(seeds, rng);
  sync_session_seeds(seeds, rng);
  restriction_seeds(seeds);  // last, and without rng: the other seeds stay as they were
  fxdescribe_seeds(seeds);
  std::fprintf(stderr, "gen_corpus: %d seeds into %s\n", seeds.count(), argv[1]);
  return seeds.exit_code();
}
