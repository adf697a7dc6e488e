// Reading a session-level op script into a Tape (by running the target's run_input with a
// recording Trace) and writing a Tape back through FdpWriter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "script/fdp_writer.h"
#include "script/reader.h"
#include "script/tape.h"

namespace ics_fuzz {

// A target's run_input(data, size, trace).
using ScriptRun = void (*)(const std::uint8_t* data, std::size_t size, Trace& trace);

// The ops the target reads from the input, up to "finish" (a run that stops earlier, which the
// current targets never do, gives a Tape with finished == false).
inline Tape record_tape(ScriptRun run, const std::uint8_t* data, std::size_t size) {
  Tape tape;
  Trace trace(nullptr, &tape);
  try {
    run(data, size, trace);
  } catch (const TapeFinished&) {
  }
  return tape;
}

// An integer read's bytes for its value (most significant first, as the reader takes them).
inline std::vector<std::uint8_t> int_bytes(std::uint64_t span, std::uint64_t off) {
  std::vector<std::uint8_t> raw(int_width(span));
  for (std::size_t i = raw.size(); i-- > 0; off >>= 8) raw[i] = static_cast<std::uint8_t>(off);
  return raw;
}

// Sets an integer read to min + off (its bytes written in full).
inline void set_int(TapeRead& r, std::uint64_t off) {
  r.off = off;
  r.raw = int_bytes(r.span, off);
}

inline TapeRead make_int(std::uint64_t min, std::uint64_t span, std::uint64_t off) {
  TapeRead r;
  r.min = min;
  r.span = span;
  set_int(r, off);
  return r;
}

inline std::vector<std::uint8_t> encode_tape(const Tape& tape) {
  FdpWriter w;
  for (const TapeOp& op : tape.ops) {
    if (op.has_code) w.u8(op.code);
    for (const TapeRead& r : op.reads) {
      if (r.back()) {
        for (std::uint8_t b : r.raw) w.u8(b);
      } else {
        w.bytes(r.raw);
      }
    }
  }
  w.bytes(tape.rest);  // between the last front bytes and the first integer bytes
  return w.out();
}

}  // namespace ics_fuzz
