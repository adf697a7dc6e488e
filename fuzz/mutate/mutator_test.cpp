// Unit tests of the structure-aware mutators (fuzz/mutate/): deterministic for
// a seed, each mutation kind changes the elements as its name says, the output
// re-parses, and mutated valid FastTransfer inputs keep passing the lexer (the
// rate is printed beside that of random byte edits).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

#include "fxstream_input.h"
#include "ics/fxstream.h"
#include "ics/globset.h"
#include "ics/idset.h"
#include "mutate/fx_mutator.h"
#include "mutate/set_mutator.h"

namespace ics_fuzz {
namespace {

using ics::Bytes;
using ics::FxEvent;

std::vector<Bytes> seeds(const char* target) {
  std::vector<Bytes> out;
  std::vector<std::filesystem::path> files;
  for (const auto& f : std::filesystem::directory_iterator(std::string(ICS_CORPUS_DIR) + "/" + target)) {
    files.push_back(f.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& p : files) {
    std::ifstream in(p, std::ios::binary);
    out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

// A stream of markers and properties of several types, one named.
Bytes sample_stream() {
  ics::FxWriter w;
  ics::PropValue named = ics::PropValue::integer(ics::PropTag(0x8001, ics::ptyp::kInteger32), 7);
  named.named = ics::NamedProp{ics::Guid::from_seed(1), 0, 0x8501, {}};
  EXPECT_TRUE(w.marker(ics::markers::kIncrSyncChg).ok());
  EXPECT_TRUE(w.property(ics::PropValue::binary(ics::tags::kSourceKey, Bytes(22, 0xAB))).ok());
  EXPECT_TRUE(w.property(ics::PropValue::integer(ics::tags::kMid, 0x1234)).ok());
  EXPECT_TRUE(w.property(ics::PropValue::unicode(ics::PropTag(0x0037, ics::ptyp::kString), "subject")).ok());
  EXPECT_TRUE(w.property(named).ok());
  EXPECT_TRUE(w.marker(ics::markers::kIncrSyncMessage).ok());
  return w.take();
}

std::size_t count(const std::vector<FxEvent>& es, FxEvent::Kind k) {
  return static_cast<std::size_t>(std::count_if(es.begin(), es.end(), [k](const FxEvent& e) { return e.kind == k; }));
}

// Applies `kind` with successive seeds until it applies; returns the mutated elements.
FxElements apply(FxMutation kind, const FxElements& in) {
  for (std::uint64_t seed = 1; seed < 200; ++seed) {
    FxElements e = in;
    Rng rng(seed);
    if (mutate_fx(kind, e, rng)) return e;
  }
  ADD_FAILURE() << "mutation kind " << static_cast<int>(kind) << " never applied";
  return in;
}

// The indices where two equally long event lists differ.
std::vector<std::size_t> differing(const std::vector<FxEvent>& a, const std::vector<FxEvent>& b) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (!(a[i] == b[i])) out.push_back(i);
  }
  return out;
}

TEST(FxMutator, SplitAndJoinRoundTrip) {
  Bytes s = sample_stream();
  FxElements e = split_fx(ics::ByteView(s));
  EXPECT_EQ(e.events.size(), 6u);
  EXPECT_TRUE(e.tail.empty());
  EXPECT_EQ(join_fx(e), s);
  Bytes bad = s;
  bad.insert(bad.end(), {0x03, 0x00, 0x01});  // an incomplete tag
  FxElements b = split_fx(ics::ByteView(bad));
  EXPECT_EQ(b.events.size(), 6u);
  EXPECT_EQ(b.tail, Bytes({0x03, 0x00, 0x01}));
  EXPECT_EQ(join_fx(b), bad);
}

TEST(FxMutator, EachKindDoesWhatItSays) {
  const Bytes s = sample_stream();
  const FxElements in = split_fx(ics::ByteView(s));
  const auto& ev = in.events;
  using K = FxEvent::Kind;
  std::vector<FxEvent> out;

  out = apply(FxMutation::DeleteEvent, in).events;
  EXPECT_EQ(out.size(), ev.size() - 1);
  out = apply(FxMutation::DuplicateEvent, in).events;
  ASSERT_EQ(out.size(), ev.size() + 1);
  EXPECT_TRUE(std::adjacent_find(out.begin(), out.end()) != out.end());
  out = apply(FxMutation::SwapEvents, in).events;
  EXPECT_TRUE(std::is_permutation(out.begin(), out.end(), ev.begin(), ev.end()));
  EXPECT_EQ(differing(out, ev).size(), 2u);
  out = apply(FxMutation::CopyEvent, in).events;
  ASSERT_EQ(out.size(), ev.size() + 1);
  EXPECT_EQ(count(out, K::Marker) + count(out, K::Property), ev.size() + 1);
  out = apply(FxMutation::InsertMarker, in).events;
  EXPECT_EQ(count(out, K::Marker), count(ev, K::Marker) + 1);
  EXPECT_EQ(count(out, K::Property), count(ev, K::Property));
  out = apply(FxMutation::InsertProperty, in).events;
  EXPECT_EQ(count(out, K::Property), count(ev, K::Property) + 1);
  EXPECT_EQ(count(out, K::Marker), count(ev, K::Marker));

  out = apply(FxMutation::ChangeType, in).events;
  ASSERT_EQ(differing(out, ev).size(), 1u);
  std::size_t i = differing(out, ev)[0];
  EXPECT_EQ(out[i].tag.id(), ev[i].tag.id());
  EXPECT_NE(out[i].tag.type(), ev[i].tag.type());

  out = apply(FxMutation::ResizeValue, in).events;
  ASSERT_EQ(differing(out, ev).size(), 1u);
  i = differing(out, ev)[0];
  EXPECT_EQ(out[i].tag, ev[i].tag);
  EXPECT_NE(*ics::write_fx({out[i]}), *ics::write_fx({ev[i]}));
  EXPECT_NE(ics::write_fx({out[i]})->size(), ics::write_fx({ev[i]})->size());

  out = apply(FxMutation::TweakValue, in).events;
  ASSERT_EQ(differing(out, ev).size(), 1u);
  i = differing(out, ev)[0];
  EXPECT_EQ(out[i].tag, ev[i].tag);
  EXPECT_EQ(ics::write_fx({out[i]})->size(), ics::write_fx({ev[i]})->size());

  out = apply(FxMutation::ToggleNamed, in).events;
  ASSERT_EQ(differing(out, ev).size(), 1u);
  i = differing(out, ev)[0];
  EXPECT_TRUE(out[i].value.named != ev[i].value.named);
  EXPECT_EQ(out[i].tag.is_named(), out[i].value.named.has_value());

  FxElements with_tail = in;
  with_tail.tail = {0xFF};
  EXPECT_TRUE(apply(FxMutation::DropTail, with_tail).tail.empty());
}

TEST(FxMutator, OutputReparsesToTheMutatedEvents) {
  const Bytes s = sample_stream();
  const auto kinds = static_cast<int>(FxMutation::kCount);
  for (std::uint64_t seed = 0; seed < 3000; ++seed) {
    FxElements e = split_fx(ics::ByteView(s));
    Rng rng(seed);
    if (!mutate_fx(static_cast<FxMutation>(seed % kinds), e, rng)) continue;
    std::optional<Bytes> out = join_fx(e);
    ASSERT_TRUE(out.has_value()) << "seed " << seed;
    ics::Result<std::vector<FxEvent>> back = ics::parse_fx(ics::ByteView(*out));
    ASSERT_TRUE(back.ok()) << "seed " << seed << ": " << back.error().to_string();
    ASSERT_EQ(*back, e.events) << "seed " << seed;
  }
}

TEST(FxMutator, DeterministicForASeed) {
  Bytes in = make_fx_input(ics::ByteView(sample_stream()), {5, 7}, 0);
  for (unsigned seed = 0; seed < 200; ++seed) {
    Bytes a = in, b = in;
    a.resize(4096);
    b.resize(4096);
    std::size_t na = fxstream_custom_mutate(a.data(), in.size(), a.size(), seed, nullptr);
    std::size_t nb = fxstream_custom_mutate(b.data(), in.size(), b.size(), seed, nullptr);
    ASSERT_EQ(na, nb);
    ASSERT_TRUE(std::equal(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(na), b.begin()));
  }
}

TEST(FxMutator, SplitInsideElementCutsAnElement) {
  const Bytes stream = sample_stream();
  const Bytes in = make_fx_input(ics::ByteView(stream), {}, 0);
  std::vector<std::size_t> ends;  // element boundaries
  ics::FxWriter w;
  ics::Result<std::vector<FxEvent>> events = ics::parse_fx(ics::ByteView(stream));
  ASSERT_TRUE(events.ok());
  for (const FxEvent& e : *events) {
    ASSERT_TRUE(w.event(e).ok());
    ends.push_back(w.size());
  }
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    Bytes m = in;
    Rng rng(seed);
    ASSERT_TRUE(mutate_fx_input(FxInputMutation::SplitInsideElement, m, rng));
    FxInput parts = split_fx_input(ics::ByteView(m));
    EXPECT_TRUE(std::equal(parts.stream.begin(), parts.stream.end(), stream.begin(), stream.end()));
    std::size_t first = 0;
    for (std::size_t c : parts.chunks) {
      if (first >= 255 * 14 || c != 255) {
        first += c;
        break;
      }
      first += c;
    }
    EXPECT_TRUE(std::find(ends.begin(), ends.end(), first) == ends.end()) << "cut at " << first;
    EXPECT_GT(first, 0u);
  }
}

// Random byte edits in the manner of libFuzzer's byte mutators: 1-4 of bit flip,
// random byte, insert, erase, duplicate a run, copy a run elsewhere.
Bytes byte_edit(Bytes b, Rng& rng) {
  std::size_t edits = 1 + rng.below(4);
  for (std::size_t k = 0; k < edits; ++k) {
    std::size_t n = b.size();
    std::size_t at = rng.below(n + 1);
    switch (rng.below(6)) {
      case 0: if (n) b[rng.below(n)] ^= static_cast<std::uint8_t>(1u << rng.below(8)); break;
      case 1: if (n) b[rng.below(n)] = rng.byte(); break;
      case 2: b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), rng.byte()); break;
      case 3: if (n) b.erase(b.begin() + static_cast<std::ptrdiff_t>(rng.below(n))); break;
      case 4: {
        std::size_t from = rng.below(n + 1), len = std::min<std::size_t>(rng.below(8), n - from);
        Bytes run(b.begin() + static_cast<std::ptrdiff_t>(from), b.begin() + static_cast<std::ptrdiff_t>(from + len));
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), run.begin(), run.end());
        break;
      }
      default: {
        std::size_t from = rng.below(n + 1), len = std::min<std::size_t>(rng.below(8), n - from);
        std::size_t to = rng.below(n - len + 1);
        std::copy_n(Bytes(b.begin() + static_cast<std::ptrdiff_t>(from), b.end()).begin(), len,
                    b.begin() + static_cast<std::ptrdiff_t>(to));
        break;
      }
    }
  }
  return b;
}

