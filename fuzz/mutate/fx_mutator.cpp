// See fx_mutator.h.
#include "mutate/fx_mutator.h"

#include <algorithm>
#include <iterator>
#include <utility>
#include <variant>

#include "fxstream_input.h"
#include "ics/props.h"

namespace ics_fuzz {
namespace {

using ics::Bytes;
using ics::FxEvent;
using ics::PropData;
using ics::PropTag;
namespace ptyp = ics::ptyp;

constexpr std::uint16_t kTypes[] = {
    ptyp::kInteger16, ptyp::kInteger32, ptyp::kFloating32, ptyp::kFloating64, ptyp::kCurrency,
    ptyp::kFloatingTime, ptyp::kErrorCode, ptyp::kBoolean, ptyp::kInteger64, ptyp::kTime,
    ptyp::kGuid, ptyp::kString8, ptyp::kString, ptyp::kBinary, ptyp::kServerId, ptyp::kObject,
    ptyp::kMultipleFlag | ptyp::kInteger16, ptyp::kMultipleFlag | ptyp::kInteger32,
    ptyp::kMultipleFlag | ptyp::kInteger64, ptyp::kMultipleFlag | ptyp::kGuid,
    ptyp::kMultipleFlag | ptyp::kString, ptyp::kMultipleFlag | ptyp::kString8,
    ptyp::kMultipleFlag | ptyp::kBinary, ptyp::kCodePageFlag | 1252, ptyp::kCodePageUnicode,
};
// Property ids of ICS (2.2.1) and a few common ones; 0x4017 is MetaTagIdsetGiven.
constexpr std::uint16_t kIds[] = {0x65E0, 0x65E1, 0x65E2, 0x65E3, 0x3008, 0x3007, 0x67AA,
                                  0x674A, 0x6796, 0x67DA, 0x67D2, 0x67E5, 0x4021, 0x402D,
                                  0x0E07, 0x0037, 0x1000, 0x3001, 0x4017, 0x0FFF};

std::uint16_t wire_type(PropTag tag) {
  return tag == ics::tags::kMetaTagIdsetGiven ? ptyp::kBinary : tag.type();
}

std::uint64_t mask(std::size_t size) {
  return size >= 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * size)) - 1;
}

std::uint64_t integer(Rng& rng, std::size_t size) {
  static constexpr std::uint64_t kInteresting[] = {0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000,
                                                   0xFFFF, 0x7FFFFFFF, 0x80000000, ~0ull};
  std::uint64_t v = rng.one_in(2) ? rng.pick(kInteresting) : rng.bits();
  return v & mask(size);
}

ics::Guid guid(Rng& rng) {
  ics::Guid g;
  if (rng.one_in(2)) return ics::Guid::from_seed(rng.below(4));  // a few recurring ones
  for (auto& b : g.bytes) b = rng.byte();
  return g;
}

// Variable-size bytes; strings of the type's unit with a terminator, mostly.
Bytes var_bytes(Rng& rng, std::uint16_t type) {
  std::size_t n = rng.one_in(4) ? rng.below(300) : rng.below(17);
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng.one_in(2) ? 'a' + rng.below(26) : rng.byte());
  bool utf16 = type == ptyp::kString || type == ptyp::kCodePageUnicode;
  bool text = utf16 || type == ptyp::kString8 || (type & ptyp::kCodePageFlag) != 0;
  if (text && !rng.one_in(8)) {
    if (utf16 && b.size() % 2 != 0) b.push_back(0);
    b.insert(b.end(), utf16 ? 2 : 1, 0);
  }
  return b;
}

PropData value_for(std::uint16_t type, Rng& rng) {
  const auto base = static_cast<std::uint16_t>(type & ~ptyp::kMultipleFlag);
  if (!ics::is_multi_type(type)) {
    if (type == ptyp::kGuid) return guid(rng);
    if (ics::fixed_size(type) != 0) return integer(rng, ics::fixed_size(type));
    return var_bytes(rng, type);
  }
  std::size_t n = rng.below(4);
  if (base == ptyp::kGuid) {
    std::vector<ics::Guid> v(n);
    for (auto& g : v) g = guid(rng);
    return v;
  }
  if (ics::fixed_size(base) != 0) {
    std::vector<std::uint64_t> v(n);
    for (auto& x : v) x = integer(rng, ics::fixed_size(base));
    return v;
  }
  std::vector<Bytes> v(n);
  for (auto& b : v) b = var_bytes(rng, base);
  return v;
}

