// Pretty printing for JsonValue.
#include "fnguard/policy/json_value.h"

namespace fnguard::policy {

JsonValue JsonValue::boolean(bool b) {
  JsonValue v;
  v.kind_ = Kind::kBool;
  v.bool_ = b;
  return v;
}
JsonValue JsonValue::number(int64_t n) {
  JsonValue v;
  v.kind_ = Kind::kNumber;
  v.number_ = n;
  return v;
}
JsonValue JsonValue::string(std::string s) {
  JsonValue v;
  v.kind_ = Kind::kString;
  v.string_ = std::move(s);
  return v;
}
JsonValue JsonValue::array() {
  JsonValue v;
  v.kind_ = Kind::kArray;
  return v;
}
JsonValue JsonValue::object() {
  JsonValue v;
  v.kind_ = Kind::kObject;
  return v;
}

JsonValue& JsonValue::push(JsonValue v) {
  items_.push_back(std::move(v));
  return items_.back();
}

JsonValue& JsonValue::set(std::string key, JsonValue v) {
  members_.emplace_back(std::move(key), std::move(v));
  return members_.back().second;
}

void JsonValue::write(std::string& out, int indent) const {
  std::string pad(static_cast<size_t>(indent + 2), ' ');
  std::string close_pad(static_cast<size_t>(indent), ' ');
  switch (kind_) {
    case Kind::kNull:
      out += "null";
      return;
    case Kind::kBool:
      out += bool_ ? "true" : "false";
      return;
    case Kind::kNumber:
      out += std::to_string(number_);
      return;
    case Kind::kString:
      append_json_string(out, string_);
      return;
    case Kind::kArray: {
      if (items_.empty()) {
        out += "[]";
        return;
      }
      // Arrays of scalars stay on one line: rule lists read better that way.
      bool flat = true;
      for (const JsonValue& v : items_)
        flat = flat && v.kind_ != Kind::kArray && v.kind_ != Kind::kObject;
      if (flat) {
        out += "[";
        for (size_t i = 0; i < items_.size(); ++i) {
          if (i > 0) out += ", ";
          items_[i].write(out, indent);
        }
        out += "]";
        return;
      }
      out += "[\n";
      for (size_t i = 0; i < items_.size(); ++i) {
        out += pad;
        items_[i].write(out, indent + 2);
        out += i + 1 < items_.size() ? ",\n" : "\n";
      }
      out += close_pad + "]";
      return;
    }
    case Kind::kObject: {
      if (members_.empty()) {
        out += "{}";
        return;
      }
      // Small objects of scalars (a rule) stay on one line when short.
      if (is_flat()) {
        std::string line = "{";
        for (size_t i = 0; i < members_.size(); ++i) {
          if (i > 0) line += ", ";
          append_json_string(line, members_[i].first);
          line += ": ";
          members_[i].second.write(line, indent);
        }
        line += "}";
        if (line.size() + static_cast<size_t>(indent) <= 100) {
          out += line;
          return;
        }
      }
      out += "{\n";
      for (size_t i = 0; i < members_.size(); ++i) {
        out += pad;
        append_json_string(out, members_[i].first);
        out += ": ";
        members_[i].second.write(out, indent + 2);
        out += i + 1 < members_.size() ? ",\n" : "\n";
      }
      out += close_pad + "}";
      return;
    }
  }
}

bool JsonValue::is_flat() const {
  auto scalar = [](const JsonValue& v) {
    return v.kind_ != Kind::kArray && v.kind_ != Kind::kObject;
  };
  switch (kind_) {
    case Kind::kArray:
      for (const JsonValue& v : items_) {
        if (!scalar(v)) return false;
      }
      return true;
    case Kind::kObject:
      for (const auto& m : members_) {
        if (!scalar(m.second) && !(m.second.kind_ != Kind::kObject && m.second.is_flat()) &&
            !(m.second.kind_ == Kind::kObject && m.second.members_.size() == 1 &&
              m.second.is_flat())) {
          return false;
        }
      }
      return true;
    default:
      return true;
  }
}

std::string JsonValue::pretty() const {
  std::string out;
  write(out, 0);
  out.push_back('\n');
  return out;
}

}  // namespace fnguard::policy
