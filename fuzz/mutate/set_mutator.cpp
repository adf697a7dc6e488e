// See set_mutator.h.
#include "mutate/set_mutator.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "ics/globset.h"
#include "ics/idset.h"

namespace ics_fuzz {
namespace {

constexpr std::size_t kGlobcntBytes = 6;

// Operand length of `op` at stack depth `depth`; false for an unknown command
// or a Range with no room for its operands.
bool operand_size(std::uint8_t op, std::size_t depth, std::size_t& n) {
  if (op >= 0x01 && op <= 0x06) n = op;
  else if (op == ics::kGlobsetPop || op == ics::kGlobsetEnd) n = 0;
  else if (op == ics::kGlobsetBitmask) n = 2;
  else if (op == ics::kGlobsetRange && depth < kGlobcntBytes) n = 2 * (kGlobcntBytes - depth);
  else return false;
  return true;
}

// The common byte stack's depth as the lexer sees it: Push adds its width, Pop
// removes the last push (nothing on an empty stack). The widths of the first
// kInline pushes still on the stack are held inline (a well-formed GLOBSET has
// at most six), so lexing a set allocates nothing.
class Depth {
 public:
  void step(std::uint8_t op) {
    if (op >= 0x01 && op <= 0x06) {
      if (pushes_ < kInline) inline_[pushes_] = op;
      else more_.push_back(op);
      ++pushes_;
      depth_ += op;
    } else if (op == ics::kGlobsetPop && pushes_ > 0) {
      --pushes_;
      if (pushes_ < kInline) {
        depth_ -= inline_[pushes_];
      } else {
        depth_ -= more_.back();
        more_.pop_back();
      }
    }
  }
  std::size_t depth() const { return depth_; }

 private:
  static constexpr std::size_t kInline = 16;
  std::uint8_t inline_[kInline] = {};
  std::vector<std::uint8_t> more_;
  std::size_t pushes_ = 0;
  std::size_t depth_ = 0;
};

// The commands at the front of b as split_globset cuts them: how many, and the
// length through End (0 when b holds no complete GLOBSET). Allocates nothing.
struct CommandScan {
  std::size_t commands = 0;
  std::size_t length = 0;
};

CommandScan scan_commands(ics::ByteView b) {
  CommandScan scan;
  Depth depth;
  std::size_t at = 0;
  while (at < b.size()) {
    const std::uint8_t op = b[at];
    std::size_t n = 0;
    if (!operand_size(op, depth.depth(), n) || b.size() - at - 1 < n) return scan;
    at += 1 + n;
    ++scan.commands;
    depth.step(op);
    if (op == ics::kGlobsetEnd) {
      scan.length = at;
      return scan;
    }
  }
  return scan;
}

std::size_t globset_length(ics::ByteView b) { return scan_commands(b).length; }
std::size_t command_count(ics::ByteView b) { return scan_commands(b).commands; }

// Stack depth before command i.
std::size_t depth_before(const std::vector<GlobCmd>& cmds, std::size_t i) {
  Depth d;
  for (std::size_t k = 0; k < i && k < cmds.size(); ++k) d.step(cmds[k].op);
  return d.depth();
}

GlobCmd random_command(Rng& rng, std::size_t depth) {
  static constexpr std::uint8_t kOps[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
                                          ics::kGlobsetPop, ics::kGlobsetBitmask,
                                          ics::kGlobsetRange, ics::kGlobsetEnd};
  GlobCmd c;
  c.op = rng.pick(kOps);
  std::size_t n = 0;
  if (!operand_size(c.op, depth, n)) {
    c.op = ics::kGlobsetPop;  // a Range with a full stack: a Pop makes room
    return c;
  }
  c.operand.resize(n);
  for (auto& x : c.operand) x = rng.one_in(3) ? 0 : rng.byte();
  if (c.op == ics::kGlobsetRange && rng.one_in(2)) {  // low <= high: copy low, raise high
    std::copy(c.operand.begin(), c.operand.begin() + n / 2, c.operand.begin() + n / 2);
    c.operand.back() = static_cast<std::uint8_t>(c.operand.back() | rng.byte());
  }
  return c;
}

// Adds d (+1 or -1) to a big-endian number, wrapping within its width.
void add_be(std::uint8_t* p, std::size_t n, int d) {
  for (std::size_t i = n; i-- > 0;) {
    std::uint8_t before = p[i];
    p[i] = static_cast<std::uint8_t>(p[i] + d);
    if ((d > 0 && before != 0xFF) || (d < 0 && before != 0x00)) return;
  }
}

std::vector<std::size_t> indices_of(const std::vector<GlobCmd>& cmds, bool (*want)(std::uint8_t)) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < cmds.size(); ++i) {
    if (want(cmds[i].op)) out.push_back(i);
  }
  return out;
}

