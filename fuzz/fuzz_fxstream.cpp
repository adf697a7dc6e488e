// Oracle: FxParser gives the same events and the same error (code and offset)
// whether fed the stream in one piece or in fuzzer-chosen chunks (a failed
// parser stays failed with that error and adds nothing), holds memory in
// proportion to the bytes received, and FxWriter accepts every event it
// emitted and writes them back to exactly the bytes they came from.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "fuzz_check.h"
#include "fxstream_input.h"
#include "ics/fxstream.h"
#include "mutate/hooks.h"
#include "mutate/fx_mutator.h"

namespace {

struct Outcome {
  std::vector<ics::FxEvent> events;
  std::optional<std::pair<ics::ErrorCode, std::size_t>> error;
};

ics::FxParser::Options options(std::size_t limit) {
  ics::FxParser::Options o;
  if (limit != 0) o.max_element_size = limit;
  return o;
}

void note(Outcome& out, const ics::Status& st) {
  if (st.ok()) return;
  std::pair<ics::ErrorCode, std::size_t> e{st.code(), st.error().offset()};
  ICS_FUZZ_CHECK(!out.error || *out.error == e);  // a failed parser stays failed, same error
  out.error = e;
}

// `expected_events`: room reserved for the events (the count of an earlier parse of the
// same stream), so the chunked parse grows no vector; the first batch of events is
// taken whole from the parser.
Outcome parse(ics::ByteView stream, const std::vector<std::size_t>& chunks, std::size_t limit,
              std::size_t expected_events = 0) {
  ics::FxParser p(options(limit));
  Outcome out;
  out.events.reserve(expected_events);
  p.events().reserve(expected_events);
  std::size_t at = 0;
  for (std::size_t i = 0; at < stream.size(); i = (i + 1) % chunks.size()) {
    std::size_t n = std::min(chunks[i], stream.size() - at);
    bool failed = out.error.has_value();
    note(out, p.feed(stream.subspan(at, n)));
    at += n;
    ICS_FUZZ_CHECK(!failed || p.events().empty());
    if (out.events.empty() && out.events.capacity() <= p.events().capacity()) {
      std::swap(out.events, p.events());  // the parser keeps out's (empty) buffer
    } else {
      for (ics::FxEvent& e : p.events()) out.events.push_back(std::move(e));
    }
    p.events().clear();  // consumed; the parser keeps the capacity
    ICS_FUZZ_CHECK(p.held_bytes() <= 16 * p.offset() + 1024);  // never by a declared length
  }
  note(out, p.finish());
  ICS_FUZZ_CHECK(p.events().empty());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ics_fuzz::FxInput in = ics_fuzz::split_fx_input(ics::ByteView(data, size));
  const std::vector<std::size_t> whole{in.stream.size() + 1};
  Outcome one = parse(in.stream, whole, in.limit);
  Outcome chunked = parse(in.stream, in.chunks, in.limit, one.events.size());
  ICS_FUZZ_CHECK(one.events == chunked.events && one.error == chunked.error);

  ics::FxWriter w;
  for (const ics::FxEvent& e : one.events) ICS_FUZZ_CHECK(w.event(e).ok());
  const ics::Bytes& written = w.bytes();
  ICS_FUZZ_CHECK(written.size() <= in.stream.size());
  ICS_FUZZ_CHECK(std::equal(written.begin(), written.end(), in.stream.begin()));
  if (!one.error) {
    ICS_FUZZ_CHECK(written.size() == in.stream.size());  // so they parse to the same events
    return 0;
  }
  Outcome again = parse(ics::ByteView(written), whole, in.limit, one.events.size());  // the part before the error
  ICS_FUZZ_CHECK(!again.error && again.events == one.events);
  return 0;
}

// Structure-aware mutation (fuzz/mutate/fx_mutator.h); ICS_FUZZ_BYTE_ONLY=1 turns it off.
ICS_FUZZ_CUSTOM_MUTATORS(ics_fuzz::fxstream_custom_mutate, ics_fuzz::fxstream_custom_crossover)
