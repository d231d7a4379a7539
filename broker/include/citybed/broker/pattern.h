// Pattern: a regular expression for idPattern, typePattern and the ~= operator of q, matched in
// time linear in the subject (RE2: no backtracking, no recursion, so no pattern or subject can
// stall or crash the broker). The syntax is RE2's, which covers what these patterns use
// (classes, alternation, repetition, anchors, non-greedy operators) but has no backreferences
// and no lookaround: such a pattern is refused when it is compiled, with the reason. Immutable
// and thread-safe once compiled.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "citybed/common/expected.h"

namespace re2 {
class RE2;
}

namespace citybed::broker {

class Pattern;
using PatternPtr = std::shared_ptr<const Pattern>;

class Pattern {
 public:
  static constexpr size_t kMaxLength = 1024;          // characters of a pattern
  static constexpr int64_t kMaxProgramBytes = 1 << 20;  // RE2's memory budget per pattern

  // The error is a sentence saying what is wrong ("pattern longer than 1024 characters",
  // "missing ): (ab", "backreferences are not supported ...").
  static Expected<PatternPtr, std::string> Compile(std::string_view pattern);
  ~Pattern();
  Pattern(const Pattern&) = delete;
  Pattern& operator=(const Pattern&) = delete;

  bool Search(std::string_view text) const;     // matches somewhere in text
  bool FullMatch(std::string_view text) const;  // matches the whole text
  const std::string& text() const { return text_; }

 private:
  Pattern(std::string text, std::unique_ptr<re2::RE2> re);
  std::string text_;
  std::unique_ptr<re2::RE2> re_;
};

}  // namespace citybed::broker