bool lexes(const Bytes& input) {
  FxInput in = split_fx_input(ics::ByteView(input));
  ics::FxParser::Options o;
  if (in.limit != 0) o.max_element_size = in.limit;
  return ics::parse_fx(in.stream, o).ok();
}

std::size_t byte_edit_mutator(std::uint8_t* data, std::size_t size, std::size_t max_size);

TEST(FxMutator, MutatedValidInputsPassTheLexer) {
  std::vector<Bytes> valid;
  for (Bytes& s : seeds("fxstream")) {
    if (lexes(s)) valid.push_back(s);
  }
  ASSERT_GE(valid.size(), 5u);
  constexpr int kPerSeed = 400;
  std::size_t structured = 0, bytes = 0, mixed = 0, total = 0;
  for (std::size_t i = 0; i < valid.size(); ++i) {
    for (int k = 0; k < kPerSeed; ++k) {
      const unsigned seed = static_cast<unsigned>(i * kPerSeed + k);
      Rng rng(seed);
      Bytes a = valid[i];
      a.resize(4096);
      std::size_t n = fxstream_custom_mutate(a.data(), valid[i].size(), a.size(), seed, nullptr);
      a.resize(n);
      structured += lexes(a);
      bytes += lexes(byte_edit(valid[i], rng));
      Bytes c = valid[i];
      c.resize(4096);
      c.resize(fxstream_custom_mutate(c.data(), valid[i].size(), c.size(), seed, &byte_edit_mutator));
      mixed += lexes(c);
      ++total;
    }
  }
  auto pct = [total](std::size_t n) { return 100.0 * static_cast<double>(n) / static_cast<double>(total); };
  std::cout << "lexer pass over " << total << " mutants of " << valid.size() << " valid seeds: structured "
            << pct(structured) << "%, with the 1-in-5 byte fallback " << pct(mixed)
            << "%, byte edits only " << pct(bytes) << "%\n";
  EXPECT_GE(pct(structured), 95.0);
}