// The old value carried over to the new type where the representation allows.
PropData convert(const PropData& old, std::uint16_t type, Rng& rng) {
  if (!ics::is_multi_type(type)) {
    std::size_t size = ics::fixed_size(type);
    if (const auto* v = std::get_if<std::uint64_t>(&old); v && size != 0 && type != ptyp::kGuid) {
      return *v & mask(size);
    }
    if (std::holds_alternative<Bytes>(old) && ics::is_variable_type(type)) return old;
  }
  return value_for(type, rng);
}

ics::NamedProp named(Rng& rng) {
  ics::NamedProp n;
  n.set = ics::Guid::from_seed(0x5E7 + rng.below(3));
  if (rng.one_in(2)) {
    n.kind = 0;
    n.lid = static_cast<std::uint32_t>(integer(rng, 4));
  } else {
    n.kind = 1;
    std::size_t len = rng.below(rng.one_in(4) ? 200 : 12);
    for (std::size_t i = 0; i < len; ++i) n.name.push_back(static_cast<char16_t>(u'a' + rng.below(26)));
  }
  return n;
}

ics::PropValue random_property(Rng& rng) {
  ics::PropValue v;
  if (rng.one_in(10)) {
    v.tag = ics::tags::kMetaTagIdsetGiven;
    v.data = var_bytes(rng, ptyp::kBinary);
    return v;
  }
  std::uint16_t type = rng.pick(kTypes);
  bool is_named = rng.one_in(5);
  std::uint16_t id = is_named ? static_cast<std::uint16_t>(0x8000 + rng.below(0x8000)) : rng.pick(kIds);
  v.tag = PropTag(id, type);
  if (v.tag == ics::tags::kMetaTagIdsetGiven) type = ptyp::kBinary;
  if (ics::is_marker(v.tag.value)) v.tag = PropTag(0x0E07, type);
  if (is_named) v.named = named(rng);
  v.data = value_for(type, rng);
  return v;
}

std::vector<std::size_t> properties(const std::vector<FxEvent>& es) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < es.size(); ++i) {
    if (es[i].kind == FxEvent::Kind::Property) out.push_back(i);
  }
  return out;
}

bool resize_value(ics::PropValue& v, Rng& rng) {
  auto resize = [&rng](auto& seq, auto fresh) {
    bool grow = seq.empty() || rng.one_in(2);
    std::size_t by = 1 + rng.below(rng.one_in(4) ? 256 : 8);
    if (grow) {
      for (std::size_t i = 0; i < by; ++i) seq.insert(seq.begin() + static_cast<std::ptrdiff_t>(rng.below(seq.size() + 1)), fresh());
    } else {
      seq.resize(seq.size() - std::min(by, seq.size()));
    }
  };
  const auto base = static_cast<std::uint16_t>(wire_type(v.tag) & ~ptyp::kMultipleFlag);
  if (auto* b = std::get_if<Bytes>(&v.data)) {
    resize(*b, [&rng] { return rng.byte(); });
  } else if (auto* ints = std::get_if<std::vector<std::uint64_t>>(&v.data)) {
    std::size_t size = ics::fixed_size(base);
    resize(*ints, [&rng, size] { return integer(rng, size); });
  } else if (auto* gs = std::get_if<std::vector<ics::Guid>>(&v.data)) {
    resize(*gs, [&rng] { return guid(rng); });
  } else if (auto* bs = std::get_if<std::vector<Bytes>>(&v.data)) {
    resize(*bs, [&rng, base] { return var_bytes(rng, base); });
  } else {
    return false;
  }
  return true;
}

