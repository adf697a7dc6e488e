#include "mutate/script_mutator.h"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <string_view>
#include <utility>

#include "mutate/set_mutator.h"
#include "script/tape_codec.h"

namespace ics_fuzz {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::size_t kMaxContinue = 96;  // state_upload's continue takes 0..96 bytes

std::ptrdiff_t at(std::size_t i) { return static_cast<std::ptrdiff_t>(i); }

std::size_t finish_index(const Tape& t) { return t.finished && !t.ops.empty() ? t.ops.size() - 1 : t.ops.size(); }

// Where loop ops go: after the setup ops, before "finish".
std::size_t loop_begin(const Tape& t) {
  for (std::size_t i = 0; i < t.ops.size(); ++i) {
    if (t.ops[i].has_code) return i;
  }
  return finish_index(t);
}

bool is(const TapeOp& op, std::string_view name) { return op.name == name; }

// The byte run read right after an integer that asked for exactly its length.
bool length_of_next(const TapeOp& op, std::size_t i) {
  return i + 1 < op.reads.size() && op.reads[i].kind == TapeRead::Kind::Int &&
         op.reads[i + 1].kind == TapeRead::Kind::Bytes && op.reads[i + 1].want == op.reads[i].min + op.reads[i].off;
}

void resize_run(TapeRead& run, std::size_t n, Rng& rng) {
  while (run.raw.size() < n) run.raw.push_back(rng.byte());
  run.raw.resize(n);
  run.want = n;
}

std::uint64_t new_int(const TapeRead& r, Rng& rng) {
  switch (rng.below(5)) {
    case 0: return r.off == r.span ? 0 : r.off + 1;
    case 1: return r.off == 0 ? r.span : r.off - 1;
    case 2: return rng.one_in(2) ? 0 : r.span;
    case 3: return rng.below(std::min<std::uint64_t>(r.span, 16) + 1);  // small values
    default: return r.span == ~std::uint64_t{0} ? rng.bits() : rng.below(r.span + 1);
  }
}

// A string ConsumeRandomLengthString(max) returns, without backslashes, with its end mark
// unless it is max long.
void set_text(TapeRead& r, const std::string& s) {
  r.raw.assign(s.begin(), s.end());
  if (s.size() < r.want) {
    r.raw.push_back('\\');
    r.raw.push_back('x');
  }
}

std::string text_of(const TapeRead& r) {
  std::string s;
  for (std::size_t i = 0; i < r.raw.size(); ++i) {
    if (r.raw[i] == '\\') {
      if (i + 1 < r.raw.size() && r.raw[i + 1] == '\\') {
        s += '\\';
        ++i;
        continue;
      }
      break;
    }
    s += static_cast<char>(r.raw[i]);
  }
  return s;
}

bool edit_text(TapeRead& r, Rng& rng) {
  std::string s = text_of(r);
  auto clean = [&rng] {
    char c = static_cast<char>(rng.byte());
    return c == '\\' ? 'a' : c;
  };
  switch (rng.below(4)) {
    case 0:
      if (s.empty()) return false;
      s[rng.below(s.size())] = clean();
      break;
    case 1:
      if (s.size() >= r.want) return false;
      s.insert(s.begin() + at(rng.below(s.size() + 1)), clean());
      break;
    case 2:
      if (s.empty()) return false;
      s.resize(rng.below(s.size()));
      break;
    default: s.assign(rng.below(r.want + 1), 'a' + static_cast<char>(rng.below(26))); break;
  }
  s.resize(std::min(s.size(), r.want));
  const Bytes before = r.raw;
  set_text(r, s);
  return r.raw != before;
}

// One operand of one op (any op, setup included).
bool edit_operand(Tape& t, Rng& rng) {
  std::vector<std::pair<std::size_t, std::size_t>> slots;
  for (std::size_t i = 0; i < t.ops.size(); ++i) {
    for (std::size_t j = 0; j < t.ops[i].reads.size(); ++j) {
      if (t.ops[i].reads[j].kind != TapeRead::Kind::Bytes) slots.emplace_back(i, j);
    }
  }
  if (slots.empty()) return false;
  auto [i, j] = slots[rng.below(slots.size())];
  TapeOp& op = t.ops[i];
  TapeRead& r = op.reads[j];
  if (r.kind == TapeRead::Kind::Text) return edit_text(r, rng);
  const bool linked = length_of_next(op, j);
  const std::uint64_t off = r.kind == TapeRead::Kind::Bool ? r.off ^ 1 : new_int(r, rng);
  if (off == r.off) return false;
  set_int(r, off);
  if (linked) resize_run(op.reads[j + 1], static_cast<std::size_t>(r.min + off), rng);
  return true;
}

// One byte run: a byte, a bit, or its length (with the integer that asked for it).
bool edit_payload(Tape& t, Rng& rng) {
  std::vector<std::pair<std::size_t, std::size_t>> runs;
  for (std::size_t i = 0; i < t.ops.size(); ++i) {
    for (std::size_t j = 0; j < t.ops[i].reads.size(); ++j) {
      if (t.ops[i].reads[j].kind == TapeRead::Kind::Bytes) runs.emplace_back(i, j);
    }
  }
  if (runs.empty()) return false;
  auto [i, j] = runs[rng.below(runs.size())];
  TapeOp& op = t.ops[i];
  TapeRead& run = op.reads[j];
  TapeRead* len = j > 0 && length_of_next(op, j - 1) ? &op.reads[j - 1] : nullptr;
  Bytes& b = run.raw;
  const std::size_t kind = rng.below(len ? 6 : 2);
  if (kind < 2) {
    if (b.empty()) return false;
    const std::size_t k = rng.below(b.size());
    const std::uint8_t before = b[k];
    b[k] = kind == 0 ? static_cast<std::uint8_t>(b[k] ^ (1u << rng.below(8))) : rng.byte();
    return b[k] != before;
  }
  Bytes grown = b;
  switch (kind) {
    case 2: grown.insert(grown.begin() + at(rng.below(b.size() + 1)), rng.byte()); break;
    case 3:
      if (b.empty()) return false;
      grown.erase(grown.begin() + at(rng.below(b.size())));
      break;
    case 4: grown.resize(rng.below(b.size() + 1)); break;
    default:
      for (std::size_t n = 1 + rng.below(8); n > 0; --n) grown.push_back(rng.byte());
      break;
  }
  const std::uint64_t n = grown.size();
  if (n < len->min || n - len->min > len->span || grown == b) return false;
  set_int(*len, n - len->min);
  b = std::move(grown);
  run.want = b.size();
  return true;
}

// Ops of another kind seen in this script: (code, operands) to give a retyped op.
bool retype(Tape& t, const ScriptTraits& traits, Rng& rng) {
  const std::vector<std::size_t> loop = loop_ops(t);
  if (loop.size() < 2) return false;
  TapeOp& op = t.ops[loop[rng.below(loop.size())]];
  std::vector<std::size_t> other;
  for (std::size_t k : loop) {
    if (t.ops[k].name != op.name) other.push_back(k);
  }
  if (other.empty()) return false;
  const TapeOp& from = t.ops[other[rng.below(other.size())]];
  op.name = from.name;
  op.reads = from.reads;
  // Another byte of the same slot now and then (the op byte is taken modulo the slots).
  op.code = static_cast<std::uint8_t>(from.code % traits.slots + traits.slots * rng.below(256 / traits.slots));
  return true;
}

bool op_level(ScriptEdit e, Tape& t, const ScriptTraits& traits, Rng& rng) {
  const std::vector<std::size_t> loop = loop_ops(t);
  const std::size_t n = loop.size();
  if (n == 0) return false;
  const std::size_t i = loop[rng.below(n)], j = loop[rng.below(n)];
  switch (e) {
    case ScriptEdit::DeleteOp: t.ops.erase(t.ops.begin() + at(i)); return true;
    case ScriptEdit::DuplicateOp: {
      if (n >= traits.max_steps) return false;
      const TapeOp copy = t.ops[i];
      const std::size_t to = loop_begin(t) + rng.below(n + 1);
      t.ops.insert(t.ops.begin() + at(to), copy);
      return true;
    }
    case ScriptEdit::SwapOps:
      if (t.ops[i] == t.ops[j]) return false;
      std::swap(t.ops[i], t.ops[j]);
      return true;
    case ScriptEdit::MoveOp: {
      if (i == j) return false;
      TapeOp op = std::move(t.ops[i]);
      t.ops.erase(t.ops.begin() + at(i));
      t.ops.insert(t.ops.begin() + at(j), std::move(op));
      return true;
    }
    default: return false;
  }
}

// ---- state_upload: the value of a begin / continue ... / end upload ----

struct Upload {
  std::size_t begin;                // the begin op
  std::vector<std::size_t> pieces;  // its continue ops
};

bool is_begin(const TapeOp& op) { return is(op, "begin") || is(op, "begin_any_size"); }

std::vector<Upload> uploads(const Tape& t) {
  std::vector<Upload> out;
  bool open = false;
  for (std::size_t i = 0; i < t.ops.size(); ++i) {
    const TapeOp& op = t.ops[i];
    if (is_begin(op) && op.reads.size() == 2) {
      out.push_back({i, {}});
      open = true;
    } else if (is(op, "end") || is(op, "valid_property") || is(op, "finish")) {
      open = false;
    } else if (open && is(op, "continue") && op.reads.size() >= 2 && length_of_next(op, 0)) {
      out.back().pieces.push_back(i);
    }
  }
  std::erase_if(out, [](const Upload& u) { return u.pieces.empty(); });
  return out;
}

// A continue op's split points: (reads, whether they covered the whole piece).
std::pair<std::size_t, bool> splits_of(const TapeOp& op) {
  std::size_t pos = 0, k = 0;
  for (std::size_t r = 2; r < op.reads.size(); ++r, ++k) {
    pos += static_cast<std::size_t>(op.reads[r].min + op.reads[r].off);
  }
  return {k, pos >= op.reads[1].raw.size()};
}

// Rewrites a continue op to send `piece`, in random split points: all of them when the op's
// split points covered its piece, else as many as it had (the engine refused the piece there).
void write_continue(TapeOp& op, const Bytes& piece, Rng& rng) {
  const auto [count, whole] = splits_of(op);
  op.reads.resize(2);
  set_int(op.reads[0], piece.size());
  op.reads[1].raw = piece;
  op.reads[1].want = piece.size();
  std::size_t pos = 0;
  for (std::size_t k = 0; pos < piece.size() && (whole || k < count); ++k) {
    const std::size_t left = piece.size() - pos;
    const std::size_t step = rng.one_in(2) ? left : 1 + rng.below(left);
    op.reads.push_back(make_int(1, left - 1, step - 1));
    pos += step;
  }
}

Bytes value_of(const Tape& t, const Upload& u) {
  Bytes v;
  for (std::size_t k : u.pieces) v.insert(v.end(), t.ops[k].reads[1].raw.begin(), t.ops[k].reads[1].raw.end());
  return v;
}

// Cuts v over the upload's continue ops (each at most kMaxContinue bytes; false if it cannot).
bool spread(Tape& t, const Upload& u, const Bytes& v, Rng& rng) {
  const std::size_t n = u.pieces.size();
  if (v.size() > n * kMaxContinue) return false;
  std::vector<std::size_t> len(n, 0);
  std::size_t left = v.size();
  for (std::size_t k = 0; k < n; ++k) {  // random cuts, then the rest to whichever has room
    const std::size_t take = k + 1 == n ? left : std::min(left, rng.below(std::min(left, kMaxContinue) + 1));
    len[k] = std::min(take, kMaxContinue);
    left -= len[k];
  }
  for (std::size_t k = 0; left > 0 && k < n; ++k) {
    const std::size_t more = std::min(left, kMaxContinue - len[k]);
    len[k] += more;
    left -= more;
  }
  std::size_t pos = 0;
  for (std::size_t k = 0; k < n; ++k) {
    write_continue(t.ops[u.pieces[k]], Bytes(v.begin() + at(pos), v.begin() + at(pos + len[k])), rng);
    pos += len[k];
  }
  return true;
}

bool stream_value(Tape& t, Rng& rng) {
  std::vector<Upload> ups = uploads(t);
  if (ups.empty()) return false;
  const Upload u = ups[rng.below(ups.size())];
  const Bytes was = value_of(t, u);
  Bytes v = was;
  bool guid_form = true;  // the state properties are REPLGUID-form IDSETs
  const bool changed = rng.one_in(8) ? mutate_globset(v, rng) : mutate_idset(v, guid_form, rng);
  if (!changed || v == was || !spread(t, u, v, rng)) return false;
  TapeRead& size = t.ops[u.begin].reads[1];
  if (!rng.one_in(4) && v.size() <= size.span) set_int(size, v.size());
  return true;
}

bool resplit(Tape& t, Rng& rng) {
  std::vector<Upload> ups = uploads(t);
  if (ups.empty()) return false;
  const Upload u = ups[rng.below(ups.size())];
  const std::size_t n = u.pieces.size();
  const std::size_t choice = rng.below(3);
  if (choice == 0 && n >= 2) {  // a boundary between two calls moves
    const std::size_t k = rng.below(n - 1);
    TapeOp& a = t.ops[u.pieces[k]];
    TapeOp& b = t.ops[u.pieces[k + 1]];
    Bytes both = a.reads[1].raw;
    both.insert(both.end(), b.reads[1].raw.begin(), b.reads[1].raw.end());
    const std::size_t lo = both.size() > kMaxContinue ? both.size() - kMaxContinue : 0;
    const std::size_t cut = lo + rng.below(std::min(both.size(), kMaxContinue) - lo + 1);
    if (cut == a.reads[1].raw.size()) return false;
    write_continue(a, Bytes(both.begin(), both.begin() + at(cut)), rng);
    write_continue(b, Bytes(both.begin() + at(cut), both.end()), rng);
    return true;
  }
  if (choice == 1) {  // one call in two, or two in one
    const std::size_t k = rng.below(n);
    TapeOp& a = t.ops[u.pieces[k]];
    const Bytes piece = a.reads[1].raw;
    if (n >= 2 && k + 1 < n && rng.one_in(2)) {
      Bytes both = piece;
      const Bytes& next = t.ops[u.pieces[k + 1]].reads[1].raw;
      both.insert(both.end(), next.begin(), next.end());
      if (both.size() > kMaxContinue) return false;
      write_continue(a, both, rng);
      t.ops.erase(t.ops.begin() + at(u.pieces[k + 1]));
      return true;
    }
    if (piece.size() < 2) return false;
    const std::size_t cut = 1 + rng.below(piece.size() - 1);
    TapeOp second = a;
    write_continue(a, Bytes(piece.begin(), piece.begin() + at(cut)), rng);
    write_continue(second, Bytes(piece.begin() + at(cut), piece.end()), rng);
    t.ops.insert(t.ops.begin() + at(u.pieces[k] + 1), std::move(second));
    return true;
  }
  TapeOp& a = t.ops[u.pieces[rng.below(n)]];  // new split points in one call
  if (a.reads[1].raw.size() < 2) return false;
  const std::vector<TapeRead> before = a.reads;
  write_continue(a, Bytes(a.reads[1].raw), rng);
  return a.reads != before;
}

// A new loop op: a copy of one in the script (its kind and the shape of its operands), every
// value drawn again (a byte run's length with the integer that asks for it; a state_upload
// continue call a new piece, split again).
void fresh_value(TapeRead& r, Rng& rng) {
  switch (r.kind) {
    case TapeRead::Kind::Int: {
      const bool full = r.span == ~std::uint64_t{0};
      set_int(r, rng.one_in(4) ? new_int(r, rng) : (full ? rng.bits() : rng.below(r.span + 1)));
      break;
    }
    case TapeRead::Kind::Bool: set_int(r, rng.below(2)); break;
    case TapeRead::Kind::Text: {
      std::string s(rng.below(r.want + 1), 'a');
      for (char& c : s) c = static_cast<char>('a' + rng.below(26));
      set_text(r, s);
      break;
    }
    case TapeRead::Kind::Bytes:
      for (std::uint8_t& b : r.raw) b = rng.byte();
      break;
  }
}

bool insert_fresh(Tape& t, const ScriptTraits& traits, Rng& rng) {
  const std::vector<std::size_t> loop = loop_ops(t);
  if (loop.empty() || loop.size() >= traits.max_steps) return false;
  TapeOp op = t.ops[loop[rng.below(loop.size())]];
  if (traits.state_stream && is(op, "continue") && op.reads.size() >= 2 && length_of_next(op, 0)) {
    Bytes piece(rng.below(kMaxContinue + 1));
    for (std::uint8_t& b : piece) b = rng.byte();
    write_continue(op, piece, rng);
  } else {
    for (std::size_t j = 0; j < op.reads.size(); ++j) {
      const bool linked = length_of_next(op, j);
      fresh_value(op.reads[j], rng);
      if (linked) {
        resize_run(op.reads[j + 1], static_cast<std::size_t>(op.reads[j].min + op.reads[j].off), rng);
        fresh_value(op.reads[j + 1], rng);
        ++j;
      }
    }
  }
  op.code = static_cast<std::uint8_t>(op.code % traits.slots + traits.slots * rng.below(256 / traits.slots));
  t.ops.insert(t.ops.begin() + at(loop_begin(t) + rng.below(loop.size() + 1)), std::move(op));
  return true;
}

// ---- sync_session: the number of replicas ----

bool picks_replica(const TapeOp& op) { return op.has_code && !is(op, "server_changes"); }

// One replica more (a copy of one, last) or one fewer (its ops go with it); the picks of the
// others keep naming the same replicas.
bool replicas(Tape& t, Rng& rng) {
  if (t.ops.empty() || t.ops[0].reads.empty()) return false;
  TapeRead& count = t.ops[0].reads.back();  // setup: seed, messages, replicas 1..3
  const std::size_t n = static_cast<std::size_t>(count.min + count.off);
  const std::uint64_t least = count.min;
  std::vector<std::size_t> reps;
  for (std::size_t i = 0; i < t.ops.size(); ++i) {
    if (is(t.ops[i], "replica")) reps.push_back(i);
  }
  if (reps.size() != n || n == 0) return false;
  const std::size_t m = n == 1 ? 2 : (n - count.min == count.span || rng.one_in(2) ? n - 1 : n + 1);
  const std::size_t gone = m < n ? rng.below(n) : n;  // the replica removed, if one is
  std::vector<TapeOp> ops;
  for (std::size_t i = 0; i < t.ops.size(); ++i) {
    TapeOp op = t.ops[i];
    if (is(op, "replica")) {
      const std::size_t index = static_cast<std::size_t>(std::find(reps.begin(), reps.end(), i) - reps.begin());
      if (index == gone) continue;
      ops.push_back(op);
      if (m > n && index + 1 == n) ops.push_back(t.ops[reps[rng.below(n)]]);
      continue;
    }
    if (picks_replica(op)) {
      if (n > 1 && op.reads.empty()) return false;
      std::uint64_t pick = n > 1 ? op.reads.front().off : 0;
      if (pick == gone) continue;  // an op of the replica removed
      if (gone < n && pick > gone) --pick;
      if (n > 1) op.reads.erase(op.reads.begin());
      if (m > 1) op.reads.insert(op.reads.begin(), make_int(0, m - 1, pick));
    }
    ops.push_back(std::move(op));
  }
  t.ops = std::move(ops);
  set_int(t.ops[0].reads.back(), m - least);
  return true;
}

}  // namespace

