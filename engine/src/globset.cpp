#include "ics/globset.h"

#include <algorithm>
#include <bit>
#include <span>

namespace ics {

namespace {

bool valid_range(Globcnt low, Globcnt high) { return low <= high && high <= kGlobcntMax; }

bool by_low(const GlobRange& a, const GlobRange& b) { return a.low < b.low; }

// Appends r to out (sorted by low), merging it into the last range when they
// overlap or touch.
void append_coalesced(std::vector<GlobRange>& out, const GlobRange& r) {
#if defined(ICS_SEEDED_BUG_GLOBSET_ADJACENT_MERGE)
  // Seeded bug: "adjacent" taken one value too far, so a one-value gap is swallowed.
  if (!out.empty() && r.low <= out.back().high + 2) {
#else
  if (!out.empty() && r.low <= out.back().high + 1) {
#endif
    out.back().high = std::max(out.back().high, r.high);
    return;
  }
  out.push_back(r);
}

// Whether ranges already satisfy the Globset invariant (ranges valid assumed).
bool is_normalized(const std::vector<GlobRange>& ranges) {
  for (std::size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].low <= ranges[i - 1].high + 1) return false;
  }
  return true;
}

// Sorts (only if needed) and merges in place; ranges must be valid.
void normalize(std::vector<GlobRange>& ranges) {
  if (is_normalized(ranges)) return;
  if (!std::is_sorted(ranges.begin(), ranges.end(), by_low)) {
    std::sort(ranges.begin(), ranges.end(), by_low);
  }
  std::size_t w = 0;
  for (std::size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].low <= ranges[w].high + 1) {
      ranges[w].high = std::max(ranges[w].high, ranges[i].high);
    } else {
      ranges[++w] = ranges[i];
    }
  }
  ranges.resize(w + 1);
}

}  // namespace

Globset Globset::adopt(std::vector<GlobRange> normalized) {
  Globset s;
  s.ranges_ = std::move(normalized);
  return s;
}

Result<Globset> Globset::from_ranges(std::vector<GlobRange> ranges) {
  for (const GlobRange& r : ranges) {
    if (!valid_range(r.low, r.high)) {
      return Error(ErrorCode::InvalidParameter, "GLOBCNT range reversed or over 48 bits");
    }
  }
  normalize(ranges);
  return adopt(std::move(ranges));
}

bool Globset::contains(Globcnt v) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), v,
                             [](Globcnt x, const GlobRange& r) { return x < r.low; });
  return it != ranges_.begin() && std::prev(it)->high >= v;
}

Status Globset::insert(Globcnt low, Globcnt high) {
  if (!valid_range(low, high)) {
    return Error(ErrorCode::InvalidParameter, "GLOBCNT range reversed or over 48 bits");
  }
  if (ranges_.empty() || ranges_.back().high + 1 < low) {
    ranges_.push_back({low, high});  // the common case: appending
    return ok_status();
  }
  // [first, last) are the ranges that overlap or touch [low, high].
  auto first = std::lower_bound(ranges_.begin(), ranges_.end(), low,
                                [](const GlobRange& r, Globcnt x) { return r.high + 1 < x; });
  auto last = std::upper_bound(first, ranges_.end(), high,
                               [](Globcnt x, const GlobRange& r) { return x + 1 < r.low; });
  if (first == last) {
    ranges_.insert(first, GlobRange{low, high});
    return ok_status();
  }
  first->low = std::min(first->low, low);
  first->high = std::max(std::prev(last)->high, high);
  ranges_.erase(std::next(first), last);
  return ok_status();
}

Status Globset::remove(Globcnt low, Globcnt high) {
  if (!valid_range(low, high)) {
    return Error(ErrorCode::InvalidParameter, "GLOBCNT range reversed or over 48 bits");
  }
  // [first, last) are the ranges that overlap [low, high].
  auto first = std::lower_bound(ranges_.begin(), ranges_.end(), low,
                                [](const GlobRange& r, Globcnt x) { return r.high < x; });
  auto last = std::upper_bound(first, ranges_.end(), high,
                               [](Globcnt x, const GlobRange& r) { return x < r.low; });
  if (first == last) return ok_status();
  GlobRange pieces[2];
  std::size_t n = 0;
  if (first->low < low) pieces[n++] = {first->low, low - 1};
  if (std::prev(last)->high > high) pieces[n++] = {high + 1, std::prev(last)->high};
  auto span = static_cast<std::size_t>(last - first);
  if (n > span) {  // one range split in two
#if defined(ICS_SEEDED_BUG_IDSET_REMOVE_DANGLING)
    // Seeded bug: `first` is kept across an insert that may reallocate the vector.
    ranges_.insert(std::next(first), pieces[1]);
    *first = pieces[0];
#else
    *first = pieces[1];
    ranges_.insert(first, pieces[0]);
#endif
    return ok_status();
  }
  std::copy(pieces, pieces + n, first);
  ranges_.erase(first + static_cast<std::ptrdiff_t>(n), last);
  return ok_status();
}

