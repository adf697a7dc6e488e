// Seeds of fuzz_state_upload (script/state_upload_ops.h): scripts around IDSETs the engine
// encoded: a real state's IdsetGiven / CnsetSeen uploaded whole or in pieces, then cut
// short, bad tags, stray calls and downloads. Ops are written by name (FdpWriter::op).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "ics/idset.h"
#include "ics/state.h"
#include "script/fdp_writer.h"
#include "script/state_upload_ops.h"
#include "seeds/seeds.h"

namespace ics_seeds {
namespace {

using ics_fuzz::FdpWriter;
using namespace ics_fuzz::state_upload;

// setup: no state-size limit, contents or hierarchy, checked flags, no PartialItem, no extra flags.
void header(FdpWriter& s, bool hierarchy, std::uint16_t flags) {
  s.flag(false).flag(hierarchy).flag(false).u16(flags).flag(false).u8(0);
}

// begin(tag, size), then continue calls of one piece each, then end.
void upload(FdpWriter& s, Tag tag, const Bytes& v, std::size_t pieces) {
  s.op(Op::Begin).u8(tag).u16(static_cast<std::uint16_t>(v.size()));
  std::size_t step = (v.size() + pieces - 1) / pieces;
  for (std::size_t pos = 0; pos < v.size(); pos += step) {
    std::size_t n = std::min(step, v.size() - pos);
    s.op(Op::Continue).u8(static_cast<std::uint8_t>(n)).bytes(Bytes(v.begin() + static_cast<std::ptrdiff_t>(pos),
                                                                     v.begin() + static_cast<std::ptrdiff_t>(pos + n)));
    s.u8(static_cast<std::uint8_t>(n - 1));  // one split covering the chunk
  }
  s.op(Op::End);
}

}  // namespace

void state_upload_seeds(Seeds& seeds, Rng& rng) {
  ics::IcsState st;
  const ics::Guid store_guid = ics::Guid::from_seed(7);
  (void)st.given.insert(store_guid, 1, 40);
  (void)st.seen.insert(store_guid, 1, 60);
  (void)st.seen.insert(ics::Guid::from_seed(99), 5, 9);
  const Bytes given = ics::encode_idset(st.given);
  const Bytes seen = ics::encode_idset(st.seen);
  const std::uint16_t contents = 0x0001 | 0x0008 | 0x0010 | 0x0020 | 0x8000;
  for (std::size_t pieces : {1, 3}) {
    FdpWriter s;
    header(s, false, contents);
    upload(s, kIdsetGiven, given, pieces);
    upload(s, kCnsetSeen, seen, pieces);
    s.op(Op::GetBuffer).u8(200).op(Op::TransferState).u8(1);
    seeds.write("state_upload", "given-seen-" + std::to_string(pieces), s);
  }
  {
    FdpWriter s;  // hierarchy: FAI CNSET refused, then the good ones
    header(s, true, 0x0001);
    upload(s, kCnsetSeenFAI, seen, 1);
    upload(s, kIdsetGivenBinary, given, 2);
    s.op(Op::Stray).u8(0).u8(3).u8(6).u8(3);  // a forged handle: false, then a u32 of what is left
    seeds.write("state_upload", "hierarchy-fai-refused", s);
  }
  {
    FdpWriter s;  // cut short, end (FormatError), then a stray get_buffer mid-upload
    header(s, false, contents);
    s.op(Op::Begin).u8(kIdsetGiven).u16(static_cast<std::uint16_t>(given.size()));
    s.op(Op::Continue).u8(static_cast<std::uint8_t>(given.size() - 3))
        .bytes(Bytes(given.begin(), given.end() - 3)).u8(static_cast<std::uint8_t>(given.size() - 4));
    s.op(Op::GetBuffer).u8(9).op(Op::End);
    s.op(Op::ValidProperty).u8(2).u8(1).u8(1).u8(5).u8(3);
    seeds.write("state_upload", "truncated-then-valid", s);
  }
  for (int i = 0; i < 4; ++i) {  // random scripts
    const std::size_t n = 64 + rng() % 64;
    seeds.write("state_upload", "random-" + std::to_string(i), random_bytes(rng, n));
  }
}

}  // namespace ics_seeds
