// The encoder of the session-level op scripts (the other side of reader.h): values are
// written in the order the target takes them. Integers go to the back (the reader takes
// them from the end, most significant byte first), byte runs and strings to the front.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ics_fuzz {

class FdpWriter {
 public:
  using Bytes = std::vector<std::uint8_t>;

  // An op by name: its byte (code_of, found beside the op's enum); its name is kept for
  // the check that the script still runs as these ops (ops()).
  template <class Op>
  FdpWriter& op(Op o) {
    ops_.emplace_back(name(o));
    return u8(code_of(o));
  }
  const std::vector<std::string>& ops() const { return ops_; }
  FdpWriter& u8(std::uint8_t v) { return push(v); }
  FdpWriter& flag(bool b) { return push(b ? 1 : 0); }
  FdpWriter& u16(std::uint16_t v) { return push(static_cast<std::uint8_t>(v >> 8)).push(static_cast<std::uint8_t>(v)); }
  FdpWriter& u32(std::uint32_t v) { return u16(static_cast<std::uint16_t>(v >> 16)).u16(static_cast<std::uint16_t>(v)); }
  FdpWriter& bytes(const Bytes& b) {
    front_.insert(front_.end(), b.begin(), b.end());
    return *this;
  }
  // A ConsumeRandomLengthString(max) result: the text, then its end mark ("\x" is never
  // part of a string the reader returns).
  FdpWriter& text(std::string_view s) {
    front_.insert(front_.end(), s.begin(), s.end());
    front_.push_back('\\');
    front_.push_back('x');
    return *this;
  }
  Bytes out() const {
    Bytes all = front_;
    all.insert(all.end(), back_.rbegin(), back_.rend());
    return all;
  }

 private:
  FdpWriter& push(std::uint8_t v) {
    back_.push_back(v);
    return *this;
  }
  Bytes front_, back_;
  std::vector<std::string> ops_;
};

}  // namespace ics_fuzz