std::uint64_t Globset::size() const {
  std::uint64_t n = 0;
  for (const GlobRange& r : ranges_) n += r.high - r.low + 1;
  return n;
}

std::optional<Globcnt> Globset::min() const {
  if (ranges_.empty()) return std::nullopt;
  return ranges_.front().low;
}

std::optional<Globcnt> Globset::max() const {
  if (ranges_.empty()) return std::nullopt;
  return ranges_.back().high;
}

Globset unite(const Globset& a, const Globset& b) {
  const auto& x = a.ranges_;
  const auto& y = b.ranges_;
  std::vector<GlobRange> out;
  out.reserve(x.size() + y.size());
  std::size_t i = 0, j = 0;
  while (i < x.size() || j < y.size()) {
    bool take_x = j == y.size() || (i < x.size() && x[i].low <= y[j].low);
    append_coalesced(out, take_x ? x[i++] : y[j++]);
  }
  return Globset::adopt(std::move(out));
}

Globset intersect(const Globset& a, const Globset& b) {
  const auto& x = a.ranges_;
  const auto& y = b.ranges_;
  std::vector<GlobRange> out;
  std::size_t i = 0, j = 0;
  while (i < x.size() && j < y.size()) {
    Globcnt low = std::max(x[i].low, y[j].low);
    Globcnt high = std::min(x[i].high, y[j].high);
    if (low <= high) out.push_back({low, high});
    if (x[i].high < y[j].high) {
      ++i;
    } else {
      ++j;
    }
  }
  return Globset::adopt(std::move(out));
}

Globset difference(const Globset& a, const Globset& b) {
  const auto& x = a.ranges_;
  const auto& y = b.ranges_;
  std::vector<GlobRange> out;
  std::size_t j = 0;
  for (const GlobRange& r : x) {
    while (j < y.size() && y[j].high < r.low) ++j;
    Globcnt cur = r.low;  // lowest value of r not yet handled
    for (std::size_t k = j; k < y.size() && y[k].low <= r.high; ++k) {
      if (y[k].low > cur) out.push_back({cur, y[k].low - 1});
      cur = std::max(cur, y[k].high + 1);
    }
    if (cur <= r.high) out.push_back({cur, r.high});
  }
  return Globset::adopt(std::move(out));
}

// ---------------------------------------------------------------------------
// Decoding ([MS-OXCFXICS] 3.1.5.4.3.2)

namespace {

constexpr unsigned kGlobcntBytes = 6;

// The common byte stack: the stacked high-order bytes as one big-endian
// number, how many there are, and the size of each Push still on it.
struct ByteStack {
  Globcnt prefix = 0;
  unsigned depth = 0;
  unsigned pushes = 0;
  std::uint8_t sizes[kGlobcntBytes] = {};
};

// The big-endian number in b (at most 8 bytes).
std::uint64_t be_value(ByteView b) {
  std::uint64_t v = 0;
  for (std::uint8_t c : b) v = v << 8 | c;
  return v;
}

// Decoded ranges, kept in order of arrival with a note of whether they are
// already normalised (sorted, disjoint, not touching). The first kInline ranges
// are held inline, so a set of up to kInline ranges costs one allocation of its
// exact size; past that a vector grows geometrically. Memory stays proportional
// to the ranges decoded (at most five per command, so to the input consumed).
class RangeSink {
 public:
  void add(Globcnt low, Globcnt high) {
    sorted_ = sorted_ && low >= next_low_;
    next_low_ = high + 2;
    if (count_ < kInline) {
      inline_[count_++] = {low, high};
      return;
    }
    if (count_++ == kInline) {
      buf_.reserve(2 * kInline);
      buf_.assign(inline_, inline_ + kInline);
    }
    buf_.push_back({low, high});
  }
  std::vector<GlobRange> take() {
    if (count_ <= kInline) buf_.assign(inline_, inline_ + count_);
    if (!sorted_) normalize(buf_);
    return std::move(buf_);
  }