std::string_view edit_name(ScriptEdit e) {
  switch (e) {
    case ScriptEdit::InsertOp: return "insert_op";
    case ScriptEdit::DeleteOp: return "delete_op";
    case ScriptEdit::DuplicateOp: return "duplicate_op";
    case ScriptEdit::SwapOps: return "swap_ops";
    case ScriptEdit::MoveOp: return "move_op";
    case ScriptEdit::RetypeOp: return "retype_op";
    case ScriptEdit::Operand: return "operand";
    case ScriptEdit::Payload: return "payload";
    case ScriptEdit::StreamValue: return "stream_value";
    case ScriptEdit::Resplit: return "resplit";
    case ScriptEdit::Replicas: return "replicas";
    case ScriptEdit::kCount: break;
  }
  return "?";
}

std::vector<std::size_t> loop_ops(const Tape& tape) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < tape.ops.size(); ++i) {
    if (tape.ops[i].has_code) out.push_back(i);
  }
  return out;
}

std::vector<std::string> op_names(const Tape& tape) {
  std::vector<std::string> out;
  out.reserve(tape.ops.size());
  for (const TapeOp& op : tape.ops) out.push_back(op.name);
  return out;
}

bool edit_script(ScriptEdit e, Tape& tape, const ScriptTraits& traits, Rng& rng) {
  Tape t = tape;
  bool done = false;
  switch (e) {
    case ScriptEdit::DeleteOp:
    case ScriptEdit::DuplicateOp:
    case ScriptEdit::SwapOps:
    case ScriptEdit::MoveOp: done = op_level(e, t, traits, rng); break;
    case ScriptEdit::InsertOp: done = insert_fresh(t, traits, rng); break;
    case ScriptEdit::RetypeOp: done = retype(t, traits, rng); break;
    case ScriptEdit::Operand: done = edit_operand(t, rng); break;
    case ScriptEdit::Payload: done = edit_payload(t, rng); break;
    case ScriptEdit::StreamValue: done = traits.state_stream && stream_value(t, rng); break;
    case ScriptEdit::Resplit: done = traits.state_stream && resplit(t, rng); break;
    case ScriptEdit::Replicas: done = traits.replica_picks && replicas(t, rng); break;
    case ScriptEdit::kCount: break;
  }
  if (!done || loop_ops(t).size() > traits.max_steps) return false;
  settle(t, traits);
  tape = std::move(t);
  return true;
}

