// A deliberately buggy fuzz target for the ics-triage tests. It links with libFuzzer (clang)
// or with the project's replay driver (fuzz/driver/replay_main.cpp), so the tests can check
// that both give a crash the same key. The first input byte picks the bug:
//   'R' + n bytes: heap-buffer-overflow READ 1 (reads data[size + 1] of a copy; n is noise
//                  that -minimize_crash can remove)
//   'O': a broken oracle (ICS_FUZZ_CHECK from fuzz/fuzz_check.h: prints, then traps)
//   'T': never returns (a timeout)
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_check.h"

namespace {

__attribute__((noinline)) std::uint8_t peek_past(const std::vector<std::uint8_t>& copy) {
  return copy.data()[copy.size() + 1];  // TRIAGE-MARK: fuzz-read
}

__attribute__((noinline)) void check_roundtrip(std::size_t size) {
  ICS_FUZZ_CHECK(size == 0);  // TRIAGE-MARK: fuzz-oracle
}

__attribute__((noinline)) void spin(std::size_t size) {
  volatile std::size_t sink = 0;
  for (;;) sink = sink + size;  // TRIAGE-MARK: fuzz-spin
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::vector<std::uint8_t> copy(data, data + size);
  volatile std::uint8_t sink = 0;
  if (data[0] == 'R') sink = peek_past(copy);
  if (data[0] == 'O') check_roundtrip(size);
  if (data[0] == 'T') spin(size);
  (void)sink;
  return 0;
}
