// RopSynchronizationConfigure and the download context (see ics/sync.h).
#include "ics/sync.h"

#include <cstdio>
#include <string>

#include "sync_plan.h"

namespace ics {
namespace {

std::string hex(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%X", v);
  return buf;
}

Error invalid(std::string what) { return Error(ErrorCode::InvalidParameter, std::move(what)); }

Status check_bits(const SyncConfig& c) {
  if (c.type != sync_type::kContents && c.type != sync_type::kHierarchy) {
    return invalid("unknown SynchronizationType " + hex(c.type));
  }
  if ((c.send_options & ~send_options::kKnown) != 0) {
    return invalid("unknown SendOptions bits " + hex(c.send_options & ~send_options::kKnown));
  }
  if ((c.flags & ~sync_flags::kKnown) != 0) {
    return invalid("unknown SynchronizationFlags bits " + hex(c.flags & ~sync_flags::kKnown));
  }
  if ((c.extra_flags & ~extra_flags::kKnown) != 0) {
    return invalid("unknown SynchronizationExtraFlags bits " +
                   hex(c.extra_flags & ~extra_flags::kKnown));
  }
  if (c.has(sync_flags::kUnicode) != ((c.send_options & send_options::kUnicode) != 0)) {
    return invalid("SynchronizationFlags.Unicode does not match SendOptions.Unicode");
  }
  return ok_status();
}

Status check_hierarchy(const SyncConfig& c) {
  if (!c.hierarchy()) return ok_status();
  if ((c.flags & sync_flags::kContentsOnly) != 0) {
    return invalid("contents-only SynchronizationFlags " +
                   hex(c.flags & sync_flags::kContentsOnly) + " on a hierarchy sync");
  }
  if ((c.extra_flags & extra_flags::kContentsOnly) != 0) {
    return invalid("contents-only SynchronizationExtraFlags on a hierarchy sync");
  }
  if (!c.restriction.empty()) return invalid("a restriction on a hierarchy sync");
  return ok_status();
}

Status check_property_tag(PropTag tag) {
  if (tag.type() == 0) return invalid("property tag " + hex(tag.value) + " has type 0");
  if (!is_stream_type(tag.type())) {
    return invalid("property tag " + hex(tag.value) + " has type " + type_name(tag.type()));
  }
  if (is_marker(tag.value)) return invalid("property tag " + hex(tag.value) + " is a marker");
  if (is_meta_property(tag)) {
    return invalid("property tag " + hex(tag.value) + " is a meta-property");
  }
  return ok_status();
}

}  // namespace

Result<std::optional<Restriction>> validate_sync_config(const SyncConfig& config) {
  ICS_TRY(check_bits(config));
  ICS_TRY(check_hierarchy(config));
  for (PropTag tag : config.property_tags) ICS_TRY(check_property_tag(tag));
  if (config.restriction.empty()) return std::optional<Restriction>{};
  ICS_TRY_ASSIGN(Restriction r, Restriction::parse(config.restriction));
  return std::optional<Restriction>(std::move(r));
}

Result<std::uint32_t> sync_configure(Session& session, Fid folder, const SyncConfig& config) {
#if defined(ICS_SEEDED_BUG_ERROR_PATH_LEAK)
  // Seeded bug: the context is built before the property tags are checked, and a bad tag
  // returns without freeing it.
  auto* early = new DownloadContext(session, folder, config, std::nullopt);
  for (PropTag tag : config.property_tags) ICS_TRY(check_property_tag(tag));
  delete early;
#endif
  ICS_TRY_ASSIGN(std::optional<Restriction> restriction, validate_sync_config(config));
  ICS_TRY(session.store().get_folder(folder));
  auto context = std::make_unique<DownloadContext>(session, folder, config, std::move(restriction));
  return session.add(std::move(context));
}

DownloadContext::DownloadContext(Session& session, Fid folder, SyncConfig config,
                                 std::optional<Restriction> restriction)
    : StatefulContext(session, config.hierarchy()),
      session_(&session),
      folder_(folder),
      config_(std::move(config)),
      restriction_(std::move(restriction)),
      source_(session.memory()) {}

std::size_t DownloadContext::footprint() const {
  return sizeof(*this) + config_.property_tags.capacity() * sizeof(PropTag) +
         config_.restriction.capacity() + (restriction_ ? restriction_->footprint() : 0);
}

Status DownloadContext::can_upload_state() const {
  if (started_) return Error(ErrorCode::NotSupported, "the download stream has started");
  return ok_status();
}

Result<IcsState> DownloadContext::transfer_state() {
  if (started_) return final_state_;
  ICS_TRY_ASSIGN(detail::DownloadPlan plan,
                 detail::build_plan(session_->store(), {folder_, config_, restriction_}, state()));
  return std::move(plan.final_state);
}

Status DownloadContext::start() {
  ICS_TRY_ASSIGN(detail::DownloadPlan plan,
                 detail::build_plan(session_->store(), {folder_, config_, restriction_}, state()));
  ICS_TRY_ASSIGN(Charge charge, Charge::make(session_->memory(), ObjectKind::DownloadContext,
                                             state_footprint(plan.final_state)));
  ICS_TRY(source_.load(std::move(plan.stream), std::move(plan.step_ends)));
  final_state_charge_ = std::move(charge);
  final_state_ = std::move(plan.final_state);
  stats_ = plan.stats;
  started_ = true;
  return ok_status();
}

Result<BufferResult> DownloadContext::get_buffer(std::size_t max, Bytes& transfer_buffer) {
  if (upload().open()) return Error(ErrorCode::NotSupported, "a state upload is still open");
  if (max == 0) return Error(ErrorCode::InvalidParameter, "buffer size 0");
  if (!started_) ICS_TRY(start());
  return source_.next(max, transfer_buffer);
}

std::size_t state_footprint(const IcsState& state) {
  constexpr std::size_t kNode = 64;  // a std::map node's overhead, roughly
  std::size_t n = 0;
  for (const GuidIdSet* set : {&state.given, &state.seen, &state.seen_fai, &state.read}) {
    for (const auto& [guid, globset] : set->replicas()) {
      n += kNode + sizeof(Guid) + sizeof(Globset) + globset.range_count() * sizeof(GlobRange);
    }
  }
  return n;
}

Result<DownloadStats> download_stats(Session& session, std::uint32_t handle) {
  ICS_TRY_ASSIGN(DownloadContext * context, session.lookup<DownloadContext>(handle));
  return context->stats();
}

}  // namespace ics