void settle(Tape& tape, const ScriptTraits& traits) {
  for (TapeOp& op : tape.ops) {
    for (TapeRead& r : op.reads) {
      if (r.back() && r.raw.size() < int_width(r.span)) set_int(r, r.off);
      if (r.kind == TapeRead::Kind::Bytes && r.raw.size() < r.want) r.raw.resize(r.want, 0);
    }
  }
  if (loop_ops(tape).size() < traits.max_steps) tape.rest.clear();
}

namespace {

// One of the edits a target's traits allow, each as likely as the others.
ScriptEdit pick_edit(const ScriptTraits& traits, Rng& rng) {
  for (;;) {
    const auto e = static_cast<ScriptEdit>(rng.below(static_cast<std::uint64_t>(ScriptEdit::kCount)));
    if ((e == ScriptEdit::StreamValue || e == ScriptEdit::Resplit) && !traits.state_stream) continue;
    if (e == ScriptEdit::Replicas && !traits.replica_picks) continue;
    return e;
  }
}

}  // namespace

std::size_t script_custom_mutate(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                 unsigned seed, ByteMutator bytes, ScriptDecoder decode,
                                 const ScriptTraits& traits) {
  Rng rng(seed);
  return with_fallback(data, size, max_size, rng, bytes, [&]() -> std::size_t {
    Tape t = decode(data, size);
    if (!t.finished) return 0;
    // One to three edits (one decode serves them all), each retried up to four times.
    const std::uint64_t edits = 1 + rng.below(3);
    std::uint64_t done = 0;
    for (int attempt = 0; attempt < 12 && done < edits; ++attempt) {
      done += edit_script(pick_edit(traits, rng), t, traits, rng) ? 1 : 0;
    }
    return done == 0 ? 0 : emit(encode_tape(t), data, max_size);
  });
}

