// ErrorCode and Result<T>: every failure in the engine is a value with a name
// from [MS-OXCDATA] 2.4 (and the SYNC_* codes of [MS-OXCFXICS]); nothing in the
// engine asserts or aborts on input. Results are cheap when OK and carry a
// human-readable reason and, for decoders, the failing byte offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace ics {

enum class ErrorCode : std::uint32_t {
  Success = 0x00000000,
  GeneralFailure = 0x80004005,  // ecError, E_FAIL, MAPI_E_CALL_FAILED
  OutOfMemory = 0x8007000E,     // ecMAPIOOM, E_OUTOFMEMORY
  InvalidParameter = 0x80070057,  // ecInvalidParam, E_INVALIDARG
  AccessDenied = 0x80070005,
  NotSupported = 0x80040102,  // ecNotSupported, MAPI_E_NO_SUPPORT
  NotFound = 0x8004010F,      // ecNotFound
  ObjectModified = 0x80040109,
  ObjectDeleted = 0x8004010A,
  UnknownFlags = 0x80040106,  // ecUnknownFlags
  TooBig = 0x80040305,        // ecTooBig
  StreamSizeError = 0x80030070,
  NullObject = 0x000004B9,      // ecNullObject
  RpcFormat = 0x000004B6,       // ecRpcFormat
  FormatError = 0x000004ED,     // ecFmtError
  BufferTooSmall = 0x0000047D,  // ecBufferTooSmall
  SyncObjectDeleted = 0x80040800,
  SyncIgnore = 0x80040801,
  SyncConflict = 0x80040802,
  SyncNoParent = 0x80040803,
  SyncIncest = 0x80040804,
  SyncUnsynchronized = 0x80040805,
  SyncProgress = 0x00040820,       // SYNC_W_PROGRESS (warning)
  NewerClientChange = 0x00040821,  // SYNC_W_CLIENT_CHANGE_NEWER (warning)
};

// The primary [MS-OXCDATA] name, e.g. "GeneralFailure"; "Unknown" otherwise.
std::string_view name(ErrorCode code);
// The "ec" alias, e.g. "ecError", "ecNullObject"; same as name() if none.
std::string_view ec_name(ErrorCode code);
// Whether a code is a success or a warning (the high bit is clear).
constexpr bool succeeded(ErrorCode code) {
  return (static_cast<std::uint32_t>(code) & 0x80000000u) == 0 &&
         code != ErrorCode::NullObject && code != ErrorCode::RpcFormat &&
         code != ErrorCode::FormatError && code != ErrorCode::BufferTooSmall;
}

inline constexpr std::size_t kNoOffset = static_cast<std::size_t>(-1);

// A failure: its code, what went wrong, and the input offset where known.
class Error {
 public:
  Error(ErrorCode code, std::string what = {}, std::size_t offset = kNoOffset)
      : code_(code), what_(std::move(what)), offset_(offset) {}
  ErrorCode code() const { return code_; }
  const std::string& what() const { return what_; }
  std::size_t offset() const { return offset_; }
  // "FormatError: <what> (at byte N)"
  std::string to_string() const;

 private:
  ErrorCode code_;
  std::string what_;
  std::size_t offset_;
};

// Result<T>: a T or an Error. No exception ever crosses the public API.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}
  Result(ErrorCode code, std::string what = {}, std::size_t offset = kNoOffset)
      : v_(std::in_place_index<1>, Error(code, std::move(what), offset)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  // Precondition: ok(). Calling these on an error is a programming error.
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  // Precondition: !ok().
  const Error& error() const { return std::get<1>(v_); }
  ErrorCode code() const { return ok() ? ErrorCode::Success : error().code(); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)), failed_(true) {}
  Result(ErrorCode code, std::string what = {}, std::size_t offset = kNoOffset)
      : err_(code, std::move(what), offset), failed_(true) {}
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return err_; }
  ErrorCode code() const { return failed_ ? err_.code() : ErrorCode::Success; }

 private:
  Error err_{ErrorCode::Success};
  bool failed_ = false;
};

using Status = Result<void>;

inline Status ok_status() { return Status{}; }

}  // namespace ics

// Propagate a failed Result/Status from the enclosing function.
#define ICS_TRY(expr)                                 \
  do {                                                \
    auto&& ics_try_result_ = (expr);                  \
    if (!ics_try_result_.ok()) return ics_try_result_.error(); \
  } while (0)

#define ICS_CONCAT_INNER_(a, b) a##b
#define ICS_CONCAT_(a, b) ICS_CONCAT_INNER_(a, b)
// ICS_TRY_ASSIGN(auto x, f()); declares x from a successful Result.
#define ICS_TRY_ASSIGN(decl, expr) \
  ICS_TRY_ASSIGN_IMPL_(ICS_CONCAT_(ics_result_, __LINE__), decl, expr)
#define ICS_TRY_ASSIGN_IMPL_(tmp, decl, expr)   \
  auto tmp = (expr);                            \
  if (!tmp.ok()) return tmp.error();            \
  decl = std::move(tmp).value()
