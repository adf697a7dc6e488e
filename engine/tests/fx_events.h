// FastTransfer events for the fxstream and fxdescribe tests: a marker, a property, a named
// property, and UTF-16 text as the stream carries it.
#pragma once

#include <optional>
#include <string_view>
#include <utility>

#include "ics/fxstream.h"

namespace ics::fx_events {

inline FxEvent marker(std::uint32_t tag) { return FxEvent::marker(tag); }
inline FxEvent prop(std::uint32_t tag, PropData data) {
  return FxEvent::property(PropValue{PropTag(tag), std::nullopt, std::move(data)});
}
inline FxEvent named(std::uint32_t tag, NamedProp n, PropData data) {
  return FxEvent::property(PropValue{PropTag(tag), std::move(n), std::move(data)});
}
inline Bytes utf16(std::string_view s) { return *PropValue::unicode(PropTag(), s).as_bytes(); }

}  // namespace ics::fx_events