bool command_mutation(GlobMutation kind, std::vector<GlobCmd>& cmds, Rng& rng) {
  const std::size_t n = cmds.size();
  switch (kind) {
    case GlobMutation::InsertCommand: {
      std::size_t at = rng.below(n + 1);
      cmds.insert(cmds.begin() + static_cast<std::ptrdiff_t>(at),
                  random_command(rng, depth_before(cmds, at)));
      return true;
    }
    case GlobMutation::DeleteCommand:
      if (n == 0) return false;
      cmds.erase(cmds.begin() + static_cast<std::ptrdiff_t>(rng.below(n)));
      return true;
    case GlobMutation::DuplicateCommand: {
      if (n == 0) return false;
      std::size_t i = rng.below(n);
      cmds.insert(cmds.begin() + static_cast<std::ptrdiff_t>(i), cmds[i]);
      return true;
    }
    case GlobMutation::SwapCommands: {
      if (n < 2) return false;
      std::size_t i = rng.below(n), j = rng.below(n);
      if (cmds[i] == cmds[j]) return false;
      std::swap(cmds[i], cmds[j]);
      return true;
    }
    case GlobMutation::PushWidth: {
      auto pushes = indices_of(cmds, [](std::uint8_t op) { return op >= 0x01 && op <= 0x06; });
      if (pushes.empty()) return false;
      GlobCmd& c = cmds[pushes[rng.below(pushes.size())]];
      bool wider = c.op == 0x01 || (c.op < 0x06 && rng.one_in(2));
      if (wider) {
        c.op++;
        c.operand.insert(c.operand.begin() + static_cast<std::ptrdiff_t>(rng.below(c.operand.size() + 1)), rng.byte());
      } else {
        c.op--;
        c.operand.erase(c.operand.begin() + static_cast<std::ptrdiff_t>(rng.below(c.operand.size())));
      }
      return true;
    }
    case GlobMutation::RangeEdge: {
      auto ranges = indices_of(cmds, [](std::uint8_t op) { return op == ics::kGlobsetRange; });
      if (ranges.empty()) return false;
      GlobCmd& c = cmds[ranges[rng.below(ranges.size())]];
      std::size_t half = c.operand.size() / 2;
      if (half == 0) return false;
      std::uint8_t* edge = c.operand.data() + (rng.one_in(2) ? 0 : half);
      add_be(edge, half, rng.one_in(2) ? 1 : -1);
      return true;
    }
    case GlobMutation::BitmaskBits: {
      auto masks = indices_of(cmds, [](std::uint8_t op) { return op == ics::kGlobsetBitmask; });
      if (masks.empty()) return false;
      GlobCmd& c = cmds[masks[rng.below(masks.size())]];
      if (c.operand.size() != 2) return false;
      if (rng.one_in(3)) add_be(c.operand.data(), 1, rng.one_in(2) ? 1 : -1);  // the start
      else c.operand[1] = static_cast<std::uint8_t>(c.operand[1] ^ (1u << rng.below(8)));
      return true;
    }
    default:
      return false;
  }
}

// Cuts command i's operand short and drops what follows (End and the tail included).
bool truncate(GlobsetElements& e, Rng& rng) {
  std::vector<std::size_t> with_operand;
  for (std::size_t i = 0; i < e.commands.size(); ++i) {
    if (!e.commands[i].operand.empty()) with_operand.push_back(i);
  }
  if (with_operand.empty()) return false;
  std::size_t i = with_operand[rng.below(with_operand.size())];
  e.commands[i].operand.resize(rng.below(e.commands[i].operand.size()));
  e.commands.resize(i + 1);
  e.complete = false;
  e.tail.clear();
  return true;
}

