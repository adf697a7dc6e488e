// FxParser throughput on a ~1 MiB contents-synchronization stream, beside a
// memcpy of the same bytes (the goal: FxParser >= 10% of memcpy throughput).
//
// The stream is shaped like an Outlook contents sync of ordinary mail: a
// progressTotal, then per message a progressPerMessage, messageChangeFull
// (SourceKey, LastModificationTime, ChangeKey, PCL, Associated, Mid,
// MessageSize, ChangeNumber), ~40 properties (fixed values, short strings,
// entry-id-sized binaries, named properties, transport headers of 0.5-3 K
// characters, a body of 0.2-4 K characters), one recipient; then deletions,
// read state, state and IncrSyncEnd: 1.0 MiB, about 5,900 elements.
// The consumer clears the event queue after each chunk (keeping capacity).
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>

#include "ics/fxstream.h"

namespace ics {
namespace {

class StreamBuilder {
 public:
  explicit StreamBuilder(std::uint64_t seed) : rng_(seed) {}

  void marker(std::uint32_t tag) { (void)w_.marker(tag); }
  void integer(std::uint32_t tag, std::uint64_t v) {
    (void)w_.property(PropValue::integer(PropTag(tag), v));
  }
  void binary(std::uint32_t tag, std::size_t n) {
    Bytes b(n);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng_());
    (void)w_.property(PropValue::binary(PropTag(tag), std::move(b)));
  }
  void text(std::uint32_t tag, std::size_t chars) {
    std::string s(chars, ' ');
    for (auto& c : s) c = static_cast<char>('a' + rng_() % 26);
    (void)w_.property(PropValue::unicode(PropTag(tag), s));
  }
  void named_lid(std::uint32_t tag, std::uint32_t lid, std::uint64_t v) {
    PropValue p = PropValue::integer(PropTag(tag), v);
    p.named = NamedProp{Guid::from_seed(7), 0, lid, {}};
    (void)w_.property(p);
  }
  void named_text(std::uint32_t tag, std::u16string name, std::size_t chars) {
    PropValue p = PropValue::unicode(PropTag(tag), std::string(chars, 'k'));
    p.named = NamedProp{Guid::from_seed(8), 1, 0, std::move(name)};
    (void)w_.property(p);
  }
  std::size_t between(std::size_t lo, std::size_t hi) { return lo + rng_() % (hi - lo + 1); }

  void message(std::uint64_t n) {
    marker(markers::kIncrSyncProgressPerMsg);
    integer(0x00000003, 9000 + n);
    integer(0x0000000B, 0);
    marker(markers::kIncrSyncChg);
    binary(tags::kSourceKey.value, 22);
    integer(tags::kLastModificationTime.value, 0x01D8F0E2A0B3C000 + n);
    binary(tags::kChangeKey.value, 22);
    binary(tags::kPredecessorChangeList.value, 23);
    integer(tags::kAssociated.value, 0);
    integer(tags::kMid.value, 0x0001000000000000 | n);
    integer(tags::kMessageSize.value, 9000 + n);
    integer(tags::kChangeNumber.value, 0x0001000000100000 | n);
    marker(markers::kIncrSyncMessage);
    body_properties(n);
    recipient();
  }

  void body_properties(std::uint64_t n) {
    for (std::uint32_t id : {0x0E07u, 0x0E17u, 0x0017u, 0x0026u, 0x0E79u, 0x3FDEu, 0x3FF1u}) {
      integer(id << 16 | 0x0003, rng_() % 4096);
    }
    for (std::uint32_t id : {0x0E06u, 0x0039u, 0x3007u, 0x3008u}) {
      integer(id << 16 | 0x0040, 0x01D8F0E2A0B3C000 + n);
    }
    for (std::uint32_t id : {0x0E1Bu, 0x0057u, 0x0058u, 0x0C1Fu}) integer(id << 16 | 0x000B, 1);
    text(tags::kSubject.value, between(10, 80));
    text(0x0C1A001F, between(5, 30));   // PidTagSenderName
    text(0x0C1F001F, between(15, 40));  // PidTagSenderEmailAddress
    text(0x0042001F, between(5, 30));   // PidTagSentRepresentingName
    text(0x0E04001F, between(5, 60));   // PidTagDisplayTo
    text(0x1035001F, between(30, 70));  // PidTagInternetMessageId
    text(0x001A001F, 8);                // PidTagMessageClass
    binary(0x0C190102, between(70, 120));  // PidTagSenderEntryId
    binary(0x0C1D0102, between(20, 40));   // PidTagSenderSearchKey
    binary(0x00410102, between(70, 120));  // PidTagSentRepresentingEntryId
    binary(0x00710102, between(22, 32));   // PidTagConversationIndex
    binary(0x300B0102, 16);                // PidTagSearchKey
    named_lid(0x80010003, 0x8501, 15);
    named_lid(0x8002000B, 0x8503, 0);
    named_text(0x8003101F, u"Keywords", 12);
    text(0x007D001F, between(500, 3000));  // PidTagTransportMessageHeaders
    text(tags::kBody.value, between(200, 4000));
  }

