#include "ics/ids.h"

#include "ics/splitmix.h"

#include <algorithm>

namespace ics {

bool Guid::is_null() const {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

namespace {
// Order in which the 16 wire bytes appear in the text form.
constexpr int kTextOrder[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
constexpr bool dash_before(int i) { return i == 4 || i == 6 || i == 8 || i == 10; }
}  // namespace

std::string Guid::to_string() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (dash_before(i)) s.push_back('-');
    std::uint8_t b = bytes[kTextOrder[i]];
    s.push_back(kDigits[b >> 4]);
    s.push_back(kDigits[b & 0xF]);
  }
  return s;
}

Result<Guid> Guid::parse(std::string_view text) {
  if (text.size() != 36) return Error(ErrorCode::InvalidParameter, "GUID text must be 36 characters");
  std::string hex;
  for (std::size_t i = 0; i < text.size(); ++i) {
    bool dash_here = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_here != (text[i] == '-')) return Error(ErrorCode::InvalidParameter, "malformed GUID", i);
    if (!dash_here) hex.push_back(text[i]);
  }
  auto raw = from_hex(hex);
  if (!raw.ok() || raw->size() != 16) return Error(ErrorCode::InvalidParameter, "malformed GUID");
  Guid g;
  for (int i = 0; i < 16; ++i) g.bytes[kTextOrder[i]] = (*raw)[i];
  return g;
}

Guid Guid::from_seed(std::uint64_t seed) {
  // Two splitmix64 steps: a fixed, well-spread mapping.
  Guid g;
  std::uint64_t x = seed;
  for (int half = 0; half < 2; ++half) {
    const std::uint64_t z = splitmix64_next(x);
    for (int i = 0; i < 8; ++i) g.bytes[half * 8 + i] = static_cast<std::uint8_t>(z >> (8 * i));
  }
  return g;
}

bool read_guid(Reader& r, Guid& out) {
  ByteView b;
  if (!r.read_bytes(16, b)) return false;
  std::copy(b.begin(), b.end(), out.bytes.begin());
  return true;
}

void write_guid(Writer& w, const Guid& g) { w.put_bytes(g.bytes); }

bool read_globcnt(Reader& r, Globcnt& out) { return r.read_be(6, out); }

void write_globcnt(Writer& w, Globcnt g) { w.put_be(g, 6); }

// The 8 wire bytes are REPLID (little-endian) then GLOBCNT (6 bytes, big-endian); read as one
// little-endian u64, REPLID is the low 16 bits and GLOBCNT's most significant byte comes
// next. Computed in place: this runs for every id a property value carries, and a Writer
// here cost four heap blocks a call.
std::uint64_t Id::to_u64() const {
  std::uint64_t v = replid;
  for (int k = 0; k < 6; ++k) v |= ((globcnt >> (8 * (5 - k))) & 0xFF) << (16 + 8 * k);
  return v;
}

Id Id::from_u64(std::uint64_t v) {
  Id id;
  id.replid = static_cast<Replid>(v & 0xFFFF);
  for (int k = 0; k < 6; ++k) id.globcnt = (id.globcnt << 8) | ((v >> (16 + 8 * k)) & 0xFF);
  return id;
}

bool read_id(Reader& r, Id& out) {
  Reader save = r;
  Id id;
  if (!r.read_u16(id.replid) || !read_globcnt(r, id.globcnt)) {
    r = save;
    return false;
  }
  out = id;
  return true;
}

void write_id(Writer& w, const Id& id) {
  w.put_u16(id.replid);
  write_globcnt(w, id.globcnt);
}

Result<Gid> parse_gid(ByteView b) {
  if (b.size() != kGidSize) return Error(ErrorCode::FormatError, "a GID is 22 bytes");
  Reader r(b);
  Gid g;
  read_guid(r, g.guid);
  read_globcnt(r, g.globcnt);
  return g;
}

Bytes serialize_gid(const Gid& g) {
  Writer w;
  write_guid(w, g.guid);
  write_globcnt(w, g.globcnt);
  return w.take();
}

bool Xid::operator==(const Xid& o) const {
  return guid == o.guid && local_size == o.local_size &&
         std::equal(local.begin(), local.begin() + local_size, o.local.begin());
}

std::uint64_t Xid::local_value() const {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < local_size; ++i) v = (v << 8) | local[i];
  return v;
}

Xid Xid::from_globcnt(const Guid& g, Globcnt cn) {
  Xid x;
  x.guid = g;
  x.local_size = 6;
  for (int i = 0; i < 6; ++i) x.local[i] = static_cast<std::uint8_t>(cn >> (8 * (5 - i)));
  return x;
}

Result<Xid> parse_xid(ByteView b) {
  if (b.size() < kXidMinSize || b.size() > kXidMaxSize) {
    return Error(ErrorCode::FormatError, "an XID is 17 to 24 bytes");
  }
  Reader r(b);
  Xid x;
  read_guid(r, x.guid);
  x.local_size = static_cast<std::uint8_t>(r.remaining());
  ByteView local;
  r.read_bytes(r.remaining(), local);
  std::copy(local.begin(), local.end(), x.local.begin());
  return x;
}

void write_xid(Writer& w, const Xid& x) {
  write_guid(w, x.guid);
  w.put_bytes(ByteView(x.local.data(), x.local_size));
}

Bytes serialize_xid(const Xid& x) {
  Writer w;
  write_xid(w, x);
  return w.take();
}

}  // namespace ics
