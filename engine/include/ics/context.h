// ROP-level operations shared by synchronization download contexts and upload
// collectors ([MS-OXCFXICS] 2.2.3.2.1-2.2.3.2.4, [MS-OXCROPS] 2.2.12-2.2.13):
//   RopSynchronizationUploadStateStreamBegin / Continue / End   (upload_state_*)
//   RopSynchronizationGetTransferState                        (get_transfer_state)
//   RopFastTransferSourceGetBuffer                             (get_buffer)
//
// StatefulContext is the base of every object that holds an ICS state the
// client may upload (download contexts, collectors). FxSource is the interface
// of every object get_buffer() can read a FastTransfer stream from (download
// contexts, transfer-state objects). BufferedFxSource is an FxSource over a
// stream built in memory and charged to the session.
//
// All functions take the session and a handle; a handle that does not name a
// live object of the right kind in that session is NullObject. Objects are
// owned by the session's handle table; thread-compatible like the session.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ics/bytes.h"
#include "ics/errors.h"
#include "ics/memory.h"
#include "ics/session.h"
#include "ics/state.h"

namespace ics {

// RopFastTransferSourceGetBuffer TransferStatus ([MS-OXCROPS] 2.2.12.3.2).
enum class TransferStatus : std::uint16_t { Error = 0x0000, Partial = 0x0001, NoRoom = 0x0002, Done = 0x0003 };

struct BufferResult {
  TransferStatus status = TransferStatus::Error;
  std::uint16_t in_progress_count = 0;  // steps done
  std::uint16_t total_step_count = 0;   // steps in all
  Bytes buffer;
};

class StatefulContext : public SessionObject {
 public:
  StatefulContext(Session& session, bool hierarchy)
      : upload_(session, hierarchy), hierarchy_(hierarchy) {}

  StatefulContext* as_stateful() final { return this; }
  bool hierarchy() const { return hierarchy_; }
  StateUpload& upload() { return upload_; }
  IcsState& state() { return state_; }
  const IcsState& state() const { return state_; }
  // NotSupported once the state can no longer change (e.g. a download
  // context whose stream has started). Default: always accepted.
  virtual Status can_upload_state() const { return ok_status(); }
  // The state RopSynchronizationGetTransferState reports: what the client
  // holds after this context's work (for a download, after the whole stream).
  virtual Result<IcsState> transfer_state() = 0;

 private:
  StateUpload upload_;
  IcsState state_;
  bool hierarchy_;
};

class FxSource {
 public:
  virtual ~FxSource() = default;
  // The next at most `max` bytes of the stream, written into `transfer_buffer`
  // (its contents replaced, its capacity kept, so a caller that passes the same
  // buffer every time allocates once); the result's buffer stays empty.
  // InvalidParameter for max 0.
  virtual Result<BufferResult> get_buffer(std::size_t max, Bytes& transfer_buffer) = 0;
};

// An FxSource over a finished stream held in memory and charged to the session
// (kind FxBuffer). Steps: the caller says at which stream offsets each step
// (for instance each message) ends; in_progress_count counts the steps whose
// end has been sent.
class BufferedFxSource {
 public:
  explicit BufferedFxSource(MemoryAccount& account) : account_(&account) {}
  // Takes the stream; GeneralFailure over budget (nothing kept).
  Status load(Bytes stream, std::vector<std::size_t> step_ends = {});
  Result<BufferResult> next(std::size_t max, Bytes& transfer_buffer);
  bool loaded() const { return loaded_; }
  bool done() const { return loaded_ && pos_ == stream_.size(); }
  std::size_t size() const { return stream_.size(); }

 private:
  MemoryAccount* account_;
  Charge charge_;
  Bytes stream_;
  std::vector<std::size_t> step_ends_;
  std::size_t pos_ = 0;
  std::size_t steps_done_ = 0;
  bool loaded_ = false;
};

Status upload_state_begin(Session& s, std::uint32_t handle, PropTag property, std::uint32_t size);
Status upload_state_continue(Session& s, std::uint32_t handle, ByteView data);
Status upload_state_end(Session& s, std::uint32_t handle);
// A new object, child of handle, whose stream is the `state` element of the
// context's transfer_state(). Released with its parent or on its own.
Result<std::uint32_t> get_transfer_state(Session& s, std::uint32_t handle);
// The bytes in a new BufferResult::buffer.
Result<BufferResult> get_buffer(Session& s, std::uint32_t handle, std::size_t max);
// The bytes in `transfer_buffer` (contents replaced, capacity kept; the result's
// buffer stays empty): a client that reads a stream in many calls reuses one buffer.
Result<BufferResult> get_buffer(Session& s, std::uint32_t handle, std::size_t max,
                                Bytes& transfer_buffer);

}  // namespace ics