std::size_t byte_edit_mutator(std::uint8_t* data, std::size_t size, std::size_t max_size) {
  Rng rng(size * 31 + data[0]);
  Bytes b = byte_edit(Bytes(data, data + size), rng);
  b.resize(std::min(b.size(), max_size));
  std::copy(b.begin(), b.end(), data);
  return b.size();
}

// ---- GLOBSET / IDSET -----------------------------------------------------------------------

ics::Globset set_of(std::initializer_list<ics::GlobRange> rs) {
  return *ics::Globset::from_ranges(rs);
}

bool apply_glob(GlobMutation kind, Bytes& b) {
  for (std::uint64_t seed = 1; seed < 300; ++seed) {
    Bytes c = b;
    Rng rng(seed);
    if (mutate_globset(kind, c, rng) && c != b) {
      b = c;
      return true;
    }
  }
  return false;
}

TEST(SetMutator, GlobsetCommandsSplitAndJoin) {
  Bytes b = ics::encode_globset(set_of({{1, 1}, {5, 9}, {0x10000, 0x10400}}));
  GlobsetElements e = split_globset(ics::ByteView(b));
  EXPECT_TRUE(e.complete);
  EXPECT_TRUE(e.tail.empty());
  EXPECT_EQ(e.commands.back().op, ics::kGlobsetEnd);
  EXPECT_EQ(join_globset(e), b);
  b.push_back(0x77);
  EXPECT_EQ(split_globset(ics::ByteView(b)).tail, Bytes{0x77});
}

