// describe(): one human-readable line per FastTransfer element (icsctl fx dump).
#include <bit>
#include <cstdio>

#include "ics/fxstream.h"

namespace ics {

namespace {

constexpr std::size_t kMaxHexBytes = 32;
constexpr std::size_t kMaxChars = 80;
constexpr std::size_t kMaxItems = 8;

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

std::string dec_hex(std::uint64_t v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%llu (0x%llx)", static_cast<unsigned long long>(v),
                static_cast<unsigned long long>(v));
  return buf;
}

std::string real(double d) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  return buf;
}

// Proleptic Gregorian date from days since 1970-01-01 (era-based day counting).
std::string civil_date(std::int64_t days, std::int64_t secs) {
  days += 719468;
  std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  std::int64_t doe = days - era * 146097;
  std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  std::int64_t mp = (5 * doy + 2) / 153;
  std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
  std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
  std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ",
                static_cast<long long>(year), static_cast<long long>(month),
                static_cast<long long>(day), static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  return buf;
}

// A FILETIME (100 ns ticks since 1601-01-01 UTC) as decimal plus a UTC date.
std::string filetime(std::uint64_t ft) {
  constexpr std::int64_t kDays1601To1970 = 134774;
  std::uint64_t secs = ft / 10000000;
  auto days = static_cast<std::int64_t>(secs / 86400) - kDays1601To1970;
  return std::to_string(ft) + " (" + civil_date(days, static_cast<std::int64_t>(secs % 86400)) + ")";
}

std::string hex_summary(const Bytes& b) {
  std::string s = "[" + std::to_string(b.size()) + "]";
  if (b.empty()) return s;
  std::size_t n = std::min(b.size(), kMaxHexBytes);
  s += " " + to_hex(ByteView(b.data(), n));
  if (n < b.size()) s += "...";
  return s;
}

