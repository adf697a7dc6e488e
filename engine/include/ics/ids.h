// Identifiers of [MS-OXCFXICS] 2.2.2 / [MS-OXCDATA] 2.2.1: REPLID, REPLGUID,
// GLOBCNT, the 8-byte FID/MID/CN (REPLID little-endian + GLOBCNT big-endian),
// the 22-byte GID (REPLGUID + GLOBCNT) and the XID (GUID + 1..8-byte LocalId).
// Plain values: copyable, comparable, no ownership, thread-compatible.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "ics/bytes.h"
#include "ics/errors.h"

namespace ics {

// A GUID in the on-wire layout (Data1 LE u32, Data2 LE u16, Data3 LE u16,
// Data4 8 raw bytes). Ordering is byte-to-byte over the wire bytes, as the
// REPLGUID-based IDSET requires ([MS-OXCFXICS] 2.2.2.4.2).
struct Guid {
  std::array<std::uint8_t, 16> bytes{};

  auto operator<=>(const Guid&) const = default;
  bool is_null() const;
  // "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (lowercase, Data1..3 as numbers).
  std::string to_string() const;
  static Result<Guid> parse(std::string_view text);
  // A deterministic GUID derived from a 64-bit seed (for tests and stores).
  static Guid from_seed(std::uint64_t seed);
};

bool read_guid(Reader& r, Guid& out);
void write_guid(Writer& w, const Guid& g);

using Replid = std::uint16_t;
// A 48-bit counter; on the wire six bytes, most significant first.
using Globcnt = std::uint64_t;
inline constexpr Globcnt kGlobcntMax = (Globcnt{1} << 48) - 1;

bool read_globcnt(Reader& r, Globcnt& out);
void write_globcnt(Writer& w, Globcnt g);

// FID, MID and CN share this layout: REPLID (2, LE) then GLOBCNT (6, BE).
struct Id {
  Replid replid = 0;
  Globcnt globcnt = 0;

  auto operator<=>(const Id&) const = default;
  // The 8 wire bytes read as one little-endian u64 (PtypInteger64 values).
  std::uint64_t to_u64() const;
  static Id from_u64(std::uint64_t v);
};
using Fid = Id;
using Mid = Id;
using Cn = Id;

bool read_id(Reader& r, Id& out);
void write_id(Writer& w, const Id& id);

// GID: REPLGUID + GLOBCNT, 22 bytes; the value of PidTagSourceKey.
struct Gid {
  Guid guid;
  Globcnt globcnt = 0;
  auto operator<=>(const Gid&) const = default;
};
inline constexpr std::size_t kGidSize = 22;
Result<Gid> parse_gid(ByteView b);
Bytes serialize_gid(const Gid& g);

// XID: NamespaceGuid + LocalId of 1..8 bytes (17..24 bytes in all); the value
// of PidTagChangeKey and the element of a PCL. LocalId compares as a
// big-endian unsigned integer among XIDs of the same size.
struct Xid {
  Guid guid;
  std::array<std::uint8_t, 8> local{};  // first local_size bytes are used
  std::uint8_t local_size = 6;

  bool operator==(const Xid& o) const;
  std::uint64_t local_value() const;  // big-endian value of the LocalId
  std::size_t size() const { return 16 + local_size; }
  // The usual change key: GUID + 6-byte GLOBCNT.
  static Xid from_globcnt(const Guid& g, Globcnt cn);
};
inline constexpr std::size_t kXidMinSize = 17;
inline constexpr std::size_t kXidMaxSize = 24;
// The whole of b is one XID; FormatError otherwise.
Result<Xid> parse_xid(ByteView b);
void write_xid(Writer& w, const Xid& x);
Bytes serialize_xid(const Xid& x);

}  // namespace ics
