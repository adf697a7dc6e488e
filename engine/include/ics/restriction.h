// Restrictions ([MS-OXCDATA] 2.12) as RopSynchronizationConfigure carries them
// in RestrictionData: a small, documented subset, parsed with ics::Reader.
//
// Supported (standard ROP encoding, counts on 2 bytes):
//   AndRestriction      0x00  RestrictType(1) RestrictCount(2) Restricts
//   OrRestriction       0x01  RestrictType(1) RestrictCount(2) Restricts
//   NotRestriction      0x02  RestrictType(1) Restriction
//   PropertyRestriction 0x04  RestrictType(1) RelOp(1) PropTag(4) TaggedValue
//   ExistRestriction    0x08  RestrictType(1) PropTag(4)
// PropertyRestriction compares integer properties only: PtypInteger16,
// PtypInteger32, PtypInteger64 (signed), PtypBoolean (1 byte, 0 or 1, in ROP
// buffers) and PtypTime (unsigned), with RelOp LT 0x00, LE 0x01, GT 0x02,
// GE 0x03, EQ 0x04, NE 0x05. TaggedValue is PropTag(4) + value; its tag must
// equal PropTag.
//
// Errors of parse():
//   NotSupported  a known restriction type outside the subset (Content 0x03,
//                 CompareProperties 0x05, BitMask 0x06, Size 0x07, SubObject
//                 0x09, Comment 0x0A, Count 0x0B), RelOp RE 0x06 or
//                 MEMBER_OF_DL 0x64, a non-integer property type;
//   FormatError   an unknown restriction type or RelOp, truncated input,
//                 trailing bytes, TaggedValue tag != PropTag, a Boolean that
//                 is not 0 or 1 (with the byte offset);
//   TooBig        nesting deeper than kMaxRestrictionDepth.
//
// Evaluation (matches) looks a property up by its exact tag in a bag. A
// missing property satisfies no PropertyRestriction, whatever the RelOp
// (NE included); And of nothing is true, Or of nothing is false.
//
// Restriction is a plain recursive value: copyable, thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ics/bytes.h"
#include "ics/errors.h"
#include "ics/props.h"

namespace ics {

inline constexpr std::size_t kMaxRestrictionDepth = 32;

namespace restrict_type {
inline constexpr std::uint8_t kAnd = 0x00;
inline constexpr std::uint8_t kOr = 0x01;
inline constexpr std::uint8_t kNot = 0x02;
inline constexpr std::uint8_t kContent = 0x03;
inline constexpr std::uint8_t kProperty = 0x04;
inline constexpr std::uint8_t kCompareProperties = 0x05;
inline constexpr std::uint8_t kBitMask = 0x06;
inline constexpr std::uint8_t kSize = 0x07;
inline constexpr std::uint8_t kExist = 0x08;
inline constexpr std::uint8_t kSubObject = 0x09;
inline constexpr std::uint8_t kComment = 0x0A;
inline constexpr std::uint8_t kCount = 0x0B;
}  // namespace restrict_type

namespace relop {
inline constexpr std::uint8_t kLessThan = 0x00;            // RELOP_LT
inline constexpr std::uint8_t kLessThanOrEqual = 0x01;     // RELOP_LE
inline constexpr std::uint8_t kGreaterThan = 0x02;         // RELOP_GT
inline constexpr std::uint8_t kGreaterThanOrEqual = 0x03;  // RELOP_GE
inline constexpr std::uint8_t kEqual = 0x04;               // RELOP_EQ
inline constexpr std::uint8_t kNotEqual = 0x05;            // RELOP_NE
inline constexpr std::uint8_t kRegularExpression = 0x06;   // RELOP_RE
inline constexpr std::uint8_t kMemberOfDL = 0x64;          // RELOP_MEMBER_OF_DL
}  // namespace relop

struct Restriction {
  std::uint8_t type = restrict_type::kAnd;
  std::uint8_t op = relop::kEqual;  // Property only
  PropTag tag;                      // Property and Exist
  std::uint64_t value = 0;          // Property only, as read (zero-extended)
  std::vector<Restriction> children;  // And / Or (any number), Not (one)

  bool operator==(const Restriction&) const = default;

  // Builders (no validation; serialize() of an unsupported shape is the
  // caller's business).
  static Restriction all_of(std::vector<Restriction> children);
  static Restriction any_of(std::vector<Restriction> children);
  static Restriction negate(Restriction child);
  static Restriction exist(PropTag tag);
  static Restriction compare(std::uint8_t op, PropTag tag, std::uint64_t value);

  // The whole of b is one restriction (see the header comment for errors).
  static Result<Restriction> parse(ByteView b);
  Bytes serialize() const;
  bool matches(const PropertyBag& bag) const;
  // Nodes in the tree; heap bytes it holds (for memory accounting).
  std::size_t node_count() const;
  std::size_t footprint() const;
};

// Whether a PropertyRestriction may compare a property of this type.
bool restriction_value_type(std::uint16_t type);

}  // namespace ics
