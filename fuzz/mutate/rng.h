// The random source of the structure-aware mutators: splitmix64 (ics/splitmix.h)
// seeded from libFuzzer's per-call seed, so a mutation is a pure function of
// (input, seed). Every mutator call makes a new generator, so seeding costs
// nothing (a Mersenne Twister would fill 312 words first). Also the shape of a
// byte-level fallback mutator (LLVMFuzzerMutate's signature) and the run-time
// switch that turns the custom mutators off (ICS_FUZZ_BYTE_ONLY=1), so that
// byte-level and structured mutation can be compared with the same binary.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>
#include <algorithm>

#include "ics/splitmix.h"

namespace ics_fuzz {

// LLVMFuzzerMutate's signature: mutates data[0, size) in place, returns the
// new size (at most max_size).
using ByteMutator = std::size_t (*)(std::uint8_t* data, std::size_t size, std::size_t max_size);

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  // Uniform in [0, n); 0 when n == 0.
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }
  bool one_in(std::uint64_t n) { return below(n) == 0; }
  std::uint64_t bits() { return next(); }
  std::uint8_t byte() { return static_cast<std::uint8_t>(next()); }
  template <class T, std::size_t N>
  const T& pick(const T (&a)[N]) {
    return a[below(N)];
  }

 private:
  std::uint64_t next() { return ics::splitmix64_next(state_); }
  std::uint64_t state_;
};

// Whether ICS_FUZZ_BYTE_ONLY is set to a non-empty value other than "0": the
// custom mutators then hand every call to libFuzzer's byte mutation.
inline bool byte_only() {
  static const bool on = [] {
    const char* v = std::getenv("ICS_FUZZ_BYTE_ONLY");
    return v != nullptr && *v != '\0' && !(v[0] == '0' && v[1] == '\0');
  }();
  return on;
}

}  // namespace ics_fuzz

namespace ics_fuzz {

// libFuzzer calls a custom crossover as often as the custom mutator; since a
// crossover cuts both inputs, it works one call in kCrossOverOneIn and returns
// 0 otherwise (libFuzzer then mutates instead).
inline constexpr std::uint64_t kCrossOverOneIn = 4;

// Copies a mutant to libFuzzer's buffer; 0 when it does not fit.
inline std::size_t emit(const std::vector<std::uint8_t>& mutant, std::uint8_t* out,
                        std::size_t max_size) {
  if (mutant.size() > max_size) return 0;
  std::copy(mutant.begin(), mutant.end(), out);
  return mutant.size();
}

// The byte fallback: one call in `one_in` (and whenever `structured` gave 0).
template <class Structured>
std::size_t with_fallback(std::uint8_t* data, std::size_t size, std::size_t max_size, Rng& rng,
                          ByteMutator bytes, Structured structured) {
  if (bytes != nullptr && rng.one_in(5)) return bytes(data, size, max_size);
  std::size_t n = structured();
  if (n != 0) return n;
  return bytes != nullptr ? bytes(data, size, max_size) : size;
}

}  // namespace ics_fuzz