// Set-level edits through the engine's Globset; false if nothing applies.
bool set_mutation(GlobMutation kind, ics::Globset& s, Rng& rng) {
  const std::vector<ics::GlobRange> rs = s.ranges();
  const ics::Globset before = s;
  if (kind != GlobMutation::SetNewRange && rs.empty()) return false;
  const ics::GlobRange r = rs.empty() ? ics::GlobRange{} : rs[rng.below(rs.size())];
  switch (kind) {
    case GlobMutation::SetEdge:
      switch (rng.below(4)) {
        case 0: if (r.low > 0) (void)s.insert(r.low - 1); break;
        case 1: (void)s.remove(r.low); break;
        case 2: if (r.high < ics::kGlobcntMax) (void)s.insert(r.high + 1); break;
        default: (void)s.remove(r.high); break;
      }
      break;
    case GlobMutation::SetSplit:
      if (r.high - r.low < 2) return false;
      (void)s.remove(r.low + 1 + rng.below(r.high - r.low - 1));
      break;
    case GlobMutation::SetMerge: {
      if (rs.size() < 2) return false;
      std::size_t i = rng.below(rs.size() - 1);
      ics::Globcnt from = rs[i].high + 1, to = rs[i + 1].low - 1;
      if (rng.one_in(2) && to > from) --to;  // leave a one-value gap
      (void)s.insert(from, to);
      break;
    }
    case GlobMutation::SetNewRange: {
      static constexpr ics::Globcnt kNear[] = {0, 0xFF, 0x100, 0xFFFF, 0x10000, 0xFFFFFF,
                                               0xFFFFFFFFFF, ics::kGlobcntMax};
      static constexpr std::int64_t kDelta[] = {-2, -1, 1, 2, 3, -256, 256, 65536};
      ics::Globcnt base = rs.empty() || rng.one_in(4) ? rng.pick(kNear)
                                                       : (rng.one_in(2) ? r.low : r.high);
      ics::Globcnt low = (base + static_cast<ics::Globcnt>(rng.pick(kDelta))) & ics::kGlobcntMax;
      ics::Globcnt len = rng.one_in(2) ? 0 : rng.below(rng.one_in(4) ? 600 : 8);
      ics::Globcnt high = std::min(ics::kGlobcntMax, low + len);
      (void)s.insert(low, high);
      break;
    }
    case GlobMutation::SetDeleteRange:
      (void)s.remove(r.low, r.high);
      break;
    default:
      return false;
  }
  return !(s == before);
}

bool is_set_level(GlobMutation kind) { return kind >= GlobMutation::SetEdge; }

}  // namespace

GlobsetElements split_globset(ics::ByteView b) {
  GlobsetElements e;
  e.commands.reserve(command_count(b));
  ics::Reader r(b);
  Depth depth;
  while (!r.empty()) {
    const std::size_t at = r.offset();
    std::uint8_t op = 0;
    (void)r.peek_u8(op);
    std::size_t n = 0;
    ics::ByteView operand;
    if (!operand_size(op, depth.depth(), n) || !r.skip(1) ||
        !r.read_bytes(n, operand)) {
      e.tail.assign(b.begin() + static_cast<std::ptrdiff_t>(at), b.end());
      return e;
    }
    e.commands.push_back({op, GlobOperand(operand)});
    depth.step(op);
    if (op == ics::kGlobsetEnd) {
      e.complete = true;
      e.tail.assign(r.rest().begin(), r.rest().end());
      return e;
    }
  }
  return e;
}

ics::Bytes join_globset(const GlobsetElements& e) {
  std::size_t size = e.tail.size();
  for (const GlobCmd& c : e.commands) size += 1 + c.operand.size();
  ics::Writer w;
  w.reserve(size);
  for (const GlobCmd& c : e.commands) {
    w.put_u8(c.op);
    w.put_bytes(ics::ByteView(c.operand.data(), c.operand.size()));
  }
  w.put_bytes(e.tail);
  return w.take();
}

bool mutate_globset(GlobMutation kind, ics::Bytes& bytes, Rng& rng) {
  if (is_set_level(kind)) {
    ics::Reader r{ics::ByteView(bytes)};
    ics::Result<ics::Globset> s = ics::decode_globset(r);
    if (!s.ok() || !set_mutation(kind, *s, rng)) return false;
    ics::Writer w;
    ics::encode_globset(*s, w);
    w.put_bytes(r.rest());
    bytes = w.take();
    return true;
  }
  GlobsetElements e = split_globset(ics::ByteView(bytes));
  if (kind == GlobMutation::Truncate ? !truncate(e, rng) : !command_mutation(kind, e.commands, rng)) {
    return false;
  }
  bytes = join_globset(e);
  return true;
}

