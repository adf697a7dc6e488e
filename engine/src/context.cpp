#include "ics/context.h"

#include <algorithm>
#include <memory>

namespace ics {
namespace {

// The stream of one transfer state (RopSynchronizationGetTransferState).
class TransferStateObject : public SessionObject, public FxSource {
 public:
  explicit TransferStateObject(MemoryAccount& account) : source_(account) {}
  ObjectKind kind() const override { return ObjectKind::TransferState; }
  FxSource* as_fx_source() override { return this; }
  std::size_t footprint() const override { return sizeof(*this); }
  Result<BufferResult> get_buffer(std::size_t max, Bytes& transfer_buffer) override {
    return source_.next(max, transfer_buffer);
  }
  Status load(Bytes stream) { return source_.load(std::move(stream)); }

 private:
  BufferedFxSource source_;
};

Result<StatefulContext*> stateful(Session& s, std::uint32_t handle) {
  return s.lookup<StatefulContext>(handle);
}

std::uint16_t clamp16(std::size_t v) { return static_cast<std::uint16_t>(std::min<std::size_t>(v, 0xFFFF)); }

}  // namespace

Status BufferedFxSource::load(Bytes stream, std::vector<std::size_t> step_ends) {
  const std::size_t bytes = stream.capacity() + step_ends.capacity() * sizeof(std::size_t);
  ICS_TRY_ASSIGN(charge_, Charge::make(*account_, ObjectKind::FxBuffer, bytes));
  stream_ = std::move(stream);
  step_ends_ = std::move(step_ends);
  pos_ = 0;
  steps_done_ = 0;
  loaded_ = true;
  return ok_status();
}

Result<BufferResult> BufferedFxSource::next(std::size_t max, Bytes& transfer_buffer) {
  if (max == 0) return Error(ErrorCode::InvalidParameter, "buffer size 0");
  if (!loaded_) return Error(ErrorCode::NotSupported, "no stream to read");
  BufferResult r;
  const std::size_t n = std::min(max, stream_.size() - pos_);
  transfer_buffer.assign(stream_.begin() + static_cast<std::ptrdiff_t>(pos_),
                         stream_.begin() + static_cast<std::ptrdiff_t>(pos_ + n));
  pos_ += n;
  while (steps_done_ < step_ends_.size() && step_ends_[steps_done_] <= pos_) ++steps_done_;
  r.in_progress_count = clamp16(steps_done_);
  r.total_step_count = clamp16(step_ends_.size());
  r.status = pos_ == stream_.size() ? TransferStatus::Done : TransferStatus::Partial;
  return r;
}

Status upload_state_begin(Session& s, std::uint32_t handle, PropTag property, std::uint32_t size) {
  ICS_TRY_ASSIGN(StatefulContext * ctx, stateful(s, handle));
  ICS_TRY(ctx->can_upload_state());
  return ctx->upload().begin(property, size);
}

Status upload_state_continue(Session& s, std::uint32_t handle, ByteView data) {
  ICS_TRY_ASSIGN(StatefulContext * ctx, stateful(s, handle));
  ICS_TRY(ctx->can_upload_state());
  return ctx->upload().append(data);
}

Status upload_state_end(Session& s, std::uint32_t handle) {
  ICS_TRY_ASSIGN(StatefulContext * ctx, stateful(s, handle));
  ICS_TRY(ctx->can_upload_state());
  return ctx->upload().end(ctx->state());
}

Result<std::uint32_t> get_transfer_state(Session& s, std::uint32_t handle) {
  ICS_TRY_ASSIGN(StatefulContext * ctx, stateful(s, handle));
  if (ctx->upload().open()) return Error(ErrorCode::NotSupported, "a state upload is still open");
  ICS_TRY_ASSIGN(IcsState state, ctx->transfer_state());
#if defined(ICS_SEEDED_BUG_TRANSFER_STATE_LEAK)
  // Seeded bug: the state is serialised from a heap copy that nothing frees.
  const IcsState* snapshot = new IcsState(std::move(state));
  ICS_TRY_ASSIGN(Bytes stream, serialize_state(*snapshot, ctx->hierarchy()));
#else
  ICS_TRY_ASSIGN(Bytes stream, serialize_state(state, ctx->hierarchy()));
#endif
  auto obj = std::make_unique<TransferStateObject>(s.memory());
  ICS_TRY(obj->load(std::move(stream)));
  return s.add(std::move(obj), handle);
}

Result<BufferResult> get_buffer(Session& s, std::uint32_t handle, std::size_t max,
                                Bytes& transfer_buffer) {
  ICS_TRY_ASSIGN(SessionObject * obj, s.lookup<SessionObject>(handle));
  FxSource* source = obj->as_fx_source();
  if (source == nullptr) return Error(ErrorCode::NullObject, "handle is not a FastTransfer source");
  return source->get_buffer(max, transfer_buffer);
}

Result<BufferResult> get_buffer(Session& s, std::uint32_t handle, std::size_t max) {
  Bytes buffer;
  ICS_TRY_ASSIGN(BufferResult r, get_buffer(s, handle, max, buffer));
  r.buffer = std::move(buffer);
  return r;
}

}  // namespace ics
