#include "ics/restriction.h"

#include <string>

namespace ics {
namespace {

Error format_error(std::string what, const Reader& r) {
  return Error(ErrorCode::FormatError, std::move(what), r.offset());
}

bool known_type(std::uint8_t t) { return t <= restrict_type::kCount; }

bool supported_type(std::uint8_t t) {
  return t == restrict_type::kAnd || t == restrict_type::kOr || t == restrict_type::kNot ||
         t == restrict_type::kProperty || t == restrict_type::kExist;
}

// Bytes of a value of this type in a ROP buffer (Boolean is one byte there).
std::size_t rop_value_size(std::uint16_t type) {
  switch (type) {
    case ptyp::kBoolean: return 1;
    case ptyp::kInteger16: return 2;
    case ptyp::kInteger32: return 4;
    default: return 8;  // Integer64, Time
  }
}

bool read_value(Reader& r, std::uint16_t type, std::uint64_t& out) {
  switch (rop_value_size(type)) {
    case 1: {
      std::uint8_t v = 0;
      if (!r.read_u8(v)) return false;
      out = v;
      return true;
    }
    case 2: {
      std::uint16_t v = 0;
      if (!r.read_u16(v)) return false;
      out = v;
      return true;
    }
    case 4: {
      std::uint32_t v = 0;
      if (!r.read_u32(v)) return false;
      out = v;
      return true;
    }
    default: return r.read_u64(out);
  }
}

void write_value(Writer& w, std::uint16_t type, std::uint64_t v) {
  switch (rop_value_size(type)) {
    case 1: w.put_u8(static_cast<std::uint8_t>(v)); break;
    case 2: w.put_u16(static_cast<std::uint16_t>(v)); break;
    case 4: w.put_u32(static_cast<std::uint32_t>(v)); break;
    default: w.put_u64(v); break;
  }
}

bool read_tag(Reader& r, PropTag& tag) {
  std::uint32_t v = 0;
  if (!r.read_u32(v)) return false;
  tag = PropTag(v);
  return true;
}

Result<Restriction> parse_node(Reader& r, std::size_t depth);

Status parse_children(Reader& r, std::size_t depth, Restriction& node) {
  std::uint16_t count = 0;
  if (!r.read_u16(count)) return format_error("truncated RestrictCount", r);
  for (std::uint16_t i = 0; i < count; ++i) {
    ICS_TRY_ASSIGN(Restriction child, parse_node(r, depth + 1));
    node.children.push_back(std::move(child));
  }
  return ok_status();
}

Status check_relop(std::uint8_t op, const Reader& r) {
  if (op <= relop::kNotEqual) return ok_status();
  if (op == relop::kRegularExpression || op == relop::kMemberOfDL) {
    return Error(ErrorCode::NotSupported, "RelOp RE / MEMBER_OF_DL is not supported", r.offset());
  }
  return format_error("unknown RelOp " + std::to_string(op), r);
}

Status parse_property(Reader& r, Restriction& node) {
  if (!r.read_u8(node.op)) return format_error("truncated RelOp", r);
  ICS_TRY(check_relop(node.op, r));
  PropTag value_tag;
  if (!read_tag(r, node.tag) || !read_tag(r, value_tag)) {
    return format_error("truncated PropTag / TaggedValue", r);
  }
  if (!restriction_value_type(node.tag.type())) {
    return Error(ErrorCode::NotSupported,
                 "PropertyRestriction on type " + type_name(node.tag.type()), r.offset());
  }
  if (value_tag != node.tag) return format_error("TaggedValue tag differs from PropTag", r);
  if (!read_value(r, node.tag.type(), node.value)) return format_error("truncated value", r);
  if (node.tag.type() == ptyp::kBoolean && node.value > 1) {
    return format_error("Boolean value other than 0 or 1", r);
  }
  return ok_status();
}

Result<Restriction> parse_node(Reader& r, std::size_t depth) {
  if (depth >= kMaxRestrictionDepth) {
    return Error(ErrorCode::TooBig, "restriction nested too deeply", r.offset());
  }
  Restriction node;
  if (!r.read_u8(node.type)) return format_error("truncated RestrictType", r);
  if (!known_type(node.type)) {
    return format_error("unknown RestrictType " + std::to_string(node.type), r);
  }
  if (!supported_type(node.type)) {
    return Error(ErrorCode::NotSupported,
                 "RestrictType " + std::to_string(node.type) + " is not supported", r.offset());
  }
  switch (node.type) {
    case restrict_type::kAnd:
    case restrict_type::kOr:
      ICS_TRY(parse_children(r, depth, node));
      break;
    case restrict_type::kNot: {
      ICS_TRY_ASSIGN(Restriction child, parse_node(r, depth + 1));
      node.children.push_back(std::move(child));
      break;
    }
    case restrict_type::kProperty:
      ICS_TRY(parse_property(r, node));
      break;
    default:  // Exist
      if (!read_tag(r, node.tag)) return format_error("truncated PropTag", r);
      break;
  }
  return node;
}

std::int64_t sign_extend(std::uint16_t type, std::uint64_t v) {
  switch (type) {
    case ptyp::kInteger16: return static_cast<std::int16_t>(v);
    case ptyp::kInteger32: return static_cast<std::int32_t>(v);
    default: return static_cast<std::int64_t>(v);
  }
}

template <class T>
bool relate(std::uint8_t op, T a, T b) {
  switch (op) {
    case relop::kLessThan: return a < b;
    case relop::kLessThanOrEqual: return a <= b;
    case relop::kGreaterThan: return a > b;
    case relop::kGreaterThanOrEqual: return a >= b;
    case relop::kEqual: return a == b;
    case relop::kNotEqual: return a != b;
    default: return false;
  }
}

bool signed_type(std::uint16_t type) {
  return type == ptyp::kInteger16 || type == ptyp::kInteger32 || type == ptyp::kInteger64;
}

// The property is looked up by its exact tag; a missing property, or one
// holding a non-integer value, satisfies nothing.
bool property_matches(const Restriction& r, const PropertyBag& bag) {
  const PropValue* v = bag.get(r.tag);
  const std::uint64_t* have = v ? v->as_integer() : nullptr;
  if (have == nullptr) return false;
  const std::uint16_t type = r.tag.type();
  if (!signed_type(type)) return relate(r.op, *have, r.value);
  return relate(r.op, sign_extend(type, *have), sign_extend(type, r.value));
}

}  // namespace

bool restriction_value_type(std::uint16_t type) {
  return type == ptyp::kInteger16 || type == ptyp::kInteger32 || type == ptyp::kInteger64 ||
         type == ptyp::kBoolean || type == ptyp::kTime;
}

Restriction Restriction::all_of(std::vector<Restriction> children) {
  Restriction r;
  r.type = restrict_type::kAnd;
  r.children = std::move(children);
  return r;
}

Restriction Restriction::any_of(std::vector<Restriction> children) {
  Restriction r;
  r.type = restrict_type::kOr;
  r.children = std::move(children);
  return r;
}

Restriction Restriction::negate(Restriction child) {
  Restriction r;
  r.type = restrict_type::kNot;
  r.children.push_back(std::move(child));
  return r;
}

Restriction Restriction::exist(PropTag tag) {
  Restriction r;
  r.type = restrict_type::kExist;
  r.tag = tag;
  return r;
}

Restriction Restriction::compare(std::uint8_t op, PropTag tag, std::uint64_t value) {
  Restriction r;
  r.type = restrict_type::kProperty;
  r.op = op;
  r.tag = tag;
  r.value = value;
  return r;
}

Result<Restriction> Restriction::parse(ByteView b) {
  Reader r(b);
  ICS_TRY_ASSIGN(Restriction node, parse_node(r, 0));
  if (!r.empty()) return format_error("trailing bytes after the restriction", r);
  return node;
}

namespace {
void serialize_into(const Restriction& node, Writer& w) {
  w.put_u8(node.type);
  switch (node.type) {
    case restrict_type::kAnd:
    case restrict_type::kOr:
      w.put_u16(static_cast<std::uint16_t>(node.children.size()));
      for (const Restriction& c : node.children) serialize_into(c, w);
      break;
    case restrict_type::kNot:
      if (!node.children.empty()) serialize_into(node.children.front(), w);
      break;
    case restrict_type::kProperty:
      w.put_u8(node.op);
      w.put_u32(node.tag.value);
      w.put_u32(node.tag.value);
      write_value(w, node.tag.type(), node.value);
      break;
    default:
      w.put_u32(node.tag.value);
      break;
  }
}
}  // namespace

Bytes Restriction::serialize() const {
  Writer w;
  serialize_into(*this, w);
  return w.take();
}

bool Restriction::matches(const PropertyBag& bag) const {
  switch (type) {
    case restrict_type::kAnd:
      for (const Restriction& c : children) {
        if (!c.matches(bag)) return false;
      }
      return true;
    case restrict_type::kOr:
      for (const Restriction& c : children) {
        if (c.matches(bag)) return true;
      }
      return false;
    case restrict_type::kNot:
      return children.empty() || !children.front().matches(bag);
    case restrict_type::kProperty:
      return property_matches(*this, bag);
    case restrict_type::kExist:
      return bag.get(tag) != nullptr;
    default:
      return false;
  }
}

std::size_t Restriction::node_count() const {
  std::size_t n = 1;
  for (const Restriction& c : children) n += c.node_count();
  return n;
}

std::size_t Restriction::footprint() const {
  std::size_t n = children.capacity() * sizeof(Restriction);
  for (const Restriction& c : children) n += c.footprint();
  return n;
}

}  // namespace ics
