// The reader of the session-level op scripts (state_upload, import, sync_session): the
// calls of FuzzedDataProvider the targets make, plus an optional trace. With a trace,
// every value an op takes is appended to that op's line, so `fuzz/describe` prints any
// input one operation a line, in the order the target runs it. The bytes are the same
// FuzzedDataProvider bytes (integers from the end, strings and byte runs from the front),
// so the checked-in corpus and reproducers keep their meaning.
//
// What an op takes depends on the state it runs in (a pick among the messages a replica
// holds takes nothing when it holds none), so these scripts decode only by running them;
// the trace is that decoding. A Trace may also carry a Tape (script/tape.h): the reader then
// records every value with the bytes it came from, and stops the run at "finish". Or a
// TapeLog (script/tape_log.h): the same record, kept as positions in the input, up to
// "finish", while the run goes on.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "script/tape.h"
#include "script/tape_log.h"

namespace ics_fuzz {

// One line per op on `out` ("<step> <name> <values...>"), written as the op runs, so
// the op an oracle failure stops in is the last line. A value repeated more than
// kShownRepeats times in a row is shown that many times, then "(x<total>)" (a download
// in 1-byte buffers stays one short line). Nothing when out is null.
class Trace {
 public:
  explicit Trace(std::FILE* out, Tape* tape = nullptr, TapeLog* log = nullptr)
      : out_(out), tape_(tape), log_(log) {}
  Trace(const Trace&) = delete;
  Trace& operator=(const Trace&) = delete;
  ~Trace() { end_line(); }

  bool on() const { return out_ != nullptr; }
  Tape* tape() const { return tape_; }
  TapeLog* log() const { return log_; }
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
  Tape* tape_;
  TapeLog* log_;
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
  ScriptReader(const std::uint8_t* data, std::size_t size, Trace& trace)
      : data_(data), size_(size), in_(data, size), trace_(trace), log_(trace.log()) {
    if (log_) log_->start(data, size);
  }

  // An op's byte (not traced: the op's name starts its line, through op()).
  std::uint8_t op_byte() {
    std::uint8_t b = in_.ConsumeIntegral<std::uint8_t>();
    if (recording()) {
      code_ = b;
      has_code_ = true;
      skip_back();
    }
    return b;
  }
  // Starts an op's line; with a tape, a new op there, and at "finish" the recording ends
  // (throws TapeFinished, which the recording caller catches); a log ends there too.
  void op(std::string_view name) {
    trace_.begin(name);
    const bool has_code = has_code_;
    has_code_ = false;
    if (log_) {
      log_->op(name, has_code, code_);
      if (name == "finish") {
        log_->finish(front_, size_ - back_);
        log_ = nullptr;
      }
    }
    if (Tape* t = trace_.tape()) {
      t->ops.push_back(TapeOp{std::string(name), has_code, code_, {}});
      if (name == "finish") {
        t->rest.assign(data_ + front_, data_ + (size_ - back_));
        t->finished = true;
        throw TapeFinished{};
      }
    }
  }
  std::size_t remaining_bytes() { return in_.remaining_bytes(); }

  template <class T>
  T ConsumeIntegral() {
    return ConsumeIntegralInRange<T>(std::numeric_limits<T>::min(), std::numeric_limits<T>::max());
  }
  template <class T>
  T ConsumeIntegralInRange(T min, T max) {
    T v = in_.ConsumeIntegralInRange<T>(min, max);
    if (recording()) {
      const auto lo = static_cast<std::uint64_t>(min);
      record_int(lo, static_cast<std::uint64_t>(max) - lo, static_cast<std::uint64_t>(v) - lo, TapeRead::Kind::Int);
    }
    return note(v);
  }
  bool ConsumeBool() {
    bool b = in_.ConsumeBool();
    if (recording()) record_int(0, 1, b ? 1 : 0, TapeRead::Kind::Bool);
    trace_.value(b ? "true" : "false");
    return b;
  }
  template <class T>
  std::vector<T> ConsumeBytes(std::size_t n) {
    static_assert(sizeof(T) == 1, "bytes only");
    std::vector<T> b = in_.ConsumeBytes<T>(n);
    if (recording()) record_front(TapeRead::Kind::Bytes, n);
    if (trace_.on()) trace_.value(hex_bytes(std::vector<std::uint8_t>(b.begin(), b.end())));
    return b;
  }
  std::string ConsumeRandomLengthString(std::size_t max) {
    std::string s = in_.ConsumeRandomLengthString(max);
    if (recording()) record_front(TapeRead::Kind::Text, max);
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

  bool recording() const { return log_ != nullptr || trace_.tape() != nullptr; }

  // The bytes consumed since the last record, from the end or from the front: their
  // positions (counted from that end), which the record then covers.
  std::size_t skip_back() {
    const std::size_t from = back_;
    back_ = size_ - front_ - in_.remaining_bytes();
    return from;
  }
  std::size_t skip_front() {
    const std::size_t from = front_;
    front_ = size_ - back_ - in_.remaining_bytes();
    return from;
  }
  // A read before any op (none in the current targets) opens an unnamed one.
  TapeOp& current() {
    Tape& t = *trace_.tape();
    if (t.ops.empty()) t.ops.push_back(TapeOp{});
    return t.ops.back();
  }
  void record_int(std::uint64_t min, std::uint64_t span, std::uint64_t off, TapeRead::Kind kind) {
    const std::size_t from = skip_back();
    if (log_) log_->read(kind, min, span, off, 0, true, from, back_);
    if (!trace_.tape()) return;
    TapeRead r;
    r.kind = kind;
    r.min = min;
    r.span = span;
    r.off = off;
    r.raw = read_bytes(data_, size_, true, from, back_);
    current().reads.push_back(std::move(r));
  }
  void record_front(TapeRead::Kind kind, std::size_t want) {
    const std::size_t from = skip_front();
    if (log_) log_->read(kind, 0, 0, 0, want, false, from, front_);
    if (!trace_.tape()) return;
    TapeRead r;
    r.kind = kind;
    r.want = want;
    r.raw = read_bytes(data_, size_, false, from, front_);
    current().reads.push_back(std::move(r));
  }

  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t front_ = 0, back_ = 0;  // bytes recorded from each end
  bool has_code_ = false;
  std::uint8_t code_ = 0;
  FuzzedDataProvider in_;
  Trace& trace_;
  TapeLog* log_;  // until "finish"
};

}  // namespace ics_fuzz