bool mutate_globset(ics::Bytes& bytes, Rng& rng) {
  const auto kinds = static_cast<std::uint64_t>(GlobMutation::kCount);
  for (int attempt = 0; attempt < 8; ++attempt) {
    ics::Bytes copy = bytes;
    if (mutate_globset(static_cast<GlobMutation>(rng.below(kinds)), copy, rng) && copy != bytes) {
      bytes = std::move(copy);
      return true;
    }
  }
  return false;
}

// ---- IDSET ----------------------------------------------------------------------------------

namespace {

std::size_t key_size(bool guid_form) { return guid_form ? 16 : 2; }

ics::Bytes guid_key(ics::Replid replid) {
  ics::Guid g = ics::Guid::from_seed(0x1D5E7000u + replid);
  return ics::Bytes(g.bytes.begin(), g.bytes.end());
}

ics::Bytes small_globset(Rng& rng) {
  ics::Globset s;
  std::size_t ranges = 1 + rng.below(3);
  ics::Globcnt at = rng.one_in(2) ? 1 + rng.below(64) : rng.bits() & ics::kGlobcntMax;
  for (std::size_t i = 0; i < ranges && at < ics::kGlobcntMax - 1024; ++i) {
    ics::Globcnt len = rng.below(rng.one_in(3) ? 300 : 4);
    (void)s.insert(at, at + len);
    at += len + 2 + rng.below(rng.one_in(2) ? 3 : 400);
  }
  return ics::encode_globset(s);
}

ics::Bytes random_key(Rng& rng, bool guid_form, const std::vector<IdsetPair>& pairs) {
  if (!pairs.empty() && rng.one_in(2)) {
    ics::Bytes k = pairs[rng.below(pairs.size())].key;
    add_be(k.data() + k.size() - 1, 1, 1);  // its neighbour (low byte first on the wire)
    return k;
  }
  auto replid = static_cast<ics::Replid>(rng.one_in(2) ? 1 + rng.below(8) : rng.bits());
  if (guid_form) return guid_key(replid);
  return {static_cast<std::uint8_t>(replid), static_cast<std::uint8_t>(replid >> 8)};
}

// Both forms through the engine: decode, map with a ReplicaMap, encode.
bool swap_form_decoded(ics::Bytes& body, bool guid_form) {
  if (!guid_form) {
    ics::Result<ics::IdSet> s = ics::decode_replid_idset(ics::ByteView(body));
    if (!s.ok()) return false;
    ics::ReplicaMap map;
    for (const auto& [replid, set] : s->replicas()) {
      ics::Bytes k = guid_key(replid);
      ics::Guid g;
      std::copy(k.begin(), k.end(), g.bytes.begin());
      if (!map.add(replid, g).ok()) return false;
    }
    ics::Result<ics::GuidIdSet> g = ics::to_replguid(*s, map);
    if (!g.ok()) return false;
    body = ics::encode_idset(*g);
    return true;
  }
  ics::Result<ics::GuidIdSet> s = ics::decode_replguid_idset(ics::ByteView(body));
  if (!s.ok()) return false;
  ics::ReplicaMap map;
  ics::Result<ics::IdSet> r = ics::to_replid(*s, map);
  if (!r.ok()) return false;
  body = ics::encode_idset(*r);
  return true;
}

// Key by key, for bodies that do not decode: REPLID -> its GUID, GUID -> its first two bytes.
void swap_form_raw(IdsetElements& e, bool guid_form) {
  for (IdsetPair& p : e.pairs) {
    if (guid_form) {
      p.key.resize(2);
    } else {
      p.key = guid_key(static_cast<ics::Replid>(p.key[0] | p.key[1] << 8));
    }
  }
}

bool pair_mutation(IdsetMutation kind, IdsetElements& e, bool guid_form, Rng& rng) {
  auto& ps = e.pairs;
  const std::size_t n = ps.size();
  switch (kind) {
    case IdsetMutation::InsertPair: {
      IdsetPair p{random_key(rng, guid_form, ps),
                  n != 0 && rng.one_in(3) ? ps[rng.below(n)].globset : small_globset(rng)};
      ps.insert(ps.begin() + static_cast<std::ptrdiff_t>(rng.below(n + 1)), std::move(p));
      return true;
    }
    case IdsetMutation::DeletePair:
      if (n == 0) return false;
      ps.erase(ps.begin() + static_cast<std::ptrdiff_t>(rng.below(n)));
      return true;
    case IdsetMutation::DuplicatePair: {
      if (n == 0) return false;
      std::size_t i = rng.below(n);
      ps.insert(ps.begin() + static_cast<std::ptrdiff_t>(rng.below(n + 1)), ps[i]);
      return true;
    }
    case IdsetMutation::SwapPairs: {
      if (n < 2) return false;
      std::size_t i = rng.below(n), j = rng.below(n);
      if (ps[i] == ps[j]) return false;
      std::swap(ps[i], ps[j]);
      return true;
    }
    case IdsetMutation::KeyEdge: {
      if (n == 0) return false;
      ics::Bytes& k = ps[rng.below(n)].key;
      std::size_t at = guid_form ? rng.below(k.size()) : 0;
      int d = rng.one_in(2) ? 1 : -1;
      if (guid_form) {
        add_be(k.data() + at, 1, d);
      } else {  // little-endian REPLID: carry upwards
        auto v = static_cast<std::uint16_t>((k[0] | k[1] << 8) + d);
        k = {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8)};
      }
      return true;
    }
    case IdsetMutation::RepeatKey: {
      if (n < 2) return false;
      std::size_t i = rng.below(n), j = rng.below(n);
      if (ps[i].key == ps[j].key) return false;
      ps[j].key = ps[i].key;
      return true;
    }
    case IdsetMutation::PairGlobset:
      if (n == 0) return false;
      return mutate_globset(ps[rng.below(n)].globset, rng);
    default:
      return false;
  }
}

}  // namespace

