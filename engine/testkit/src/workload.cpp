#include "ics/testkit/workload.h"

#include <cstring>
#include <string>

namespace ics::testkit {

std::string_view name(Op op) {
  static constexpr std::string_view kNames[] = {
      "create-normal", "create-fai", "modify", "modify-fai", "delete-hard", "delete-soft",
      "move-away", "move-in", "mark-read", "mark-unread", "folder-create", "folder-rename",
      "folder-delete"};
  const auto i = static_cast<std::size_t>(op);
  return i < kOpCount ? kNames[i] : "unknown";
}

namespace {

constexpr std::uint64_t kFiletime2020 = 132223104000000000ull;

Bytes utf16(const std::string& ascii) {
  Bytes b;
  for (char c : ascii) {
    b.push_back(static_cast<std::uint8_t>(c));
    b.push_back(0);
  }
  b.push_back(0);
  b.push_back(0);
  return b;
}

std::string text(Rng& rng, std::size_t length) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ0123456789";
  std::string s(length, ' ');
  for (char& c : s) c = kAlphabet[rng.below(sizeof kAlphabet - 1)];
  return s;
}

PropValue named_value(std::uint64_t v) {
  PropValue p = PropValue::integer(workload_tags::kNamed, v & 0xFFFFFFFFu);
  p.named = NamedProp{Guid::from_seed(0x4E414D45), 0, 0x8233, {}};
  return p;
}

PropValue multi_int(Rng& rng) {
  std::vector<std::uint64_t> v(rng.below(4));
  for (auto& x : v) x = rng.next() & 0xFFFFFFFFu;
  return PropValue{workload_tags::kMultipleInteger32, std::nullopt, std::move(v)};
}

PropValue multi_string(Rng& rng) {
  std::vector<Bytes> v(rng.below(3) + 1);
  for (auto& x : v) x = utf16(text(rng, rng.below(12)));
  return PropValue{workload_tags::kMultipleString, std::nullopt, std::move(v)};
}

PropValue binary(Rng& rng) {
  Bytes b(rng.below(40));
  for (auto& x : b) x = static_cast<std::uint8_t>(rng.next());
  return PropValue::binary(workload_tags::kBinary, std::move(b));
}

PropValue floating(Rng& rng) {
  const double d = static_cast<double>(rng.below(1000000)) / 7.0;
  std::uint64_t bits = 0;
  std::memcpy(&bits, &d, sizeof bits);
  return PropValue::integer(workload_tags::kFloating64, bits);
}

}  // namespace

Workload::Workload(Store& store, Fid folder, Fid elsewhere, std::uint64_t seed,
                   WorkloadOptions options)
    : store_(&store), folder_(folder), elsewhere_(elsewhere), rng_(seed), options_(options) {}

Result<Workload> Workload::create(Store& store, std::uint64_t seed, WorkloadOptions options) {
  ICS_TRY_ASSIGN(Fid folder, store.create_folder(store.root(), "Inbox " + std::to_string(seed)));
  ICS_TRY_ASSIGN(Fid elsewhere, store.create_folder(store.root(), "Elsewhere " + std::to_string(seed)));
  return Workload(store, folder, elsewhere, seed, options);
}