TEST(SetMutator, GlobsetCommandsCutPastSixteenUnpoppedPushes) {
  // 20 one-byte Pushes (a stack no GLOBSET may hold), 20 Pops, then a Range at depth 0
  // (twelve operand bytes) and End: cut as the lexer sees it, and back to the same bytes.
  Bytes b;
  for (int i = 0; i < 20; ++i) b.insert(b.end(), {0x01, static_cast<std::uint8_t>(i)});
  b.insert(b.end(), 20, ics::kGlobsetPop);
  b.push_back(ics::kGlobsetRange);
  for (int i = 0; i < 12; ++i) b.push_back(static_cast<std::uint8_t>(i < 6 ? 0 : 1));
  b.push_back(ics::kGlobsetEnd);
  GlobsetElements e = split_globset(ics::ByteView(b));
  ASSERT_EQ(e.commands.size(), 42u);
  EXPECT_TRUE(e.complete);
  EXPECT_EQ(e.commands[40].op, ics::kGlobsetRange);
  EXPECT_EQ(e.commands[40].operand.size(), 12u);
  EXPECT_EQ(join_globset(e), b);
  b.back() = 0x99;  // no End: not complete, nothing cut off
  EXPECT_FALSE(split_globset(ics::ByteView(b)).complete);
  EXPECT_EQ(join_globset(split_globset(ics::ByteView(b))), b);
}

