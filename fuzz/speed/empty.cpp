// The empty fuzz target: the yardstick of ci/fuzz-speed. It is compiled and linked with exactly
// the flags of the real targets (sanitizers, coverage instrumentation, fuzzing engine) and does
// nothing with its input, so its exec/s is what libFuzzer and the sanitizers cost on their own
// on this box at this moment. Not a real target: fuzz/targets does not list it.
#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)data;
  (void)size;
  return 0;
}
