// Seeds of fuzz_import (script/import_ops.h). The target's setup picks the workload seed
// and size; the seeds build the same store (ics::testkit::Workload) to know how many keys
// the target's pools hold, so that a key index names the message just created. Ops are
// written by name (FdpWriter::op); the fuzzed-bytes fields get engine-serialized GIDs,
// XIDs and PCLs.
#include <cstddef>
#include <cstdint>
#include <string>

#include "ics/ids.h"
#include "ics/pcl.h"
#include "ics/store.h"
#include "ics/testkit/workload.h"
#include "script/fdp_writer.h"
#include "script/import_ops.h"
#include "seeds/seeds.h"

namespace ics_seeds {
namespace {

using ics_fuzz::FdpWriter;
using namespace ics_fuzz::import;

struct ImportPools {
  std::size_t messages = 0;  // folder (both kinds) + elsewhere
  std::size_t folders = 0;   // below the synchronized folder
};

ImportPools import_pools(std::uint8_t seed, std::size_t populate) {
  ics::Store store(ics::StoreOptions{ics::Guid::from_seed(7), 1});
  ics::testkit::WorkloadOptions wo;
  wo.long_body_percent = 0;
  auto wl = ics::testkit::Workload::create(store, seed, wo);
  if (!wl.ok()) must(wl.error(), "Workload::create");
  must(wl->populate(populate), "populate");
  ImportPools p;
  for (ics::Fid f : {wl->folder(), wl->elsewhere()}) {
    for (auto kind : {ics::MessageKind::Normal, ics::MessageKind::Associated}) {
      auto ids = store.message_ids(f, kind);
      if (!ids.ok()) must(ids.error(), "message_ids");
      p.messages += ids->size();
    }
  }
  auto tree = store.folder_tree(wl->folder());
  if (!tree.ok()) must(tree.error(), "folder_tree");
  p.folders = tree->size();
  return p;
}

FdpWriter& shape(FdpWriter& s, Shape v) { return s.u8(static_cast<std::uint8_t>(v)); }

// One change import of an existing key (index into the pool) or, with index < 0, of a
// fresh client key; one property, the subject. `exists`: whether the key names a message
// when the target imports it.
void change(FdpWriter& s, int index, bool associated, bool fail_on_conflict, Shape v, int time_case, bool race,
            const std::string& subject, bool exists = true) {
  s.op(Op::Change);
  if (index < 0) {
    s.u8(kFreshKey).flag(associated);
  } else {
    s.u8(kKnownKey).u8(static_cast<std::uint8_t>(index));
    if (!exists) s.flag(associated);
  }
  s.u8(1).flag(fail_on_conflict).u8(1);  // right kind, FailOnConflict, no stray bits
  shape(s, v).u8(static_cast<std::uint8_t>(time_case));
  if (time_case == 1) s.u16(60);
  s.u8(1).u8(0);  // one property: PidTagSubject
  s.text(subject);
  if (index >= 0 && exists) s.u8(race ? 0 : 1);
}

}  // namespace

void import_seeds(Seeds& seeds, Rng& rng) {
  const std::uint8_t seed = 3;
  const std::size_t populate = 6;  // setup's second value: 2 + 4
  const ImportPools pools = import_pools(seed, populate);
  auto setup = [&](FdpWriter& s) { s.u8(seed).u8(4); };
  const int created = static_cast<int>(pools.messages);  // the first fresh key's index
  {
    FdpWriter s;  // create, update, conflict both ways, FailOnConflict, ignore, race
    setup(s);
    change(s, -1, false, false, Shape::Newer, 1, false, "created");
    change(s, created, false, false, Shape::Newer, 1, false, "updated");
    change(s, created, false, false, Shape::Conflict, 1, false, "client wins");
    change(s, created, false, false, Shape::Conflict, 2, false, "server wins");
    change(s, created, false, true, Shape::Conflict, 1, false, "fail on conflict");
    change(s, created, false, false, Shape::Same, 0, false, "same");
    change(s, created, false, false, Shape::Older, 0, false, "older");
    change(s, created, false, false, Shape::Newer, 1, true, "raced");
    change(s, 0, false, false, Shape::Newer, 1, false, "populated");
    seeds.write("import", "message-lifecycle", s);
  }
  {
    FdpWriter s;  // FAI create, read states, soft and hard deletes, re-import of a deleted key
    setup(s);
    change(s, -1, true, false, Shape::Newer, 1, false, "fai");
    s.op(Op::Read).u8(3);  // three keys
    for (int i = 0; i < 3; ++i) s.u8(kKnownKey).u8(static_cast<std::uint8_t>(i));
    for (int i = 0; i < 3; ++i) s.flag(i != 1);
    s.u8(1);  // no fuzzed key
    s.op(Op::Deletes).flag(false).u8(1).u8(2).u8(kKnownKey).u8(0).u8(kKnownKey).u8(1).u8(1);  // soft: keys 0, 1
    s.op(Op::Deletes).flag(true).u8(1).u8(1).u8(kKnownKey).u8(2).u8(1);                      // hard: key 2
    change(s, 0, false, false, Shape::Newer, 1, false, "deleted", false);
    s.op(Op::ServerChange);
    seeds.write("import", "read-and-deletes", s);
  }
  {
    FdpWriter s;  // folders: create, rename, conflict; move from elsewhere; hierarchy delete
    setup(s);
    std::size_t folders = pools.folders;  // the target's folder pool as it grows
    for (Shape v : {Shape::Newer, Shape::Newer, Shape::Conflict}) {
      s.op(Op::Folder);
      const bool fresh = v == Shape::Newer || folders == 0;
      if (folders > 0) s.flag(fresh);
      if (!fresh && folders > 1) s.u8(static_cast<std::uint8_t>(folders - 1));
      shape(s, v);
      if (folders > 0) s.flag(false);  // parent: the collector's folder
      s.u8(1).u16(30);                 // time: later by 31
      s.text("folder").flag(true);     // name, container class
      if (fresh) ++folders;
    }
    s.op(Op::Move).u8(static_cast<std::uint8_t>(pools.messages - 1)).flag(false);
    shape(s, Shape::Same);
    s.op(Op::Move).u8(static_cast<std::uint8_t>(pools.messages - 1)).flag(true);
    shape(s, Shape::Newer);
    s.op(Op::HierarchyDeletes).flag(true).u8(1).u8(1).flag(false).u8(0).u8(1);  // hard-delete the first folder
    s.op(Op::Stray).u32(0xDEAD);
    seeds.write("import", "folders-and-moves", s);
  }
  // Raw fields: engine-made GIDs, XIDs and PCLs at the front, random scripts behind.
  ics::Pcl pcl;
  pcl.add(ics::Xid::from_globcnt(ics::Guid::from_seed(7), 12));
  pcl.add(ics::Xid::from_globcnt(ics::Guid::from_seed(0xC11E), 3));
  const Bytes front = concat(concat(ics::serialize_gid(ics::Gid{ics::Guid::from_seed(7), 5}), pcl.serialize()),
                             ics::serialize_xid(ics::Xid::from_globcnt(ics::Guid::from_seed(0xC11E), 9)));
  for (int i = 0; i < 6; ++i) {
    Bytes b = front;
    for (std::size_t k = 0; k < 48 + static_cast<std::size_t>(i) * 24; ++k) b.push_back(static_cast<std::uint8_t>(rng()));
    seeds.write("import", "raw-fields-" + std::to_string(i), b);
  }
}

}  // namespace ics_seeds