TEST(SetMutator, GlobsetCommandKinds) {
  const Bytes b = ics::encode_globset(set_of({{1, 1}, {5, 9}, {0x10000, 0x10400}, {0x20000, 0x20000}}));
  const GlobsetElements e = split_globset(ics::ByteView(b));
  auto after = [&b](GlobMutation k) {
    Bytes c = b;
    EXPECT_TRUE(apply_glob(k, c)) << static_cast<int>(k);
    return split_globset(ics::ByteView(c));
  };
  // Inserting or duplicating a command adds its bytes, deleting one removes them (the
  // commands after it may then be cut differently: the stack depth decides Range's size).
  EXPECT_GT(join_globset(after(GlobMutation::InsertCommand)).size(), b.size());
  EXPECT_GT(join_globset(after(GlobMutation::DuplicateCommand)).size(), b.size());
  EXPECT_LT(join_globset(after(GlobMutation::DeleteCommand)).size(), b.size());
  Bytes sw = join_globset(after(GlobMutation::SwapCommands));
  EXPECT_NE(sw, b);
  EXPECT_EQ(sw.size(), b.size());
  EXPECT_TRUE(std::is_permutation(sw.begin(), sw.end(), b.begin(), b.end()));

  GlobsetElements pw = after(GlobMutation::PushWidth);  // one Push one byte wider or narrower
  Bytes pwb = join_globset(pw);
  EXPECT_EQ(std::max(pwb.size(), b.size()) - std::min(pwb.size(), b.size()), 1u);

  Bytes cut = b;  // a prefix that ends inside a command's operands
  ASSERT_TRUE(apply_glob(GlobMutation::Truncate, cut));
  EXPECT_LT(cut.size(), b.size());
  EXPECT_TRUE(std::equal(cut.begin(), cut.end(), b.begin()));
  EXPECT_FALSE(split_globset(ics::ByteView(cut)).complete);
  EXPECT_FALSE(ics::decode_globset(ics::ByteView(cut)).ok());

  Bytes re = b;
  ASSERT_TRUE(apply_glob(GlobMutation::RangeEdge, re));
  EXPECT_EQ(re.size(), b.size());
  ics::Result<ics::Globset> before = ics::decode_globset(ics::ByteView(b));
  ics::Result<ics::Globset> edge = ics::decode_globset(ics::ByteView(re));
  if (edge.ok()) {  // an edge moved by one: one value more or less
    std::uint64_t d = std::max(edge->size(), before->size()) - std::min(edge->size(), before->size());
    EXPECT_EQ(d, 1u);
  }
}

TEST(SetMutator, GlobsetSetKinds) {
  const ics::Globset s = set_of({{10, 20}, {30, 40}, {0x10000, 0x10010}});
  const Bytes b = ics::encode_globset(s);
  auto after = [&b](GlobMutation k) {
    Bytes c = b;
    EXPECT_TRUE(apply_glob(k, c)) << static_cast<int>(k);
    ics::Result<ics::Globset> d = ics::decode_globset(ics::ByteView(c));
    EXPECT_TRUE(d.ok());
    return d.ok() ? *d : ics::Globset{};
  };
  ics::Globset edge = after(GlobMutation::SetEdge);
  EXPECT_EQ(std::max(edge.size(), s.size()) - std::min(edge.size(), s.size()), 1u);
  ics::Globset split = after(GlobMutation::SetSplit);
  EXPECT_EQ(split.size(), s.size() - 1);
  EXPECT_EQ(split.range_count(), s.range_count() + 1);
  ics::Globset merged = after(GlobMutation::SetMerge);
  EXPECT_GT(merged.size(), s.size());
  EXPECT_TRUE(merged.range_count() == s.range_count() - 1 ||
              std::adjacent_find(merged.ranges().begin(), merged.ranges().end(),
                                 [](auto& a, auto& c) { return c.low == a.high + 2; }) != merged.ranges().end());
  EXPECT_GT(after(GlobMutation::SetNewRange).size(), s.size());
  EXPECT_EQ(after(GlobMutation::SetDeleteRange).range_count(), s.range_count() - 1);
}