void append_utf8(std::string& s, std::uint32_t cp) {
  if (cp < 0x80) {
    s.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    s.push_back(static_cast<char>(0xC0 | cp >> 6));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    s.push_back(static_cast<char>(0xE0 | cp >> 12));
    s.push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    s.push_back(static_cast<char>(0xF0 | cp >> 18));
    s.push_back(static_cast<char>(0x80 | (cp >> 12 & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool printable(std::uint32_t cp) {
  if (cp == '\n' || cp == '\r' || cp == '\t') return true;
  return cp >= 0x20 && !(cp >= 0x7F && cp < 0xA0);
}

// Appends a printable code point, escaped.
void append_char(std::string& s, std::uint32_t cp) {
  switch (cp) {
    case '"': s += "\\\""; return;
    case '\\': s += "\\\\"; return;
    case '\n': s += "\\n"; return;
    case '\r': s += "\\r"; return;
    case '\t': s += "\\t"; return;
    default: append_utf8(s, cp);
  }
}

// Decodes UTF-16LE code points into `out` (without terminator); false on a
// control character, an unpaired surrogate or an odd byte count.
bool decode_utf16(const Bytes& b, std::string& out, std::size_t& chars, bool& terminated) {
  if (b.size() % 2 != 0) return false;
  Reader r(b);
  terminated = false;
  chars = 0;
  std::uint16_t u = 0;
  while (r.read_u16(u)) {
    if (u == 0 && r.empty()) {
      terminated = true;
      break;
    }
    std::uint32_t cp = u;
    if (u >= 0xDC00 && u <= 0xDFFF) return false;
    if (u >= 0xD800 && u <= 0xDBFF) {
      std::uint16_t lo = 0;
      if (!r.read_u16(lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
      cp = 0x10000 + ((std::uint32_t{u} - 0xD800) << 10) + (lo - 0xDC00);
    }
    if (!printable(cp)) return false;
    if (chars < kMaxChars) append_char(out, cp);
    ++chars;
  }
  return true;
}

// 8-bit strings: printable ASCII only (the code page is not interpreted).
bool decode_8bit(const Bytes& b, std::string& out, std::size_t& chars, bool& terminated) {
  terminated = !b.empty() && b.back() == 0;
  chars = terminated ? b.size() - 1 : b.size();
  for (std::size_t i = 0; i < chars; ++i) {
    if (b[i] >= 0x80 || !printable(b[i])) return false;
    if (i < kMaxChars) append_char(out, b[i]);
  }
  return true;
}

bool is_utf16_type(std::uint16_t type) {
  return type == ptyp::kString || type == ptyp::kCodePageUnicode;
}

bool is_string_type(std::uint16_t type) {
  return is_utf16_type(type) || type == ptyp::kString8 || (type & ptyp::kCodePageFlag) != 0;
}

std::string string_summary(std::uint16_t type, const Bytes& b) {
  std::string text;
  std::size_t chars = 0;
  bool terminated = false;
  bool ok = is_utf16_type(type) ? decode_utf16(b, text, chars, terminated)
                                : decode_8bit(b, text, chars, terminated);
  if (!ok) return hex_summary(b) + " (not printable)";
  std::string s = "\"" + text + "\"";
  if (chars > kMaxChars) s += "... (" + std::to_string(chars) + " chars)";
  if (!terminated) s += " (no terminator)";
  return s;
}

std::string scalar_summary(std::uint16_t type, std::uint64_t v) {
  switch (type) {
    case ptyp::kBoolean:
      if (v <= 1) return v != 0 ? "true" : "false";
      return dec_hex(v) + " (Boolean not 0/1)";
    case ptyp::kFloating32:
      return real(std::bit_cast<float>(static_cast<std::uint32_t>(v)));
    case ptyp::kFloating64:
    case ptyp::kFloatingTime:
      return real(std::bit_cast<double>(v));
    case ptyp::kTime:
      return filetime(v);
    default:
      return dec_hex(v);
  }
}

std::string bytes_summary(std::uint16_t type, const Bytes& b) {
  return is_string_type(type) ? string_summary(type, b) : hex_summary(b);
}

template <class T, class F>
std::string list_summary(const std::vector<T>& items, F one) {
  std::string s = "[" + std::to_string(items.size()) + "]";
  for (std::size_t i = 0; i < items.size() && i < kMaxItems; ++i) {
    s += i == 0 ? " " : ", ";
    s += one(items[i]);
  }
  if (items.size() > kMaxItems) s += ", ...";
  return s;
}

std::string value_summary(const PropValue& v) {
  std::uint16_t type = v.tag.type();
  std::uint16_t base = type & ~ptyp::kMultipleFlag;
  if (const auto* i = v.as_integer()) return scalar_summary(type, *i);
  if (const auto* g = v.as_guid()) return g->to_string();
  if (const auto* b = v.as_bytes()) return bytes_summary(type, *b);
  if (const auto* vi = std::get_if<std::vector<std::uint64_t>>(&v.data)) {
    return list_summary(*vi, [base](std::uint64_t x) { return scalar_summary(base, x); });
  }
  if (const auto* vg = std::get_if<std::vector<Guid>>(&v.data)) {
    return list_summary(*vg, [](const Guid& g) { return g.to_string(); });
  }
  const auto& vb = std::get<std::vector<Bytes>>(v.data);
  return list_summary(vb, [base](const Bytes& b) { return bytes_summary(base, b); });
}

std::string named_summary(const NamedProp& n) {
  std::string s = "named(" + n.set.to_string();
  if (n.kind == 0) return s + " lid " + hex32(n.lid) + ")";
  std::string text;
  for (char16_t c : n.name) {
    if (printable(c) && (c < 0xD800 || c > 0xDFFF)) {
      append_char(text, c);
    } else {
      text += "?";
    }
  }
  return s + " name \"" + text + "\")";
}

}  // namespace

std::string describe(const FxEvent& e) {
  if (e.kind == FxEvent::Kind::Marker) {
    std::string_view name = marker_name(e.tag.value);
    return name.empty() ? hex32(e.tag.value) + " (not a marker)" : std::string(name);
  }
  const PropValue& v = e.value;
  std::string s = hex32(v.tag.value);
  std::string_view name = tag_name(v.tag);
  if (!name.empty()) s += " " + std::string(name);
  if (v.named) s += " " + named_summary(*v.named);
  bool given = v.tag == tags::kMetaTagIdsetGiven;
  s += " " + (given ? std::string("Binary") : type_name(v.tag.type()));
  return s + " = " + value_summary(v);
}

}  // namespace ics