bool tweak_value(ics::PropValue& v, Rng& rng) {
  const std::uint16_t type = wire_type(v.tag);
  const std::size_t size = ics::fixed_size(static_cast<std::uint16_t>(type & ~ptyp::kMultipleFlag));
  auto tweak_int = [&rng, size](std::uint64_t& x) {
    switch (rng.below(4)) {
      case 0: x = (x + 1) & mask(size); break;
      case 1: x = (x - 1) & mask(size); break;
      case 2: x ^= (std::uint64_t{1} << rng.below(8 * size)); break;
      default: x = integer(rng, size); break;
    }
  };
  auto tweak_bytes = [&rng](Bytes& b) {
    if (b.empty()) return false;
    std::uint8_t& x = b[rng.below(b.size())];
    x = rng.one_in(3) ? 0 : static_cast<std::uint8_t>(x ^ (1u << rng.below(8)));
    return true;
  };
  if (auto* x = std::get_if<std::uint64_t>(&v.data)) {
    tweak_int(*x);
  } else if (auto* g = std::get_if<ics::Guid>(&v.data)) {
    g->bytes[rng.below(16)] ^= static_cast<std::uint8_t>(1u << rng.below(8));
  } else if (auto* b = std::get_if<Bytes>(&v.data)) {
    return tweak_bytes(*b);
  } else if (auto* ints = std::get_if<std::vector<std::uint64_t>>(&v.data)) {
    if (ints->empty()) return false;
    tweak_int((*ints)[rng.below(ints->size())]);
  } else if (auto* bs = std::get_if<std::vector<Bytes>>(&v.data)) {
    if (bs->empty()) return false;
    return tweak_bytes((*bs)[rng.below(bs->size())]);
  } else {
    return false;
  }
  return true;
}

bool toggle_named(ics::PropValue& v, Rng& rng) {
  if (v.tag == ics::tags::kMetaTagIdsetGiven) return false;
  if (v.named && rng.one_in(2)) {  // another name, or a LID for a name
    v.named = named(rng);
    return true;
  }
  if (v.named) {
    v.tag = PropTag(rng.pick(kIds), v.tag.type());
    if (v.tag.id() == 0x4017) v.tag = PropTag(0x0E07, v.tag.type());
    v.named.reset();
  } else {
    v.tag = PropTag(static_cast<std::uint16_t>(0x8000 + rng.below(0x8000)), v.tag.type());
    v.named = named(rng);
  }
  return true;
}

bool change_type(ics::PropValue& v, Rng& rng) {
  std::uint16_t type = rng.pick(kTypes);
  if (type == v.tag.type()) return false;
  v.tag = PropTag(v.tag.id(), type);
  v.data = convert(v.data, wire_type(v.tag), rng);
  return true;
}

}  // namespace

FxElements split_fx(ics::ByteView stream) {
  ics::FxParser p;
  const bool whole = p.feed(stream).ok() && p.finish().ok();
  FxElements e;
  e.events = p.take_events();
  if (whole) return e;
  ics::FxWriter w;
  for (const FxEvent& ev : e.events) (void)w.event(ev);
  std::size_t done = std::min(w.size(), stream.size());  // the events came from that prefix
  e.tail.assign(stream.begin() + static_cast<std::ptrdiff_t>(done), stream.end());
  return e;
}

std::optional<Bytes> join_fx(const FxElements& e) {
  ics::FxWriter w;
  for (const FxEvent& ev : e.events) {
    if (!w.event(ev).ok()) return std::nullopt;
  }
  Bytes out = w.take();
  out.insert(out.end(), e.tail.begin(), e.tail.end());
  return out;
}

