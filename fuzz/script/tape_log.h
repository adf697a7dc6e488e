// The Tape of the input the target ran last, logged while it ran, so the script mutator's next
// call does not run that input again to decode it. libFuzzer mutates the input it has just run
// (up to -mutate_depth times in a row, each mutant run before the next mutation), so most of
// the mutator's inputs are the last one run; decoding one by running it cost about a third of
// the deep targets' executions per second.
//
// Every read is logged as the positions of its bytes in the input, into storage reserved when
// the log is made (before the process-heap oracle's first reading, fuzz_heap.h), so logging
// allocates nothing inside the oracle's window. An input or a script larger than that storage
// is not logged; the mutator then runs it as before. tape_for() gives the Tape only for the
// very bytes logged, equal to record_tape's (tests/script_mutator_test.cpp checks both on
// every seed).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

#include "script/tape.h"

namespace ics_fuzz {

class TapeLog {
 public:
  static constexpr std::size_t kMaxInput = std::size_t{1} << 16;
  static constexpr std::size_t kMaxReads = std::size_t{1} << 15;
  static constexpr std::size_t kMaxOps = std::size_t{1} << 12;
  static constexpr std::size_t kMaxName = 31;

  TapeLog() {
    input_.reserve(kMaxInput);
    reads_.reserve(kMaxReads);
    ops_.reserve(kMaxOps);
  }
  TapeLog(const TapeLog&) = delete;
  TapeLog& operator=(const TapeLog&) = delete;

  // A run of `data` begins: what was logged before is dropped.
  void start(const std::uint8_t* data, std::size_t size) {
    reads_.clear();
    ops_.clear();
    finished_ = false;
    valid_ = size <= kMaxInput;
    input_.assign(data, data + (valid_ ? size : 0));
  }
  void op(std::string_view name, bool has_code, std::uint8_t code) {
    if (!valid_) return;
    if (ops_.size() == kMaxOps || name.size() > kMaxName) {
      valid_ = false;
      return;
    }
    Op o;
    std::memcpy(o.name, name.data(), name.size());
    o.name_size = static_cast<std::uint8_t>(name.size());
    o.has_code = has_code;
    o.code = code;
    o.first_read = reads_.size();
    ops_.push_back(o);
  }
  // A read whose bytes are input[from, to) (from the front) or the input's last bytes from
  // `from` to `to` counted from the end (from the back, in the order taken).
  void read(TapeRead::Kind kind, std::uint64_t min, std::uint64_t span, std::uint64_t off, std::size_t want,
            bool from_back, std::size_t from, std::size_t to) {
    if (!valid_) return;
    if (reads_.size() == kMaxReads || (ops_.empty() && !open_unnamed())) {
      valid_ = false;
      return;
    }
    reads_.push_back(Read{kind, from_back, min, span, off, want, from, to});
  }
  // "finish": the bytes not read before it are input[front, end).
  void finish(std::size_t front, std::size_t end) {
    rest_front_ = front;
    rest_end_ = end;
    finished_ = true;
  }

  // The Tape of the logged run, when `data` is the input it ran and the log is whole.
  std::optional<Tape> tape_for(const std::uint8_t* data, std::size_t size) const {
    if (!valid_ || !finished_ || size != input_.size() || !std::equal(data, data + size, input_.begin())) {
      return std::nullopt;
    }
    Tape t;
    t.ops.reserve(ops_.size());
    for (std::size_t i = 0; i < ops_.size(); ++i) {
      const Op& o = ops_[i];
      TapeOp op{std::string(o.name, o.name_size), o.has_code, o.code, {}};
      const std::size_t end = i + 1 < ops_.size() ? ops_[i + 1].first_read : reads_.size();
      for (std::size_t r = o.first_read; r < end; ++r) op.reads.push_back(tape_read(reads_[r]));
      t.ops.push_back(std::move(op));
    }
    t.rest.assign(input_.begin() + static_cast<std::ptrdiff_t>(rest_front_),
                  input_.begin() + static_cast<std::ptrdiff_t>(rest_end_));
    t.finished = true;
    return t;
  }

 private:
  struct Op {
    char name[kMaxName];
    std::uint8_t name_size;
    bool has_code;
    std::uint8_t code;
    std::size_t first_read;
  };
  struct Read {
    TapeRead::Kind kind;
    bool from_back;
    std::uint64_t min, span, off;
    std::size_t want, from, to;
  };

  // A read before any op (none in the current targets) opens an unnamed one, as in a Tape.
  bool open_unnamed() {
    op({}, false, 0);
    return valid_;
  }
  TapeRead tape_read(const Read& r) const {
    TapeRead t;
    t.kind = r.kind;
    t.min = r.min;
    t.span = r.span;
    t.off = r.off;
    t.want = r.want;
    t.raw = read_bytes(input_.data(), input_.size(), r.from_back, r.from, r.to);
    return t;
  }

  std::vector<std::uint8_t> input_;
  std::vector<Read> reads_;
  std::vector<Op> ops_;
  std::size_t rest_front_ = 0, rest_end_ = 0;
  bool valid_ = false;
  bool finished_ = false;
};

// The process's log of the last run: made (its storage reserved) on the first call.
inline TapeLog& last_run_log() {
  static TapeLog log;
  return log;
}

}  // namespace ics_fuzz
