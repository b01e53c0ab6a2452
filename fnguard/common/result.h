// Errors as values. fnguard code outside the in-process enforcer returns
// Result<T>: either a value or an Error that says where and why. This is the
// project's stand-in for std::expected: libstdc++ 12 ships <expected>, but
// clang 14 (which builds the libFuzzer targets) cannot compile it, and one
// type must serve both compilers. Result is [[nodiscard]], so a caller that
// ignores a failure does not compile cleanly.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace fnguard {

// Where an error points: a file and a 1-based line and column. Any part may be
// absent (empty file, line 0) when it is not known.
struct Location {
  std::string file;
  int line = 0;
  int column = 0;

  [[nodiscard]] std::string to_string() const;  // "file:line:col" or what is known
};

struct Error {
  std::string message;  // one sentence: what is wrong
  std::string hint;     // what to do about it; may be empty
  Location where;

  // "file:line:col: message (hint)", the form every CLI error takes.
  [[nodiscard]] std::string to_string() const;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}      // NOLINT
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  [[nodiscard]] bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

// Result<void>: success carries nothing.
struct Ok {};
using Status = Result<Ok>;

inline Error make_error(std::string message, std::string hint = {}, Location where = {}) {
  return Error{std::move(message), std::move(hint), std::move(where)};
}

}  // namespace fnguard