bool mutate_fx(FxMutation kind, FxElements& e, Rng& rng) {
  auto& es = e.events;
  const std::size_t n = es.size();
  auto at = [&rng](std::size_t size) { return static_cast<std::ptrdiff_t>(rng.below(size)); };
  const std::vector<std::size_t> props = properties(es);
  ics::PropValue* prop = nullptr;
  if (!props.empty()) {
    FxEvent& ev = es[props[rng.below(props.size())]];
    prop = &ev.value;
  }
  switch (kind) {
    case FxMutation::DeleteEvent:
      if (n == 0) return false;
      es.erase(es.begin() + at(n));
      return true;
    case FxMutation::DuplicateEvent: {
      if (n == 0) return false;
      std::size_t i = rng.below(n);
      es.insert(es.begin() + static_cast<std::ptrdiff_t>(i), FxEvent(es[i]));
      return true;
    }
    case FxMutation::SwapEvents: {
      if (n < 2) return false;
      std::size_t i = rng.below(n), j = rng.below(n);
      if (es[i] == es[j]) return false;
      std::swap(es[i], es[j]);
      return true;
    }
    case FxMutation::CopyEvent: {
      if (n == 0) return false;
      FxEvent copy = es[rng.below(n)];
      es.insert(es.begin() + at(n + 1), std::move(copy));
      return true;
    }
    case FxMutation::InsertMarker:
      es.insert(es.begin() + at(n + 1), FxEvent::marker(rng.pick(ics::markers::kAll)));
      return true;
    case FxMutation::InsertProperty:
      es.insert(es.begin() + at(n + 1), FxEvent::property(random_property(rng)));
      return true;
    case FxMutation::ChangeType:
      if (prop == nullptr || !change_type(*prop, rng)) return false;
      break;
    case FxMutation::ResizeValue:
      if (prop == nullptr || !resize_value(*prop, rng)) return false;
      break;
    case FxMutation::TweakValue:
      if (prop == nullptr || !tweak_value(*prop, rng)) return false;
      break;
    case FxMutation::ToggleNamed:
      if (prop == nullptr || !toggle_named(*prop, rng)) return false;
      break;
    case FxMutation::DropTail:
      if (e.tail.empty()) return false;
      e.tail.clear();
      return true;
    default:
      return false;
  }
  if (ics::is_marker(prop->tag.value)) return false;  // a value under a marker's tag: not writable
  for (std::size_t i : props) es[i].tag = es[i].value.tag;  // the event's tag follows its value
  return true;
}

bool mutate_fx_stream(Bytes& stream, Rng& rng) {
  const auto kinds = static_cast<std::uint64_t>(FxMutation::kCount);
  // An attempt that fails may have edited a value before giving up: the stream is cut
  // again after a failure instead of copying the elements before every attempt.
  FxElements e = split_fx(ics::ByteView(stream));
  for (int attempt = 0; attempt < 8; ++attempt) {
    if (attempt > 0) e = split_fx(ics::ByteView(stream));
    if (!mutate_fx(static_cast<FxMutation>(rng.below(kinds)), e, rng)) continue;
    std::optional<Bytes> out = join_fx(e);
    if (!out || *out == stream) continue;
    stream = std::move(*out);
    return true;
  }
  return false;
}

namespace {

struct FxInputParts {
  Bytes stream;
  std::vector<std::uint8_t> sizes;
  unsigned limit_index = 0;
};

FxInputParts parts_of(const Bytes& input) {
  FxInputParts p;
  if (input.empty()) return p;
  const std::uint8_t control = input.back();
  const std::size_t n = std::min<std::size_t>(control & 15, input.size() - 1);
  p.limit_index = control >> 4;
  p.stream.assign(input.begin(), input.end() - 1 - static_cast<std::ptrdiff_t>(n));
  p.sizes.assign(input.end() - 1 - static_cast<std::ptrdiff_t>(n), input.end() - 1);
  return p;
}

std::vector<std::uint8_t> random_sizes(Rng& rng) {
  std::vector<std::uint8_t> s(rng.below(16));
  for (auto& x : s) {
    x = static_cast<std::uint8_t>(rng.one_in(4) ? rng.below(4) : 1 + rng.below(rng.one_in(2) ? 24 : 255));
  }
  return s;
}

// Chunk sizes whose first boundary falls at `cut` (then one random size); false if it
// needs more than fifteen sizes.
bool sizes_cutting_at(std::size_t cut, Rng& rng, std::vector<std::uint8_t>& out) {
  out.assign(cut / 255, 255);
  if (cut % 255 != 0) out.push_back(static_cast<std::uint8_t>(cut % 255));
  out.push_back(static_cast<std::uint8_t>(1 + rng.below(rng.one_in(2) ? 8 : 255)));
  return out.size() <= 15;
}

bool split_inside_element(FxInputParts& p, Rng& rng) {
  FxElements e = split_fx(ics::ByteView(p.stream));
  ics::FxWriter w;
  std::vector<std::pair<std::size_t, std::size_t>> spans;  // [start, end) of each element
  for (const FxEvent& ev : e.events) {
    std::size_t start = w.size();
    if (!w.event(ev).ok()) return false;
    if (w.size() - start >= 2) spans.emplace_back(start, w.size());
  }
  if (spans.empty()) return false;
  auto [start, end] = spans[rng.below(spans.size())];
  std::size_t cut = start + 1 + rng.below(end - start - 1);
  return sizes_cutting_at(cut, rng, p.sizes);
}

}  // namespace

