// Formatting of errors for the command line.
#include "fnguard/common/result.h"

namespace fnguard {

std::string Location::to_string() const {
  std::string out = file;
  if (line > 0) {
    out += (out.empty() ? "" : ":") + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  return out;
}

std::string Error::to_string() const {
  std::string out;
  std::string where_text = where.to_string();
  if (!where_text.empty()) out = where_text + ": ";
  out += message;
  if (!hint.empty()) out += " (" + hint + ")";
  return out;
}

}  // namespace fnguard
