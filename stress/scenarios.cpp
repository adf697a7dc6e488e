#include "scenarios.h"

#include <string>

namespace ics::stress {

namespace {

PropertyBag message_props(std::size_t i, Rng& rng) {
  PropertyBag bag;
  bag.set(PropValue::unicode(tags::kSubject, "stress message " + std::to_string(i)));
  bag.set(PropValue::unicode(tags::kBody, std::string(16 + rng.below(200), 'a' + i % 26)));
  bag.set(PropValue::integer(tags::kImportance, rng.below(3)));
  bag.set(PropValue::integer(tags::kMessageDeliveryTime, 0x01D6000000000000ull + rng.below(1u << 30)));
  Bytes blob(rng.below(64));
  for (auto& b : blob) b = static_cast<std::uint8_t>(rng.next());
  bag.set(PropValue::binary(PropTag(0x6700, ptyp::kBinary), std::move(blob)));
  return bag;
}

}  // namespace

Result<SharedFolder> build_shared_folder(std::size_t messages, std::uint64_t seed) {
  SharedFolder f;
  f.store = std::make_shared<Store>();
  ICS_TRY_ASSIGN(f.folder, f.store->create_folder(f.store->root(), "Inbox"));
  Rng rng(seed ^ 0x5EED'F01D'E7ull);
  for (std::size_t i = 0; i < messages; ++i) {
    ICS_TRY_ASSIGN(Mid mid, f.store->create_message(f.folder, message_props(i, rng), false));
    if (rng.chance(0.3)) ICS_TRY(f.store->set_read(mid, true));
  }
  for (std::size_t i = 0; i < messages / 10; ++i) {
    ICS_TRY(f.store->create_message(f.folder, message_props(i, rng), true));
  }
  return f;
}

Result<ScenarioSetup> make_scenario(const Options& o) {
  ICS_TRY_ASSIGN(SharedFolder folder, build_shared_folder(o.messages, o.seed));
  ScenarioSetup setup;
  setup.store = folder.store;
  if (o.scenario == "session-churn") {
    ICS_TRY_ASSIGN(setup.scenario, make_session_churn(o, folder));
  } else {
    ICS_TRY_ASSIGN(setup.scenario, make_sync_scenario(o, folder));
  }
  return setup;
}

}  // namespace ics::stress