IdsetElements split_idset(ics::ByteView body, bool guid_form) {
  IdsetElements e;
  std::size_t at = 0;
  while (at < body.size()) {
    ics::ByteView rest = body.subspan(at);
    if (rest.size() <= key_size(guid_form)) break;
    ics::ByteView after_key = rest.subspan(key_size(guid_form));
    const std::size_t glob_size = globset_length(after_key);
    if (glob_size == 0) break;
    e.pairs.push_back({ics::Bytes(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(key_size(guid_form))),
                       ics::Bytes(after_key.begin(), after_key.begin() + static_cast<std::ptrdiff_t>(glob_size))});
    at += key_size(guid_form) + glob_size;
  }
  e.tail.assign(body.begin() + static_cast<std::ptrdiff_t>(at), body.end());
  return e;
}

ics::Bytes join_idset(const IdsetElements& e) {
  ics::Writer w;
  for (const IdsetPair& p : e.pairs) {
    w.put_bytes(p.key);
    w.put_bytes(p.globset);
  }
  w.put_bytes(e.tail);
  return w.take();
}

bool mutate_idset(IdsetMutation kind, ics::Bytes& body, bool& guid_form, Rng& rng) {
  if (kind == IdsetMutation::SwapForm) {
    if (!swap_form_decoded(body, guid_form)) {
      IdsetElements e = split_idset(ics::ByteView(body), guid_form);
      swap_form_raw(e, guid_form);
      body = join_idset(e);
    }
    guid_form = !guid_form;
    return true;
  }
  IdsetElements e = split_idset(ics::ByteView(body), guid_form);
  if (!pair_mutation(kind, e, guid_form, rng)) return false;
  body = join_idset(e);
  return true;
}

bool mutate_idset(ics::Bytes& body, bool& guid_form, Rng& rng) {
  const auto kinds = static_cast<std::uint64_t>(IdsetMutation::kCount);
  // A kind that does not apply leaves the pairs as they were, so they are cut again only
  // after an edit that wrote the same bytes back.
  IdsetElements e = split_idset(ics::ByteView(body), guid_form);
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto kind = static_cast<IdsetMutation>(rng.below(kinds));
    if (kind == IdsetMutation::SwapForm) {
      bool form = guid_form;
      (void)mutate_idset(kind, body, form, rng);
      guid_form = form;
      return true;
    }
    if (!pair_mutation(kind, e, guid_form, rng)) continue;
    ics::Bytes out = join_idset(e);
    if (out == body) {
      e = split_idset(ics::ByteView(body), guid_form);
      continue;
    }
    body = std::move(out);
    return true;
  }
  return false;
}