std::size_t script_custom_crossover(const std::uint8_t* a, std::size_t a_size, const std::uint8_t* b,
                                    std::size_t b_size, std::uint8_t* out, std::size_t max_out,
                                    unsigned seed, ScriptDecoder decode, const ScriptTraits& traits) {
  Rng rng(seed);
  if (!rng.one_in(kCrossOverOneIn)) return 0;
  Tape ta = decode(a, a_size);
  const Tape tb = decode(b, b_size);
  if (!ta.finished || !tb.finished) return 0;
  const std::vector<std::size_t> la = loop_ops(ta), lb = loop_ops(tb);
  if (la.empty() && lb.empty()) return 0;
  const std::size_t keep = rng.below(la.size() + 1);
  const std::size_t from = rng.below(lb.size() + 1);
  std::vector<TapeOp> ops(ta.ops.begin(), ta.ops.begin() + at(loop_begin(ta)));
  for (std::size_t k = 0; k < keep; ++k) ops.push_back(ta.ops[la[k]]);
  const std::size_t setup = loop_begin(ta);
  for (std::size_t k = from; k < lb.size() && ops.size() - setup < traits.max_steps; ++k) ops.push_back(tb.ops[lb[k]]);
  ops.push_back(ta.ops.back());  // finish
  ta.ops = std::move(ops);
  ta.rest = tb.rest;
  settle(ta, traits);
  return emit(encode_tape(ta), out, max_out);
}

}  // namespace ics_fuzz