 private:
  static constexpr std::size_t kInline = 16;
  GlobRange inline_[kInline];
  std::size_t count_ = 0;
  std::vector<GlobRange> buf_;
  Globcnt next_low_ = 0;  // a range from here up keeps the output normalised
  bool sorted_ = true;
};

class GlobsetDecoder {
 public:
  explicit GlobsetDecoder(Reader& r) : r_(r) {}
  // The normalised ranges of one GLOBSET.
  Result<std::vector<GlobRange>> run();

 private:
  bool step(std::uint8_t cmd);
  bool push(unsigned n);
  bool pop();
  bool bitmask();
  bool range();
  bool end();
  bool fail(const char* what) {
    what_ = what;
    return false;
  }

  Reader& r_;
  ByteStack stack_;
  RangeSink out_;
  bool done_ = false;
  const char* what_ = nullptr;
};

Result<std::vector<GlobRange>> GlobsetDecoder::run() {
  while (!done_) {
    std::size_t at = r_.offset();
    std::uint8_t cmd = 0;
    if (!r_.read_u8(cmd)) return Error(ErrorCode::FormatError, "GLOBSET without End command", at);
    if (!step(cmd)) return Error(ErrorCode::FormatError, what_, at);
  }
  return out_.take();
}

bool GlobsetDecoder::step(std::uint8_t cmd) {
  switch (cmd) {
    case 0x01: case 0x02: case 0x03: case 0x04: case 0x05: case 0x06:
      return push(cmd);
    case kGlobsetPop:
      return pop();
    case kGlobsetBitmask:
      return bitmask();
    case kGlobsetRange:
      return range();
    case kGlobsetEnd:
      return end();
    default:
      return fail("unknown GLOBSET command");
  }
}

bool GlobsetDecoder::push(unsigned n) {
#if defined(ICS_SEEDED_BUG_GLOBSET_RANGE_STACK)
  // Seeded bug: the limit counts Push commands, not bytes, so the stack can pass six bytes.
  if (stack_.pushes + 1 > kGlobcntBytes) return fail("Push over six bytes on the common byte stack");
#else
  if (stack_.depth + n > kGlobcntBytes) return fail("Push over six bytes on the common byte stack");
#endif
  std::uint64_t bytes = 0;
#if defined(ICS_SEEDED_BUG_GLOBSET_PUSH_UNCHECKED)
  // Seeded bug: the operand is read straight from the input, without a bounds check.
  const std::uint8_t* operand = r_.rest().data();
  for (unsigned i = 0; i < n; ++i) bytes = bytes << 8 | operand[i];
  (void)r_.skip(std::min<std::size_t>(n, r_.remaining()));
#else
  if (!r_.read_be(n, bytes)) return fail("truncated Push");
#endif
  Globcnt value = stack_.prefix << (8 * n) | bytes;
  if (stack_.depth + n == kGlobcntBytes) {  // a singleton; the Push pops itself
    out_.add(value, value);
    return true;
  }
  stack_.prefix = value;
  stack_.depth += n;
  stack_.sizes[stack_.pushes++] = static_cast<std::uint8_t>(n);
  return true;
}

bool GlobsetDecoder::pop() {
  if (stack_.pushes == 0) return fail("Pop on an empty common byte stack");
  unsigned n = stack_.sizes[--stack_.pushes];
  stack_.prefix >>= 8 * n;
  stack_.depth -= n;
  return true;
}

bool GlobsetDecoder::end() {
  if (stack_.depth != 0) return fail("End with bytes on the common byte stack");
  done_ = true;
  return true;
}

// StartingValue is in the set; bit i of the mask adds StartingValue + i + 1.
// A run starts at a set bit whose lower neighbour is clear and ends at one
// whose upper neighbour is clear.
bool GlobsetDecoder::bitmask() {
  if (stack_.depth != kGlobcntBytes - 1) return fail("Bitmask needs five bytes on the stack");
  ByteView operands;
  if (!r_.read_bytes(2, operands)) return fail("truncated Bitmask");
  unsigned start = operands[0];
  unsigned bits = unsigned{operands[1]} << 1 | 1u;  // bit j: start + j
  if (start + static_cast<unsigned>(std::bit_width(bits)) - 1 > 0xFF) {
    return fail("Bitmask carries out of the low-order byte");
  }
  unsigned firsts = bits & ~(bits << 1);
#if defined(ICS_SEEDED_BUG_BITMASK_MISDECODE)
  // Seeded bug: the run ends are found with the wrong shift: every run decodes to its first value.
  unsigned lasts = bits & ~(bits << 1);
#else
  unsigned lasts = bits & ~(bits >> 1);
#endif
  Globcnt base = stack_.prefix << 8 | start;
  while (firsts != 0) {
    out_.add(base + static_cast<unsigned>(std::countr_zero(firsts)),
             base + static_cast<unsigned>(std::countr_zero(lasts)));
    firsts &= firsts - 1;
    lasts &= lasts - 1;
  }
  return true;
}

bool GlobsetDecoder::range() {
#if defined(ICS_SEEDED_BUG_GLOBSET_RANGE_STACK)
  // Seeded bug: no check of the stack depth; the operand length below wraps past six bytes.
#else
  if (stack_.depth > kGlobcntBytes - 1) return fail("Range with six bytes on the stack");
#endif
  unsigned n = kGlobcntBytes - stack_.depth;
  ByteView operands;
  if (!r_.read_bytes(2 * n, operands)) return fail("truncated Range");
  std::uint64_t low = be_value(operands.first(n));
  std::uint64_t high = be_value(operands.last(n));
  if (low > high) return fail("Range with low value above high value");
  Globcnt prefix = stack_.prefix << (8 * n);
  out_.add(prefix | low, prefix | high);
  return true;
}

}  // namespace