  void recipient() {
    marker(markers::kStartRecip);
    integer(0x0C150003, 1);
    text(0x3001001F, between(5, 30));
    text(0x3003001F, between(15, 40));
    text(0x3002001F, 4);
    binary(0x0FFF0102, between(70, 120));
    marker(markers::kEndToRecip);
  }

  Bytes contents_stream(std::size_t target) {
    marker(markers::kIncrSyncProgressMode);
    binary(0x00000102, 32);
    for (std::uint64_t n = 1; w_.size() < target - 256; ++n) message(n);
    marker(markers::kIncrSyncDel);
    binary(tags::kMetaTagIdsetDeleted.value, 40);
    marker(markers::kIncrSyncRead);
    binary(tags::kMetaTagIdsetRead.value, 24);
    marker(markers::kIncrSyncStateBegin);
    binary(tags::kMetaTagIdsetGiven.value, 30);
    binary(tags::kMetaTagCnsetSeen.value, 30);
    binary(tags::kMetaTagCnsetSeenFAI.value, 30);
    binary(tags::kMetaTagCnsetRead.value, 30);
    marker(markers::kIncrSyncStateEnd);
    marker(markers::kIncrSyncEnd);
    return w_.take();
  }

 private:
  std::mt19937_64 rng_;
  FxWriter w_;
};

const Bytes& contents_stream() {
  static const Bytes* stream = new Bytes(StreamBuilder(1).contents_stream(std::size_t{1} << 20));
  return *stream;
}

void parse_in_chunks(benchmark::State& state, std::size_t chunk) {
  const Bytes& s = contents_stream();
  FxParser p;
  std::size_t events = 0;
  for (auto _ : state) {
    p.reset();
    events = 0;
    for (std::size_t off = 0; off < s.size(); off += chunk) {
      ByteView piece = ByteView(s).subspan(off, std::min(chunk, s.size() - off));
      if (!p.feed(piece).ok()) state.SkipWithError("feed failed");
      events += p.events().size();
      benchmark::DoNotOptimize(p.events().data());
      p.events().clear();
    }
    if (!p.finish().ok()) state.SkipWithError("finish failed");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * s.size()));
  state.counters["stream_bytes"] = static_cast<double>(s.size());
  state.counters["events"] = static_cast<double>(events);
}

void BM_FxParser_4KiBChunks(benchmark::State& state) { parse_in_chunks(state, 4096); }
BENCHMARK(BM_FxParser_4KiBChunks);

// Small odd-sized chunks: most elements are split, so the state machine works.
void BM_FxParser_61ByteChunks(benchmark::State& state) { parse_in_chunks(state, 61); }
BENCHMARK(BM_FxParser_61ByteChunks);

void BM_FxParser_OneChunk(benchmark::State& state) {
  parse_in_chunks(state, contents_stream().size());
}
BENCHMARK(BM_FxParser_OneChunk);

void BM_Memcpy_FxStream(benchmark::State& state) {
  const Bytes& s = contents_stream();
  Bytes dst(s.size());
  for (auto _ : state) {
    std::memcpy(dst.data(), s.data(), s.size());
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * s.size()));
}
BENCHMARK(BM_Memcpy_FxStream);

// The producer side, for reference: re-encode the parsed events.
void BM_FxWriter_ContentsStream(benchmark::State& state) {
  auto events = parse_fx(contents_stream());
  if (!events.ok()) {
    state.SkipWithError("parse failed");
    return;
  }
  for (auto _ : state) {
    FxWriter w;
    for (const auto& e : *events) benchmark::DoNotOptimize(w.event(e).ok());
    benchmark::DoNotOptimize(w.bytes().data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * contents_stream().size()));
}
BENCHMARK(BM_FxWriter_ContentsStream);

}  // namespace
}  // namespace ics
