// Figures of a memory account or of MemoryStats (live bytes and objects, in total and per
// ObjectKind) as one comparable value, for the unit tests of memory.h and session.h.
#pragma once

#include <array>
#include <cstddef>

#include "ics/memory.h"

namespace ics::test {

struct Figures {
  std::size_t bytes, objects;
  std::array<std::size_t, kObjectKindCount> kind_bytes, kind_objects;
  bool operator==(const Figures&) const = default;
};

// A: anything with live_bytes(), live_objects(), bytes(kind) and objects(kind).
template <class A>
Figures figures(const A& a) {
  Figures f{a.live_bytes(), a.live_objects(), {}, {}};
  for (std::size_t k = 0; k < kObjectKindCount; ++k) {
    f.kind_bytes[k] = a.bytes(static_cast<ObjectKind>(k));
    f.kind_objects[k] = a.objects(static_cast<ObjectKind>(k));
  }
  return f;
}

}  // namespace ics::test