bool mutate_fx_input(FxInputMutation kind, Bytes& input, Rng& rng) {
  FxInputParts p = parts_of(input);
  switch (kind) {
    case FxInputMutation::Stream:
      if (!mutate_fx_stream(p.stream, rng)) return false;
      break;
    case FxInputMutation::Resplit:
      p.sizes = random_sizes(rng);
      break;
    case FxInputMutation::SplitInsideElement:
      if (!split_inside_element(p, rng)) return false;
      break;
    case FxInputMutation::Limit:
      p.limit_index = static_cast<unsigned>(rng.below(16));
      break;
    default:
      return false;
  }
  Bytes out = make_fx_input(ics::ByteView(p.stream), p.sizes, p.limit_index);
  if (out == input) return false;
  input = std::move(out);
  return true;
}

bool mutate_fx_input(Bytes& input, Rng& rng) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    // Mostly the stream; a chunk boundary inside an element often (values cut across buffers).
    std::uint64_t r = rng.below(16);
    FxInputMutation kind = r < 10 ? FxInputMutation::Stream
                           : r < 13 ? FxInputMutation::SplitInsideElement
                           : r < 15 ? FxInputMutation::Resplit : FxInputMutation::Limit;
    if (mutate_fx_input(kind, input, rng)) return true;
  }
  return false;
}

std::size_t fxstream_custom_mutate(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                   unsigned seed, ByteMutator bytes) {
  Rng rng(seed);
  return with_fallback(data, size, max_size, rng, bytes, [&]() -> std::size_t {
    Bytes input(data, data + size);
    if (!mutate_fx_input(input, rng)) return 0;
    return emit(input, data, max_size);
  });
}

std::size_t fxstream_custom_crossover(const std::uint8_t* a, std::size_t a_size,
                                      const std::uint8_t* b, std::size_t b_size,
                                      std::uint8_t* out, std::size_t max_out, unsigned seed) {
  Rng rng(seed);
  if (!rng.one_in(kCrossOverOneIn)) return 0;  // libFuzzer then mutates instead
  FxInputParts pa = parts_of(Bytes(a, a + a_size)), pb = parts_of(Bytes(b, b + b_size));
  FxElements ea = split_fx(ics::ByteView(pa.stream)), eb = split_fx(ics::ByteView(pb.stream));
  std::size_t i = rng.below(ea.events.size() + 1), j = rng.below(eb.events.size() + 1);
  FxElements c;
  c.events.assign(ea.events.begin(), ea.events.begin() + static_cast<std::ptrdiff_t>(i));
  c.events.insert(c.events.end(), eb.events.begin() + static_cast<std::ptrdiff_t>(j), eb.events.end());
  c.tail = eb.tail;
  std::optional<Bytes> stream = join_fx(c);
  if (!stream) return 0;
  return emit(make_fx_input(ics::ByteView(*stream), pa.sizes, pa.limit_index), out, max_out);
}

}  // namespace ics_fuzz