Result<Globset> decode_globset(Reader& r) {
  ICS_TRY_ASSIGN(auto ranges, GlobsetDecoder(r).run());
  return Globset::adopt(std::move(ranges));
}

Result<Globset> decode_globset(ByteView whole) {
  Reader r(whole);
  ICS_TRY_ASSIGN(Globset s, decode_globset(r));
  if (!r.empty()) return Error(ErrorCode::FormatError, "bytes after the GLOBSET End", r.offset());
  return s;
}

// ---------------------------------------------------------------------------
// Encoding ([MS-OXCFXICS] 3.1.5.4.3.1)

namespace {

// Byte i (0 = most significant) of a 48-bit GLOBCNT.
unsigned byte_at(Globcnt v, unsigned i) {
  return static_cast<unsigned>(v >> (8 * (kGlobcntBytes - 1 - i))) & 0xFF;
}

// How many leading bytes (of six) a and b share.
unsigned common_bytes(Globcnt a, Globcnt b) {
  Globcnt x = a ^ b;
  if (x == 0) return kGlobcntBytes;
  return (static_cast<unsigned>(std::countl_zero(x)) - 16) / 8;
}

bool is_singleton(const GlobRange& r) { return r.low == r.high; }

// Bytes saved per stacked byte when a range is coded under a longer prefix:
// one for a singleton (one value), two for a run (two values).
std::uint64_t weight(const GlobRange& r) { return is_singleton(r) ? 1 : 2; }

class GlobsetEncoder {
 public:
  explicit GlobsetEncoder(Writer& w) : w_(w) {}
  // Codes rs, whose values all share the d bytes on the stack.
  void level(std::span<const GlobRange> rs, unsigned d);

 private:
  void group(std::span<const GlobRange> rs, unsigned d, std::uint64_t wsum);
  void low_bytes(std::span<const GlobRange> rs);
  void cluster(std::span<const GlobRange> rs);
  void flat(const GlobRange& r, unsigned d);
  void flat_low_byte(const GlobRange& r);