// ---- libFuzzer entry points ----------------------------------------------------------------

std::size_t globset_custom_mutate(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                  unsigned seed, ByteMutator bytes) {
  Rng rng(seed);
  return with_fallback(data, size, max_size, rng, bytes, [&]() -> std::size_t {
    ics::Bytes b(data, data + size);
    if (!mutate_globset(b, rng)) return 0;
    return emit(b, data, max_size);
  });
}

std::size_t globset_custom_crossover(const std::uint8_t* a, std::size_t a_size,
                                     const std::uint8_t* b, std::size_t b_size, std::uint8_t* out,
                                     std::size_t max_out, unsigned seed) {
  Rng rng(seed);
  if (!rng.one_in(kCrossOverOneIn)) return 0;  // libFuzzer then mutates instead
  ics::ByteView va(a, a_size), vb(b, b_size);
  if (rng.one_in(2)) {  // set algebra on two decoded sets
    ics::Result<ics::Globset> sa = ics::decode_globset(va), sb = ics::decode_globset(vb);
    if (sa.ok() && sb.ok()) {
      ics::Globset s = rng.one_in(3) ? ics::unite(*sa, *sb)
                       : rng.one_in(2) ? ics::intersect(*sa, *sb) : ics::difference(*sa, *sb);
      return emit(ics::encode_globset(s), out, max_out);
    }
  }
  GlobsetElements ea = split_globset(va), eb = split_globset(vb);  // commands of a, then of b
  std::size_t i = rng.below(ea.commands.size() + 1), j = rng.below(eb.commands.size() + 1);
  GlobsetElements c;
  c.commands.assign(ea.commands.begin(), ea.commands.begin() + static_cast<std::ptrdiff_t>(i));
  c.commands.insert(c.commands.end(), eb.commands.begin() + static_cast<std::ptrdiff_t>(j), eb.commands.end());
  c.tail = eb.tail;
  return emit(join_globset(c), out, max_out);
}

std::size_t idset_custom_mutate(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                unsigned seed, ByteMutator bytes) {
  Rng rng(seed);
  return with_fallback(data, size, max_size, rng, bytes, [&]() -> std::size_t {
    std::uint8_t head = size == 0 ? 0 : data[0];
    if (rng.one_in(16)) {  // the replica-map capacity (bits 1-3)
      head = static_cast<std::uint8_t>((head & ~0x0E) | rng.below(8) << 1);
      if (size == 0 || head == data[0]) return 0;
      data[0] = head;
      return size;
    }
    bool guid_form = (head & 1) != 0;
    ics::Bytes body(data + (size == 0 ? 0 : 1), data + size);
    if (!mutate_idset(body, guid_form, rng)) return 0;
    body.insert(body.begin(), static_cast<std::uint8_t>((head & ~1) | (guid_form ? 1 : 0)));
    return emit(body, data, max_size);
  });
}

std::size_t idset_custom_crossover(const std::uint8_t* a, std::size_t a_size,
                                   const std::uint8_t* b, std::size_t b_size, std::uint8_t* out,
                                   std::size_t max_out, unsigned seed) {
  if (a_size == 0 || b_size == 0) return 0;
  Rng rng(seed);
  if (!rng.one_in(kCrossOverOneIn)) return 0;  // libFuzzer then mutates instead
  bool guid_form = (a[0] & 1) != 0;
  if ((b[0] & 1) != (a[0] & 1)) return 0;  // pairs of one form only
  IdsetElements ea = split_idset(ics::ByteView(a + 1, a_size - 1), guid_form);
  IdsetElements eb = split_idset(ics::ByteView(b + 1, b_size - 1), guid_form);
  std::size_t i = rng.below(ea.pairs.size() + 1), j = rng.below(eb.pairs.size() + 1);
  IdsetElements c;
  c.pairs.assign(ea.pairs.begin(), ea.pairs.begin() + static_cast<std::ptrdiff_t>(i));
  c.pairs.insert(c.pairs.end(), eb.pairs.begin() + static_cast<std::ptrdiff_t>(j), eb.pairs.end());
  c.tail = eb.tail;
  ics::Bytes body = join_idset(c);
  body.insert(body.begin(), a[0]);
  return emit(body, out, max_out);
}

}  // namespace ics_fuzz
