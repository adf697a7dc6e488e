// Seeds of fuzz_sync_session (script/sync_session_ops.h): conversations of one to three
// replicas. Ops are written by name (FdpWriter::op); a replica operand is written only
// when there are several (the target takes none with one).
#include <cstddef>
#include <cstdint>
#include <string>

#include "script/fdp_writer.h"
#include "script/sync_session_ops.h"
#include "seeds/seeds.h"

namespace ics_seeds {
namespace {

using ics_fuzz::FdpWriter;
using namespace ics_fuzz::sync_session;

// A contents replica: flags, extra flags, no property list, buffer and chunk.
void contents_replica(FdpWriter& s, std::uint16_t flags, std::uint8_t extra, bool partial, bool tiny_buffer,
                      std::uint8_t chunk) {
  s.u8(1).u16(flags).u8(1).u8(extra).flag(partial).u8(1);
  if (tiny_buffer) {
    s.u8(0).u8(6);
  } else {
    s.u8(1).u16(1000);
  }
  if (chunk == 0) {
    s.flag(true);
  } else {
    s.flag(false).u8(static_cast<std::uint8_t>(chunk - 1));
  }
}

}  // namespace

void sync_session_seeds(Seeds& seeds, Rng& rng) {
  const std::uint16_t normal = 0x0020, fai = 0x0010, read_state = 0x0008, progress = 0x8000;
  {
    FdpWriter s;  // two replicas edit the same message: a conflict, then convergence
    s.u8(5).u8(3).u8(1);  // seed, 4 messages, 2 replicas
    contents_replica(s, normal | read_state, 0x05, false, false, 0);
    contents_replica(s, normal | fai | progress, 0x0F, true, false, 7);
    s.op(Op::Sync).u8(0).op(Op::Sync).u8(1);
    s.op(Op::LocalModify).u8(0).u8(0).text("a").flag(false);  // r0 modifies its first message
    s.op(Op::LocalModify).u8(1).u8(0).text("b").flag(true);   // r1 the same message
    s.op(Op::Upload).u8(0).op(Op::Upload).u8(1);
    s.op(Op::ServerChanges).u8(2).op(Op::Sync).u8(0).op(Op::Sync).u8(1);
    seeds.write("sync_session", "conflict-two-replicas", s);
  }
  {
    FdpWriter s;  // one replica: local create / delete / read, tiny buffers, chunked state
    s.u8(9).u8(5).u8(0);
    contents_replica(s, normal | fai | read_state, 0x00, false, true, 3);
    s.op(Op::Sync).op(Op::LocalCreate).text("new").flag(true).u32(77).u8(1);
    s.op(Op::LocalRead).u8(0).flag(true).op(Op::LocalDelete).u8(1).flag(true).op(Op::Upload);
    s.op(Op::ServerChanges).u8(3).op(Op::Sync);
    seeds.write("sync_session", "local-changes-tiny-buffers", s);
  }
  {
    FdpWriter s;  // a hierarchy replica beside a contents one, folder changes in between
    s.u8(2).u8(4).u8(1);
    s.u8(0).u16(0x0002).u8(0x05);  // hierarchy, NoDeletions, Eid | Cn
    s.u8(1).u16(2000).flag(true);
    contents_replica(s, normal, 0x02, false, false, 0);
    s.op(Op::Sync).u8(0).op(Op::ServerChanges).u8(3).op(Op::Sync).u8(0).op(Op::ServerChanges).u8(2);
    s.op(Op::Sync).u8(1).op(Op::Upload).u8(0);  // a hierarchy replica's upload: NotSupported
    seeds.write("sync_session", "hierarchy-and-contents", s);
  }
  for (int i = 0; i < 6; ++i) {
    seeds.write("sync_session", "random-" + std::to_string(i), random_bytes(rng, 24 + static_cast<std::size_t>(i) * 16));
  }
}

}  // namespace ics_seeds
