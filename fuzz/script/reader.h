// The reader of the session-level op scripts (state_upload, import, sync_session): the
// calls of FuzzedDataProvider the targets make, plus an optional trace. With a trace,
// every value an op takes is appended to that op's line, so `fuzz/describe` prints any
// input one operation a line, in the order the target runs it. The bytes are the same
// FuzzedDataProvider bytes (integers from the end, strings and byte runs from the front),
// so the checked-in corpus and reproducers keep their meaning.
//
// What an op takes depends on the state it runs in (a pick among the messages a replica
// holds takes nothing when it holds none), so these scripts decode only by running them;
// the trace is that decoding.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace ics_fuzz {

// One line per op on `out` ("<step> <name> <values...>"), written as the op runs, so
// the op an oracle failure stops in is the last line. A value repeated more than
// kShownRepeats times in a row is shown that many times, then "(x<total>)" (a download
// in 1-byte buffers stays one short line). Nothing when out is null.
class Trace {
 public:
  explicit Trace(std::FILE* out) : out_(out) {}
  Trace(const Trace&) = delete;
  Trace& operator=(const Trace&) = delete;
  ~Trace() { end_line(); }

  bool on() const { return out_ != nullptr; }
  void begin(std::string_view name) {
    if (!on()) return;
    end_line();
    std::fprintf(out_, "%d %.*s", step_++, static_cast<int>(name.size()), name.data());
    std::fflush(out_);
    open_ = true;
  }
  void value(std::string_view text) {
    if (!on()) return;
    if (repeats_ > 0 && text == last_) {
      if (++repeats_ > kShownRepeats) return;
    } else {
      end_run();
      last_.assign(text);
      repeats_ = 1;
    }
    std::fprintf(out_, " %.*s", static_cast<int>(text.size()), text.data());
    std::fflush(out_);
  }
  void end_line() {
    if (!open_) return;
    end_run();
    std::fputc('\n', out_);
    std::fflush(out_);
    open_ = false;
  }

 private:
  static constexpr std::size_t kShownRepeats = 4;

  void end_run() {
    if (repeats_ > kShownRepeats) std::fprintf(out_, " (x%zu)", repeats_);
    repeats_ = 0;
  }

  std::FILE* out_;
  int step_ = 0;
  bool open_ = false;
  std::string last_;
  std::size_t repeats_ = 0;
};

// Printable forms of the values an op takes.
inline constexpr char kHex[] = "0123456789abcdef";

inline std::string quote_text(std::string_view s) {
  std::string out = "\"";
  for (unsigned char ch : s) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += static_cast<char>(ch);
    } else if (ch >= 0x20 && ch < 0x7F) {
      out += static_cast<char>(ch);
    } else {
      out += "\\x";
      out += kHex[ch >> 4];
      out += kHex[ch & 15];
    }
  }
  return out + '"';
}

inline std::string hex_bytes(const std::vector<std::uint8_t>& b) {
  constexpr std::size_t kShown = 32;
  std::string out = "bytes[" + std::to_string(b.size()) + "]:";
  for (std::size_t i = 0; i < b.size() && i < kShown; ++i) {
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 15];
  }
  if (b.size() > kShown) out += "..";
  return out;
}

class ScriptReader {
 public:
  ScriptReader(const std::uint8_t* data, std::size_t size, Trace& trace) : in_(data, size), trace_(trace) {}

  // An op's byte (not traced: the op's name starts its line, through op()).
  std::uint8_t op_byte() { return in_.ConsumeIntegral<std::uint8_t>(); }
  void op(std::string_view name) { trace_.begin(name); }
  std::size_t remaining_bytes() { return in_.remaining_bytes(); }

  template <class T>
  T ConsumeIntegral() {
    return note(in_.ConsumeIntegral<T>());
  }
  template <class T>
  T ConsumeIntegralInRange(T min, T max) {
    return note(in_.ConsumeIntegralInRange<T>(min, max));
  }
  bool ConsumeBool() {
    bool b = in_.ConsumeBool();
    trace_.value(b ? "true" : "false");
    return b;
  }
  template <class T>
  std::vector<T> ConsumeBytes(std::size_t n) {
    static_assert(sizeof(T) == 1, "bytes only");
    std::vector<T> b = in_.ConsumeBytes<T>(n);
    if (trace_.on()) trace_.value(hex_bytes(std::vector<std::uint8_t>(b.begin(), b.end())));
    return b;
  }
  std::string ConsumeRandomLengthString(std::size_t max) {
    std::string s = in_.ConsumeRandomLengthString(max);
    if (trace_.on()) trace_.value(quote_text(s));
    return s;
  }

 private:
  template <class T>
  T note(T v) {
    if (trace_.on()) {
      if constexpr (std::is_signed_v<T>) {
        trace_.value(std::to_string(static_cast<long long>(v)));
      } else {
        trace_.value(std::to_string(static_cast<unsigned long long>(v)));
      }
    }
    return v;
  }

  FuzzedDataProvider in_;
  Trace& trace_;
};

}  // namespace ics_fuzz