TEST(SetMutator, IdsetKinds) {
  ics::IdSet s;
  ASSERT_TRUE(s.insert(1, 5, 9).ok());
  ASSERT_TRUE(s.insert(2, 100).ok());
  ASSERT_TRUE(s.insert(7, 0x10000, 0x10400).ok());
  const Bytes body = ics::encode_idset(s);
  const IdsetElements e = split_idset(ics::ByteView(body), false);
  ASSERT_EQ(e.pairs.size(), 3u);
  EXPECT_TRUE(e.tail.empty());
  EXPECT_EQ(join_idset(e), body);
  auto after = [&body](IdsetMutation k, bool& form) {
    for (std::uint64_t seed = 1; seed < 300; ++seed) {
      Bytes c = body;
      bool f = false;
      Rng rng(seed);
      if (mutate_idset(k, c, f, rng) && (c != body || f)) {
        form = f;
        return c;
      }
    }
    ADD_FAILURE() << static_cast<int>(k);
    return body;
  };
  bool form = false;
  EXPECT_EQ(split_idset(after(IdsetMutation::InsertPair, form), false).pairs.size(), 4u);
  EXPECT_EQ(split_idset(after(IdsetMutation::DeletePair, form), false).pairs.size(), 2u);
  EXPECT_EQ(split_idset(after(IdsetMutation::DuplicatePair, form), false).pairs.size(), 4u);
  IdsetElements sw = split_idset(after(IdsetMutation::SwapPairs, form), false);
  EXPECT_TRUE(std::is_permutation(sw.pairs.begin(), sw.pairs.end(), e.pairs.begin(), e.pairs.end()));
  IdsetElements ke = split_idset(after(IdsetMutation::KeyEdge, form), false);
  ASSERT_EQ(ke.pairs.size(), 3u);
  int moved = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    int a = ke.pairs[i].key[0] | ke.pairs[i].key[1] << 8, b = e.pairs[i].key[0] | e.pairs[i].key[1] << 8;
    if (a != b) {
      ++moved;
      EXPECT_EQ(std::abs(a - b) % 0xFFFE, 1);
    }
  }
  EXPECT_EQ(moved, 1);
  IdsetElements rk = split_idset(after(IdsetMutation::RepeatKey, form), false);
  EXPECT_NE(rk.pairs[0].key == rk.pairs[1].key || rk.pairs[1].key == rk.pairs[2].key ||
                rk.pairs[0].key == rk.pairs[2].key, false);
  IdsetElements pg = split_idset(after(IdsetMutation::PairGlobset, form), false);
  EXPECT_NE(join_idset(pg), body);

  Bytes guid_body = after(IdsetMutation::SwapForm, form);
  EXPECT_TRUE(form);
  ics::Result<ics::GuidIdSet> g = ics::decode_replguid_idset(ics::ByteView(guid_body));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->size(), s.size());
  EXPECT_EQ(g->replicas().size(), 3u);
  Rng rng(1);
  ASSERT_TRUE(mutate_idset(IdsetMutation::SwapForm, guid_body, form, rng));
  EXPECT_FALSE(form);
  ics::Result<ics::IdSet> back = ics::decode_replid_idset(ics::ByteView(guid_body));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->size(), s.size());
}

TEST(SetMutator, EntryPointsDeterministicAndBounded) {
  for (const char* target : {"globset", "idset"}) {
    for (const Bytes& in : seeds(target)) {
      for (unsigned seed = 0; seed < 20; ++seed) {
        Bytes a = in, b = in;
        a.resize(in.size() + 64);
        b.resize(in.size() + 64);
        auto f = target[0] == 'g' ? &globset_custom_mutate : &idset_custom_mutate;
        std::size_t na = f(a.data(), in.size(), a.size(), seed, nullptr);
        std::size_t nb = f(b.data(), in.size(), b.size(), seed, nullptr);
        ASSERT_EQ(na, nb);
        ASSERT_LE(na, a.size());
        ASSERT_TRUE(std::equal(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(na), b.begin()));
      }
    }
  }
}

}  // namespace
}  // namespace ics_fuzz
