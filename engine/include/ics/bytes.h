// Reader / Writer: the only code in the engine that touches raw bytes.
// Reader is a bounds-checked cursor over borrowed bytes (in the style of
// BoringSSL's CBS): every read either succeeds and advances, or fails, returns
// false and leaves the cursor where it was. Integers are little-endian unless
// the name says "be" (GLOBCNTs are big-endian on the wire, [MS-OXCFXICS] 2.2.2.5).
// Writer appends to a growable buffer it owns. Neither type is thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ics/errors.h"

namespace ics {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

class Reader {
 public:
  Reader() = default;
  explicit Reader(ByteView data) : data_(data) {}

  std::size_t offset() const { return pos_; }
  std::size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return remaining() == 0; }
  ByteView rest() const { return data_.subspan(pos_); }

  bool read_u8(std::uint8_t& out);
  bool read_u16(std::uint16_t& out);
  bool read_u32(std::uint32_t& out);
  bool read_u64(std::uint64_t& out);
  // n (0..8) bytes, most significant first.
  bool read_be(std::size_t n, std::uint64_t& out);
  // n bytes, borrowed from the underlying buffer.
  bool read_bytes(std::size_t n, ByteView& out);
  bool skip(std::size_t n);
  bool peek_u8(std::uint8_t& out) const;
  bool peek_u32(std::uint32_t& out) const;

 private:
  ByteView data_;
  std::size_t pos_ = 0;
};

class Writer {
 public:
  void put_u8(std::uint8_t v) { buf_.push_back(v); }
  void put_u16(std::uint16_t v);
  void put_u32(std::uint32_t v);
  void put_u64(std::uint64_t v);
  // The low n (0..8) bytes of v, most significant first.
  void put_be(std::uint64_t v, std::size_t n);
  void put_bytes(ByteView b) { buf_.insert(buf_.end(), b.begin(), b.end()); }

  std::size_t size() const { return buf_.size(); }
  const Bytes& bytes() const { return buf_; }
  Bytes take() { return std::move(buf_); }
  void reserve(std::size_t n) { buf_.reserve(n); }

 private:
  Bytes buf_;
};

// Lowercase hex without separators.
std::string to_hex(ByteView b);
// Accepts upper/lower case and ignores ASCII white space; InvalidParameter
// on an odd digit count or a non-hex character.
Result<Bytes> from_hex(std::string_view hex);

}  // namespace ics