PropertyBag Workload::random_props() {
  PropertyBag b;
  ++serial_;
  b.set(PropValue::unicode(tags::kSubject, "subject " + std::to_string(serial_) + " " +
                                               text(rng_, rng_.below(16))));
  if (rng_.percent(60)) {
    const bool long_body = rng_.percent(options_.long_body_percent);
    b.set(PropValue::unicode(tags::kBody, text(rng_, long_body ? 2000 + rng_.below(3000) : rng_.below(80))));
  }
  if (rng_.percent(60)) b.set(PropValue::integer(tags::kImportance, rng_.below(3)));
  if (rng_.percent(50)) b.set(PropValue::integer(workload_tags::kInteger64, rng_.next()));
  if (rng_.percent(50)) b.set(PropValue::integer(workload_tags::kBoolean, rng_.below(2)));
  if (rng_.percent(70)) {
    b.set(PropValue::integer(tags::kMessageDeliveryTime, kFiletime2020 + rng_.below(40) * 10000000ull));
  }
  if (rng_.percent(40)) b.set(floating(rng_));
  if (rng_.percent(40)) b.set(binary(rng_));
  if (rng_.percent(30)) b.set(multi_int(rng_));
  if (rng_.percent(30)) b.set(multi_string(rng_));
  if (rng_.percent(30)) b.set(PropValue{workload_tags::kGuid, std::nullopt, Guid::from_seed(rng_.next())});
  if (rng_.percent(30)) b.set(named_value(rng_.next()));
  if (rng_.percent(25)) {
    static constexpr std::uint64_t kFlags[] = {0x0, 0x1, 0x8, 0x9, 0x10};
    b.set(PropValue::integer(tags::kMessageFlags, kFlags[rng_.below(5)]));
  }
  return b;
}

Status Workload::populate(std::size_t messages) {
  for (std::size_t i = 0; i < messages; ++i) {
    ICS_TRY(create_message(folder_, rng_.percent(options_.fai_percent)));
  }
  for (std::size_t i = 0; i < messages / 4; ++i) ICS_TRY(create_message(elsewhere_, false));
  for (int i = 0; i < 3; ++i) ICS_TRY(folder_create());
  return ok_status();
}

Status Workload::apply(std::size_t changes) {
  for (std::size_t i = 0; i < changes; ++i) ICS_TRY(step());
  return ok_status();
}

Result<Op> Workload::step() {
  unsigned total = 0;
  for (unsigned w : options_.weights) total += w;
  std::uint64_t roll = rng_.below(total);
  std::size_t i = 0;
  while (i + 1 < kOpCount && roll >= options_.weights[i]) roll -= options_.weights[i++];
  return run(static_cast<Op>(i));
}

Result<Op> Workload::run(Op op) {
  Result<bool> dispatched = dispatch(op);
  if (!dispatched.ok() && options_.shared_store &&
      dispatched.error().code() == ErrorCode::NotFound) {
    ++log_.vanished;
    dispatched = false;
  }
  ICS_TRY_ASSIGN(bool done, std::move(dispatched));
  if (!done) {
    op = Op::CreateNormal;
    ICS_TRY(create_message(folder_, false));
  }
  ++log_.counts[static_cast<std::size_t>(op)];
  return op;
}

Result<bool> Workload::dispatch(Op op) {
  switch (op) {
    case Op::CreateNormal: return create_message(folder_, false);
    case Op::CreateFai: return create_message(folder_, true);
    case Op::Modify: return modify(MessageKind::Normal);
    case Op::ModifyFai: return modify(MessageKind::Associated);
    case Op::DeleteHard: return remove(DeleteKind::Hard);
    case Op::DeleteSoft: return remove(DeleteKind::Soft);
    case Op::MoveAway: return move(folder_, elsewhere_, log_.moved_away);
    case Op::MoveIn: return move(elsewhere_, folder_, log_.moved_in);
    case Op::MarkRead: return mark(true);
    case Op::MarkUnread: return mark(false);
    case Op::FolderCreate: return folder_create();
    case Op::FolderRename: return folder_rename();
    case Op::FolderDelete: return folder_delete();
    case Op::kCount: break;
  }
  return false;
}

Result<std::optional<Mid>> Workload::pick(Fid fid, MessageKind kind) {
  ICS_TRY_ASSIGN(std::vector<Mid> mids, store_->message_ids(fid, kind));
  if (mids.empty()) return std::optional<Mid>{};
  return std::optional<Mid>(mids[rng_.below(mids.size())]);
}

Result<std::optional<Mid>> Workload::pick_any(Fid fid) {
  return pick(fid, rng_.percent(options_.fai_percent) ? MessageKind::Associated : MessageKind::Normal);
}

Result<bool> Workload::create_message(Fid fid, bool associated) {
  ICS_TRY_ASSIGN(Mid mid, store_->create_message(fid, random_props(), associated));
  if (rng_.percent(options_.read_percent)) ICS_TRY(store_->set_read(mid, true));
  if (fid == folder_) note(log_.created, mid.globcnt);
  return true;
}

