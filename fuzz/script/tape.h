// The decoded form of a session-level op script (state_upload, import, sync_session): every
// value the target took, grouped by op, with the bytes each one came from. `ScriptReader`
// fills a Tape while the target runs the input (the Tape hangs off the Trace the target is
// given), so the ops and their operands are exactly the ones the target read, including those
// whose presence depends on the engine's state. `encode_tape` (script/tape_codec.h) writes a
// Tape back through FdpWriter; an unedited Tape encodes to the input byte for byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ics_fuzz {

struct TapeRead {
  enum class Kind : std::uint8_t { Int, Bool, Bytes, Text };
  Kind kind = Kind::Int;
  // Int / Bool: the value is min + off, off in [0, span]; Bool has span 1. min is the
  // integer's bit pattern widened to 64 bits.
  std::uint64_t min = 0;
  std::uint64_t span = 0;
  std::uint64_t off = 0;
  // Bytes: the length asked for; Text: the longest string allowed.
  std::size_t want = 0;
  // The bytes this read consumed, in the order the reader took them (integers: from the end of
  // the input, most significant first; bytes and text: from the front).
  std::vector<std::uint8_t> raw;

  bool back() const { return kind == Kind::Int || kind == Kind::Bool; }
  bool operator==(const TapeRead&) const = default;
};

struct TapeOp {
  std::string name;
  bool has_code = false;  // a loop op, chosen by an op byte (setup and replica ops are not)
  std::uint8_t code = 0;  // the op byte as read
  std::vector<TapeRead> reads;
  bool operator==(const TapeOp&) const = default;
};

struct Tape {
  std::vector<TapeOp> ops;           // in the order run, the last one "finish"
  std::vector<std::uint8_t> rest;    // bytes not read before "finish" (finish may read them)
  bool finished = false;             // the run reached "finish"
  bool operator==(const Tape&) const = default;
};

// Thrown by ScriptReader when a recording run reaches "finish": what happens after it reads
// nothing the Tape needs (its reads come from `rest`), so the decoding stops there.
struct TapeFinished {};

// The bytes of a read at positions [from, to) of an input: counted from the front, or from the
// end in the order the reader takes them (integers).
inline std::vector<std::uint8_t> read_bytes(const std::uint8_t* data, std::size_t size, bool from_back,
                                            std::size_t from, std::size_t to) {
  std::vector<std::uint8_t> raw;
  raw.reserve(to - from);
  for (std::size_t i = from; i < to; ++i) raw.push_back(from_back ? data[size - 1 - i] : data[i]);
  return raw;
}

// Bytes an integer read of this span takes (FuzzedDataProvider: one per 8 bits of span, none
// for a span of 0).
constexpr std::size_t int_width(std::uint64_t span) {
  std::size_t n = 0;
  while (n < 8 && (span >> (8 * n)) != 0) ++n;
  return n;
}

}  // namespace ics_fuzz
