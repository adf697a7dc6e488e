// A deterministic workload generator: the same seed makes the same store
// operations in the same order, on any platform (its own splitmix64 generator,
// no std distributions).
//
// Workload::create makes two folders under the store's root: folder() (the
// one that gets synchronized) and elsewhere() (the other end of moves).
// populate(M) fills folder() with M messages (about a quarter FAI), some read,
// with several property types (see workload_tags), and elsewhere() with M/4
// messages, plus a few subfolders below folder(). apply(K) then makes K random
// server changes: create normal / FAI, modify normal / FAI (set and remove
// properties), hard and soft delete, move away to elsewhere(), move in from
// elsewhere(), mark read / unread, folder create / rename / delete below
// folder(). log() says what was done.
//
// A Workload borrows its Store (which must outlive it) and owns its
// generator; thread-compatible (the store itself is thread-safe).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "ics/errors.h"
#include "ics/props.h"
#include "ics/store.h"
#include "ics/testkit/random.h"

namespace ics::testkit {

// Properties the workload sets, beside PidTagSubject, PidTagBody,
// PidTagImportance, PidTagMessageDeliveryTime and PidTagMessageFlags.
namespace workload_tags {
inline constexpr PropTag kInteger64{0x7F010014};
inline constexpr PropTag kBoolean{0x7F02000B};
inline constexpr PropTag kFloating64{0x7F030005};
inline constexpr PropTag kBinary{0x7F040102};
inline constexpr PropTag kMultipleInteger32{0x7F051003};
inline constexpr PropTag kMultipleString{0x7F06101F};
inline constexpr PropTag kGuid{0x7F070048};
inline constexpr PropTag kNamed{0x80010003};  // a named property (LID 0x8233)
inline constexpr PropTag kContainerClass{0x3613001F};  // folders
}  // namespace workload_tags

enum class Op : std::uint8_t {
  CreateNormal, CreateFai, Modify, ModifyFai, DeleteHard, DeleteSoft, MoveAway, MoveIn,
  MarkRead, MarkUnread, FolderCreate, FolderRename, FolderDelete, kCount
};
inline constexpr std::size_t kOpCount = static_cast<std::size_t>(Op::kCount);
std::string_view name(Op op);

struct WorkloadOptions {
  // Relative weights of the operations apply() draws (index = Op).
  std::array<unsigned, kOpCount> weights = {10, 4, 16, 5, 6, 5, 5, 5, 8, 6, 4, 4, 2};
  unsigned fai_percent = 25;    // of the messages populate() makes
  unsigned read_percent = 40;   // of the messages populate() / create make read
  unsigned long_body_percent = 10;  // bodies of a few KiB (span many buffers)
  // For endless runs (ics-stress), whose memory must not drift with the number of steps:
  // log_mids = false keeps only the counts in log(), not the MIDs touched; modify_replaces
  // makes a modify give the message a whole fresh property set (by default it sets some
  // fresh values and removes at most one, so messages gather properties over time).
  bool log_mids = true;
  bool modify_replaces = false;
  // Other sessions write the same store on other threads (ics-stress's mixed scenario): a
  // message picked may be deleted by one of them before the step acts on it. Such a step
  // (NotFound on the picked object) creates a message instead and is counted in
  // log().vanished. Off, NotFound fails the step: the workload is the only writer.
  bool shared_store = false;
};

// What the workload did, by operation, with the GLOBCNTs of the MIDs touched.
struct WorkloadLog {
  std::array<std::size_t, kOpCount> counts{};
  std::vector<Globcnt> created, changed, deleted, moved_away, moved_in, read, unread;
  std::size_t vanished = 0;  // steps whose object another writer deleted first
};

class Workload {
 public:
  static Result<Workload> create(Store& store, std::uint64_t seed, WorkloadOptions options = {});
  // Another generator on the same store, folders and options with a random stream of its own
  // (and an empty log): writers on several threads each drive one, so their calls overlap.
  Workload sibling(std::uint64_t seed) const {
    return Workload(*store_, folder_, elsewhere_, seed, options_);
  }
  // This generator as it stands (folders, RNG state, options, log) driving `store` instead: a
  // clone of store() (Store::clone) then sees the same steps this one would have taken.
  Workload on(Store& store) const {
    Workload copy = *this;
    copy.store_ = &store;
    return copy;
  }

  Fid folder() const { return folder_; }
  Fid elsewhere() const { return elsewhere_; }
  Store& store() const { return *store_; }
  Rng& rng() { return rng_; }
  const WorkloadLog& log() const { return log_; }

  Status populate(std::size_t messages);
  // K operations drawn with the weights; one that cannot be done (nothing to
  // delete, ...) falls back to creating a normal message.
  Status apply(std::size_t changes);
  // One operation of the given kind (with the same fallback); what was done.
  Result<Op> run(Op op);
  Result<Op> step();
  // A random property bag of the kinds above.
  PropertyBag random_props();

 private:
  Workload(Store& store, Fid folder, Fid elsewhere, std::uint64_t seed, WorkloadOptions options);
  Result<std::optional<Mid>> pick(Fid fid, MessageKind kind);
  Result<std::optional<Mid>> pick_any(Fid fid);
  Result<std::optional<Fid>> pick_subfolder();
  Result<bool> create_message(Fid fid, bool associated);
  Result<bool> modify(MessageKind kind);
  Result<bool> remove(DeleteKind kind);
  Result<bool> move(Fid from, Fid to, std::vector<Globcnt>& log);
  bool in_folder(Mid mid, Fid fid) const;
  void note(std::vector<Globcnt>& list, Globcnt g) {
    if (options_.log_mids) list.push_back(g);
  }
  Result<bool> mark(bool read);
  Result<bool> folder_create();
  Result<bool> folder_rename();
  Result<bool> folder_delete();
  Result<bool> dispatch(Op op);

  Store* store_;
  Fid folder_;
  Fid elsewhere_;
  Rng rng_;
  WorkloadOptions options_;
  WorkloadLog log_;
  std::uint64_t serial_ = 0;  // names things uniquely
};

}  // namespace ics::testkit