  Writer& w_;
};

void GlobsetEncoder::level(std::span<const GlobRange> rs, unsigned d) {
  if (d == kGlobcntBytes - 1) return low_bytes(rs);
  std::size_t i = 0;
  while (i < rs.size()) {
    unsigned b = byte_at(rs[i].low, d);
    if (byte_at(rs[i].high, d) != b) {  // spans several values of byte d
      flat(rs[i++], d);
      continue;
    }
    std::size_t j = i + 1;
    std::uint64_t wsum = weight(rs[i]);
    for (; j < rs.size() && byte_at(rs[j].high, d) == b; ++j) wsum += weight(rs[j]);
    group(rs.subspan(i, j - i), d, wsum);
    i = j;
  }
}

// rs share byte d (and so at least d + 1 bytes). Pushing their L - d further
// common bytes costs L - d + 2 (Push, bytes, Pop) and saves at least
// (L - d) * wsum. It is taken when it saves more than it costs, or as much
// when a Bitmask may then save more (L = 5, several ranges); otherwise the
// ranges are coded flat, so the output is never longer than flat coding and
// holds no Push/Pop pair that buys nothing.
void GlobsetEncoder::group(std::span<const GlobRange> rs, unsigned d, std::uint64_t wsum) {
  unsigned l = common_bytes(rs.front().low, rs.back().high);
  std::uint64_t saved = std::uint64_t{l - d} * wsum;
  std::uint64_t cost = l - d + 2;
  bool bitmask_may_help = l == kGlobcntBytes - 1 && rs.size() >= 2;
  if (l == kGlobcntBytes || saved < cost || (saved == cost && !bitmask_may_help)) {
    for (const GlobRange& r : rs) flat(r, d);
    return;
  }
  w_.put_u8(static_cast<std::uint8_t>(l - d));
  w_.put_be(rs.front().low >> (8 * (kGlobcntBytes - l)), l - d);
  level(rs, l);
  w_.put_u8(kGlobsetPop);
}

// Stack depth 5: each range is one low-order byte pair. Ranges whose values
// fit in the nine values from the first one's low go into one Bitmask
// (3 bytes), which is shorter than coding two or more of them (2 or 3 bytes
// each). At most five disjoint, non-touching ranges fit in nine values.
void GlobsetEncoder::low_bytes(std::span<const GlobRange> rs) {
  std::size_t i = 0;
  while (i < rs.size()) {
    Globcnt window_end = rs[i].low + 8;
    std::size_t j = i + 1;
    while (j < rs.size() && rs[j].high <= window_end) ++j;
    if (j - i >= 2) {
      cluster(rs.subspan(i, j - i));
    } else {
      flat_low_byte(rs[i]);
    }
    i = j;
  }
}

void GlobsetEncoder::cluster(std::span<const GlobRange> rs) {
  Globcnt start = rs.front().low;
  unsigned bits = 0;  // bit j: start + j is in the set
  for (const GlobRange& r : rs) {
    auto lo = static_cast<unsigned>(r.low - start);
    auto len = static_cast<unsigned>(r.high - r.low + 1);
    bits |= ((1u << len) - 1) << lo;
  }
  w_.put_u8(kGlobsetBitmask);
  w_.put_u8(static_cast<std::uint8_t>(start));
  w_.put_u8(static_cast<std::uint8_t>(bits >> 1));
}

// One range on its own at stack depth d: a Push that completes the GLOBCNT
// for a singleton, else a Range with 6 - d bytes per value.
void GlobsetEncoder::flat(const GlobRange& r, unsigned d) {
  if (d == kGlobcntBytes - 1) return flat_low_byte(r);
  unsigned n = kGlobcntBytes - d;
  if (is_singleton(r)) {
    w_.put_u8(static_cast<std::uint8_t>(n));
    w_.put_be(r.low, n);
    return;
  }
  w_.put_u8(kGlobsetRange);
  w_.put_be(r.low, n);
  w_.put_be(r.high, n);
}

// The same at depth 5, where each value is one byte: Push1 or a Range.
void GlobsetEncoder::flat_low_byte(const GlobRange& r) {
  if (is_singleton(r)) {
    w_.put_u8(1);
  } else {
    w_.put_u8(kGlobsetRange);
    w_.put_u8(static_cast<std::uint8_t>(r.low));
  }
  w_.put_u8(static_cast<std::uint8_t>(r.high));
}

}  // namespace

void encode_globset(const Globset& s, Writer& w) {
  GlobsetEncoder(w).level(s.ranges(), 0);
  w.put_u8(kGlobsetEnd);
}

Bytes encode_globset(const Globset& s) {
  Writer w;
  encode_globset(s, w);
  return w.take();
}

}  // namespace ics
