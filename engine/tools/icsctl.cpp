// icsctl: the command-line view of the engine's wire formats. Its output is a
// contract other tools rely on (README.md, "icsctl"); keep the JSON shapes as
// they are. Malformed input: exit 2 and "error: <ErrorName>: <what>".
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "ics/bytes.h"
#include "ics/errors.h"
#include "ics/fxstream.h"
#include "ics/globset.h"
#include "ics/idset.h"
#include "ics/props.h"
#include "icsctl_sync.h"

namespace ics::tool {
namespace {

using json = nlohmann::ordered_json;

constexpr std::string_view kUsage =
    "usage: icsctl <command> ...\n"
    "  globset decode HEX             print the ranges as JSON [[low,high],...]\n"
    "  globset encode                 read [[low,high],...] on stdin, print hex\n"
    "  idset decode [--replguid] HEX  print [{\"replid\":N,\"ranges\":[...]}]\n"
    "                                 (or \"guid\":\"...\" with --replguid)\n"
    "  idset encode [--replguid]      read that JSON on stdin, print hex\n"
    "  fx dump FILE                   print a FastTransfer stream, one element a line,\n"
    "                                 IDSETs decoded\n"
    "  state dump FILE                print an ICS state stream with its IDSETs decoded\n"
    "  sync --seed N [--messages M] [--changes K] [--buffer-size B] --out DIR\n"
    "                                 run a real conversation against the built-in engine;\n"
    "                                 writes DIR/{1.fx,1.state,2.fx,2.state,hierarchy.fx,summary.json}\n"
    "Malformed input: exit 2 and one line 'error: <ErrorName>: <what>' on stderr.\n";

json ranges_json(const Globset& s) {
  json out = json::array();
  for (const GlobRange& r : s.ranges()) out.push_back(json::array({r.low, r.high}));
  return out;
}

Result<Globset> ranges_from_json(const json& j) {
  if (!j.is_array()) return Error(ErrorCode::InvalidParameter, "ranges must be a JSON array");
  std::vector<GlobRange> ranges;
  ranges.reserve(j.size());
  for (const json& r : j) {
    if (!r.is_array() || r.size() != 2 || !r[0].is_number_unsigned() || !r[1].is_number_unsigned()) {
      return Error(ErrorCode::InvalidParameter, "each range must be [low,high] of unsigned integers");
    }
    ranges.push_back({r[0].get<std::uint64_t>(), r[1].get<std::uint64_t>()});
  }
  return Globset::from_ranges(std::move(ranges));
}

Result<json> read_json_stdin() {
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error(ErrorCode::InvalidParameter, "stdin is not valid JSON");
  return j;
}

Status print_line(const std::string& s) {
  std::cout << s << '\n';
  return ok_status();
}

Status globset_decode(std::string_view hex) {
  ICS_TRY_ASSIGN(Bytes raw, from_hex(hex));
  ICS_TRY_ASSIGN(Globset s, decode_globset(ByteView(raw)));
  return print_line(ranges_json(s).dump());
}

Status globset_encode() {
  ICS_TRY_ASSIGN(json j, read_json_stdin());
  ICS_TRY_ASSIGN(Globset s, ranges_from_json(j));
  return print_line(to_hex(encode_globset(s)));
}

template <class Key>
json idset_json(const BasicIdSet<Key>& s) {
  json out = json::array();
  for (const auto& [key, set] : s.replicas()) {
    json e = json::object();
    if constexpr (std::is_same_v<Key, Guid>) {
      e["guid"] = key.to_string();
    } else {
      e["replid"] = key;
    }
    e["ranges"] = ranges_json(set);
    out.push_back(std::move(e));
  }
  return out;
}

Status idset_decode(std::string_view hex, bool replguid) {
  ICS_TRY_ASSIGN(Bytes raw, from_hex(hex));
  if (replguid) {
    ICS_TRY_ASSIGN(GuidIdSet s, decode_replguid_idset(raw));
    return print_line(idset_json(s).dump());
  }
  ICS_TRY_ASSIGN(IdSet s, decode_replid_idset(raw));
  return print_line(idset_json(s).dump());
}

template <class Key>
Status add_entry(BasicIdSet<Key>& s, const Key& key, const json& ranges) {
  ICS_TRY_ASSIGN(Globset set, ranges_from_json(ranges));
  s.insert(key, set);
  return ok_status();
}

Result<Guid> guid_from_json(const json& e) {
  if (!e.contains("guid") || !e["guid"].is_string()) {
    return Error(ErrorCode::InvalidParameter, "each entry needs \"guid\" (a GUID string)");
  }
  return Guid::parse(e["guid"].get<std::string>());
}

Result<Replid> replid_from_json(const json& e) {
  if (!e.contains("replid") || !e["replid"].is_number_unsigned() || e["replid"].get<std::uint64_t>() > 0xFFFF) {
    return Error(ErrorCode::InvalidParameter, "each entry needs \"replid\" (0..65535)");
  }
  return static_cast<Replid>(e["replid"].get<std::uint64_t>());
}

Status idset_encode(bool replguid) {
  ICS_TRY_ASSIGN(json j, read_json_stdin());
  if (!j.is_array()) return Error(ErrorCode::InvalidParameter, "an IDSET must be a JSON array");
  GuidIdSet by_guid;
  IdSet by_replid;
  for (const json& e : j) {
    if (!e.is_object() || !e.contains("ranges")) {
      return Error(ErrorCode::InvalidParameter, "each entry must be an object with \"ranges\"");
    }
    if (replguid) {
      ICS_TRY_ASSIGN(Guid g, guid_from_json(e));
      ICS_TRY(add_entry(by_guid, g, e["ranges"]));
    } else {
      ICS_TRY_ASSIGN(Replid r, replid_from_json(e));
      ICS_TRY(add_entry(by_replid, r, e["ranges"]));
    }
  }
  return print_line(to_hex(replguid ? encode_idset(by_guid) : encode_idset(by_replid)));
}

Result<Bytes> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::NotFound, "cannot open " + path);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

bool opens_group(const FxEvent& e) {
  switch (e.tag.value) {
    case markers::kStartTopFld: case markers::kStartSubFld: case markers::kStartMessage:
    case markers::kStartFAIMsg: case markers::kStartEmbed: case markers::kStartRecip:
    case markers::kNewAttach: case markers::kIncrSyncStateBegin:
      return e.kind == FxEvent::Kind::Marker;
    default:
      return false;
  }
}

bool closes_group(const FxEvent& e) {
  switch (e.tag.value) {
    case markers::kEndFolder: case markers::kEndMessage: case markers::kEndEmbed:
    case markers::kEndToRecip: case markers::kEndAttach: case markers::kIncrSyncStateEnd:
      return e.kind == FxEvent::Kind::Marker;
    default:
      return false;
  }
}

// One element a line, indented by nesting; `extra` may add a decoded view.
template <class Extra>
Status dump_events(const std::vector<FxEvent>& events, Extra extra) {
  int depth = 0;
  for (const FxEvent& e : events) {
    if (closes_group(e) && depth > 0) --depth;
    std::string line(static_cast<std::size_t>(depth) * 2, ' ');
    line += describe(e);
    std::cout << line << extra(e) << '\n';
    if (opens_group(e)) ++depth;
  }
  return ok_status();
}

bool is_replguid_state(PropTag t) {
  return t == tags::kMetaTagIdsetGiven || t == tags::kMetaTagIdsetGivenBinary ||
         t == tags::kMetaTagCnsetSeen || t == tags::kMetaTagCnsetSeenFAI || t == tags::kMetaTagCnsetRead;
}

bool is_replid_idset(PropTag t) {
  return t == tags::kMetaTagIdsetDeleted || t == tags::kMetaTagIdsetNoLongerInScope ||
         t == tags::kMetaTagIdsetExpired || t == tags::kMetaTagIdsetRead || t == tags::kMetaTagIdsetUnread;
}

std::string decoded_idset(const FxEvent& e) {
  const Bytes* b = e.kind == FxEvent::Kind::Property ? e.value.as_bytes() : nullptr;
  if (b == nullptr) return {};
  if (is_replguid_state(e.tag)) {
    auto s = decode_replguid_idset(*b);
    return s.ok() ? " = " + idset_json(*s).dump() : " = error: " + s.error().to_string();
  }
  if (is_replid_idset(e.tag)) {
    auto s = decode_replid_idset(*b);
    return s.ok() ? " = " + idset_json(*s).dump() : " = error: " + s.error().to_string();
  }
  return {};
}

// IDSETs (deletions, read state, state) are shown decoded after " = ".
Status fx_dump(const std::string& path) {
  ICS_TRY_ASSIGN(Bytes raw, read_file(path));
  ICS_TRY_ASSIGN(std::vector<FxEvent> events, parse_fx(raw));
  return dump_events(events, decoded_idset);
}

Status state_dump(const std::string& path) {
  ICS_TRY_ASSIGN(Bytes raw, read_file(path));
  ICS_TRY_ASSIGN(std::vector<FxEvent> events, parse_fx(raw));
  for (const FxEvent& e : events) {
    if (e.kind == FxEvent::Kind::Property && is_replguid_state(e.tag)) {
      auto s = decode_replguid_idset(*e.value.as_bytes());
      if (!s.ok()) return s.error();
    }
  }
  return dump_events(events, decoded_idset);
}

Status usage_error(std::string what) { return Error(ErrorCode::InvalidParameter, std::move(what)); }

Status dispatch(const std::vector<std::string>& a) {
  auto is = [&](std::size_t i, std::string_view s) { return a.size() > i && a[i] == s; };
  if (is(0, "globset") && is(1, "decode") && a.size() == 3) return globset_decode(a[2]);
  if (is(0, "globset") && is(1, "encode") && a.size() == 2) return globset_encode();
  if (is(0, "idset") && is(1, "decode")) {
    if (a.size() == 3) return idset_decode(a[2], false);
    if (a.size() == 4 && a[2] == "--replguid") return idset_decode(a[3], true);
  }
  if (is(0, "idset") && is(1, "encode")) {
    if (a.size() == 2) return idset_encode(false);
    if (a.size() == 3 && a[2] == "--replguid") return idset_encode(true);
  }
  if (is(0, "fx") && is(1, "dump") && a.size() == 3) return fx_dump(a[2]);
  if (is(0, "state") && is(1, "dump") && a.size() == 3) return state_dump(a[2]);
  if (is(0, "sync")) return sync_command(std::vector<std::string>(a.begin() + 1, a.end()));
  return usage_error("unknown or malformed command (see icsctl --help)");
}

}  // namespace
}  // namespace ics::tool

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << ics::tool::kUsage;
    return args.empty() ? 2 : 0;
  }
  ics::Status s = ics::tool::dispatch(args);
  if (!s.ok()) {
    const ics::Error& e = s.error();
    std::cerr << "error: " << ics::name(e.code()) << ": " << e.what();
    if (e.offset() != ics::kNoOffset) std::cerr << " (at byte " << e.offset() << ")";
    std::cerr << '\n';
    return 2;
  }
  return 0;
}
