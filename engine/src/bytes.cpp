#include "ics/bytes.h"

namespace ics {

bool Reader::read_u8(std::uint8_t& out) {
  if (remaining() < 1) return false;
  out = data_[pos_++];
  return true;
}

bool Reader::read_u16(std::uint16_t& out) {
  if (remaining() < 2) return false;
  out = static_cast<std::uint16_t>(std::uint16_t{data_[pos_]} |
                                   std::uint16_t{data_[pos_ + 1]} << 8);
  pos_ += 2;
  return true;
}

bool Reader::read_u32(std::uint32_t& out) {
  if (remaining() < 4) return false;
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v |= std::uint32_t{data_[pos_ + i]} << (8 * i);
  out = v;
  pos_ += 4;
  return true;
}

bool Reader::read_u64(std::uint64_t& out) {
  if (remaining() < 8) return false;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v |= std::uint64_t{data_[pos_ + i]} << (8 * i);
  out = v;
  pos_ += 8;
  return true;
}

bool Reader::read_be(std::size_t n, std::uint64_t& out) {
  if (n > 8 || remaining() < n) return false;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = (v << 8) | std::uint64_t{data_[pos_ + i]};
  out = v;
  pos_ += n;
  return true;
}

bool Reader::read_bytes(std::size_t n, ByteView& out) {
  if (remaining() < n) return false;
  out = data_.subspan(pos_, n);
  pos_ += n;
  return true;
}

bool Reader::skip(std::size_t n) {
  if (remaining() < n) return false;
  pos_ += n;
  return true;
}

bool Reader::peek_u8(std::uint8_t& out) const {
  if (remaining() < 1) return false;
  out = data_[pos_];
  return true;
}

bool Reader::peek_u32(std::uint32_t& out) const {
  Reader copy = *this;
  return copy.read_u32(out);
}

void Writer::put_u16(std::uint16_t v) {
  put_u8(static_cast<std::uint8_t>(v));
  put_u8(static_cast<std::uint8_t>(v >> 8));
}

void Writer::put_u32(std::uint32_t v) {
  for (int i = 0; i < 4; ++i) put_u8(static_cast<std::uint8_t>(v >> (8 * i)));
}

void Writer::put_u64(std::uint64_t v) {
  for (int i = 0; i < 8; ++i) put_u8(static_cast<std::uint8_t>(v >> (8 * i)));
}

void Writer::put_be(std::uint64_t v, std::size_t n) {
  for (std::size_t i = n; i > 0; --i) put_u8(static_cast<std::uint8_t>(v >> (8 * (i - 1))));
}

std::string to_hex(ByteView b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(b.size() * 2);
  for (std::uint8_t c : b) {
    s.push_back(kDigits[c >> 4]);
    s.push_back(kDigits[c & 0xF]);
  }
  return s;
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
}  // namespace

Result<Bytes> from_hex(std::string_view hex) {
  Bytes out;
  out.reserve(hex.size() / 2);
  int high = -1;
  for (std::size_t i = 0; i < hex.size(); ++i) {
    if (is_space(hex[i])) continue;
    int v = hex_value(hex[i]);
    if (v < 0) return Error(ErrorCode::InvalidParameter, "not a hex digit", i);
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(high << 4 | v));
      high = -1;
    }
  }
  if (high >= 0) return Error(ErrorCode::InvalidParameter, "odd number of hex digits");
  return out;
}

}  // namespace ics
