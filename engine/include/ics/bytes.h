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

  // The small readers are defined inline: they sit on every decoder's hot path.
  bool read_u8(std::uint8_t& out) {
    if (remaining() < 1) return false;
    out = data_[pos_++];
    return true;
  }
  bool read_u16(std::uint16_t& out) { return read_le(2, out); }
  bool read_u32(std::uint32_t& out) { return read_le(4, out); }
  bool read_u64(std::uint64_t& out) { return read_le(8, out); }
  // n (0..8) bytes, most significant first.
  bool read_be(std::size_t n, std::uint64_t& out) {
    if (n > 8 || remaining() < n) return false;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | std::uint64_t{data_[pos_ + i]};
    out = v;
    pos_ += n;
    return true;
  }
  // n bytes, borrowed from the underlying buffer.
  bool read_bytes(std::size_t n, ByteView& out) {
    if (remaining() < n) return false;
    out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  bool skip(std::size_t n) {
    if (remaining() < n) return false;
    pos_ += n;
    return true;
  }
  bool peek_u8(std::uint8_t& out) const {
    if (remaining() < 1) return false;
    out = data_[pos_];
    return true;
  }
  bool peek_u32(std::uint32_t& out) const {
    Reader copy = *this;
    return copy.read_u32(out);
  }

 private:
  template <class T>
  bool read_le(std::size_t n, T& out) {
    if (remaining() < n) return false;
    T v = 0;
    for (std::size_t i = 0; i < n; ++i) v = static_cast<T>(v | T{data_[pos_ + i]} << (8 * i));
    out = v;
    pos_ += n;
    return true;
  }

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