Result<bool> Workload::modify(MessageKind kind) {
  ICS_TRY_ASSIGN(std::optional<Mid> mid, pick(folder_, kind));
  if (!mid) return false;
  PropChanges changes;
  const PropertyBag fresh = random_props();
  ICS_TRY_ASSIGN(MessageSnapshot now, store_->get_message(*mid));
  if (options_.modify_replaces) {
    changes.set = fresh;
    for (const PropValue& v : now.props.values()) {
      if (!fresh.get(v.tag)) changes.remove.push_back(v.tag);
    }
  } else {
    for (const PropValue& v : fresh.values()) {
      if (rng_.percent(40)) changes.set.set(v);
    }
    if (!now.props.empty() && rng_.percent(40)) {
      changes.remove.push_back(now.props.values()[rng_.below(now.props.size())].tag);
    }
  }
  ICS_TRY(store_->modify_message(*mid, changes));
  note(log_.changed, mid->globcnt);
  return true;
}

Result<bool> Workload::remove(DeleteKind kind) {
  ICS_TRY_ASSIGN(std::optional<Mid> mid, pick_any(folder_));
  if (!mid) return false;
  ICS_TRY(store_->delete_message(*mid, kind));
  note(log_.deleted, mid->globcnt);
  return true;
}

Result<bool> Workload::move(Fid from, Fid to, std::vector<Globcnt>& log) {
  ICS_TRY_ASSIGN(std::optional<Mid> mid, pick_any(from));
  if (!mid) return false;
  Result<Globcnt> moved = store_->move_message(*mid, to);
  // Another writer moved it first (the store then refuses a move into the same folder).
  if (!moved.ok() && options_.shared_store && !in_folder(*mid, from)) {
    ++log_.vanished;
    return false;
  }
  ICS_TRY(moved);
  note(log, mid->globcnt);
  return true;
}

bool Workload::in_folder(Mid mid, Fid fid) const {
  Result<MessageSnapshot> now = store_->get_message(mid);
  return now.ok() && now.value().folder == fid;
}

Result<bool> Workload::mark(bool read) {
  ICS_TRY_ASSIGN(std::optional<Mid> mid, pick_any(folder_));
  if (!mid) return false;
  ICS_TRY_ASSIGN(Globcnt cn, store_->set_read(*mid, read));
  if (cn != 0) note(read ? log_.read : log_.unread, mid->globcnt);
  return true;
}

Result<std::optional<Fid>> Workload::pick_subfolder() {
  ICS_TRY_ASSIGN(std::vector<FolderSnapshot> tree, store_->folder_tree(folder_, false));
  if (tree.empty()) return std::optional<Fid>{};
  return std::optional<Fid>(tree[rng_.below(tree.size())].fid);
}

Result<bool> Workload::folder_create() {
  ICS_TRY_ASSIGN(std::optional<Fid> under, pick_subfolder());
  const Fid parent = under && rng_.percent(50) ? *under : folder_;
  ICS_TRY(store_->create_folder(parent, "folder " + std::to_string(++serial_)));
  return true;
}

Result<bool> Workload::folder_rename() {
  ICS_TRY_ASSIGN(std::optional<Fid> fid, pick_subfolder());
  if (!fid) return false;
  PropChanges changes;
  changes.set.set(PropValue::unicode(tags::kDisplayName, "renamed " + std::to_string(++serial_)));
  if (rng_.percent(50)) changes.set.set(PropValue::unicode(workload_tags::kContainerClass, "IPF.Note"));
  ICS_TRY(store_->modify_folder(*fid, changes));
  return true;
}

Result<bool> Workload::folder_delete() {
  ICS_TRY_ASSIGN(std::optional<Fid> fid, pick_subfolder());
  if (!fid) return false;
  ICS_TRY(store_->delete_folder(*fid, rng_.percent(50) ? DeleteKind::Hard : DeleteKind::Soft));
  return true;
}

}  // namespace ics::testkit
