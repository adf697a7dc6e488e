// Oracle: describe() (the line `icsctl fx dump` prints for each FastTransfer
// element) gives, for every event FxParser reads from the input (up to its
// error, if any), one non-empty line that is safe to print: valid UTF-8 with no
// C0 or C1 control character and no DEL (strings and names from the wire are
// escaped or shown as hex), starting with the marker's name or the tag in hex,
// and of a length bounded whatever the size of the value (long values are cut).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <variant>
#include <vector>

#include "fuzz_check.h"
#include "ics/fxstream.h"

namespace {

// Decodes one UTF-8 sequence at s[i]; the code point, or -1 if malformed
// (overlong, surrogate, over U+10FFFF, truncated).
long next_code_point(const std::string& s, std::size_t& i) {
  const auto byte = [&s](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i++);
  if (c < 0x80) return c;
  std::size_t extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
  if (extra == 0 || c > 0xF4 || i + extra > s.size()) return -1;
  long cp = c & (0x3F >> extra);
  for (std::size_t k = 0; k < extra; ++k) {
    if ((byte(i) & 0xC0) != 0x80) return -1;
    cp = cp << 6 | (byte(i++) & 0x3F);
  }
  static constexpr long kMin[] = {0, 0x80, 0x800, 0x10000};
  if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  return cp;
}

bool printable_line(const std::string& s) {
  for (std::size_t i = 0; i < s.size();) {
    const long cp = next_code_point(s, i);
    if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) return false;
  }
  return true;
}

void check_line(const ics::FxEvent& e) {
  const std::string line = ics::describe(e);
  ICS_FUZZ_CHECK(!line.empty() && printable_line(line));
  const std::string_view name = ics::marker_name(e.tag.value);
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08X", e.tag.value);
  const std::string_view head = e.kind == ics::FxEvent::Kind::Marker && !name.empty() ? name : hex;
  ICS_FUZZ_CHECK(line.compare(0, head.size(), head) == 0);
  // A name is shown whole; a value is cut: a string to 80 characters (at most 4
  // bytes each), hex to 32 bytes, a list to 8 items; a number takes < 64.
  const std::size_t name_units = e.value.named ? e.value.named->name.size() : 0;
  const std::size_t item_max = e.value.as_integer() != nullptr ||
                                       std::holds_alternative<std::vector<std::uint64_t>>(e.value.data)
                                   ? 64
                                   : 400;
  const bool multi = (e.tag.type() & ics::ptyp::kMultipleFlag) != 0;
  const std::size_t value_max = multi ? 8 * (item_max + 2) + 32 : item_max;
  ICS_FUZZ_CHECK(line.size() <= 256 + 4 * name_units + value_max);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ics::FxParser p;
  (void)p.feed(ics::ByteView(data, size));  // the events before an error are described too
  for (const ics::FxEvent& e : p.events()) check_line(e);
  return 0;
}
