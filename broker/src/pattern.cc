#include "citybed/broker/pattern.h"

#include <re2/re2.h>

namespace citybed::broker {

Pattern::Pattern(std::string text, std::unique_ptr<re2::RE2> re) : text_(std::move(text)), re_(std::move(re)) {}
Pattern::~Pattern() = default;

Expected<PatternPtr, std::string> Pattern::Compile(std::string_view pattern) {
  if (pattern.size() > kMaxLength) {
    return Unexpected("pattern longer than " + std::to_string(kMaxLength) + " characters");
  }
  re2::RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(kMaxProgramBytes);
  auto re = std::make_unique<re2::RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!re->ok()) {
    std::string why = re->error();
    if (re->error_code() == re2::RE2::ErrorBadEscape && pattern.find("\\1") != std::string_view::npos) {
      why += " (backreferences are not supported: patterns are matched in linear time)";
    } else if (pattern.find("(?=") != std::string_view::npos || pattern.find("(?!") != std::string_view::npos ||
               pattern.find("(?<") != std::string_view::npos) {
      why += " (lookaround is not supported: patterns are matched in linear time)";
    }
    return Unexpected(std::move(why));
  }
  return PatternPtr(new Pattern(std::string(pattern), std::move(re)));
}

bool Pattern::Search(std::string_view text) const {
  return re2::RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *re_);
}

bool Pattern::FullMatch(std::string_view text) const {
  return re2::RE2::FullMatch(re2::StringPiece(text.data(), text.size()), *re_);
}

}  // namespace citybed::broker
