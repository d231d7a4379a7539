#include "citybed/common/strings.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <numeric>

namespace citybed {

// Optimal string alignment distance: Levenshtein plus adjacent transpositions ("spede" ->
// "speed" is one edit), which is what typos look like.
size_t EditDistance(std::string_view a, std::string_view b) {
  const size_t n = b.size();
  std::vector<size_t> prev2(n + 1), prev(n + 1), row(n + 1);
  std::iota(prev.begin(), prev.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    row[0] = i;
    for (size_t j = 1; j <= n; ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        row[j] = std::min(row[j], prev2[j - 2] + 1);
      }
    }
    std::swap(prev2, prev);
    std::swap(prev, row);
  }
  return prev[n];
}

std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates) {
  size_t best = std::max<size_t>(1, word.size() / 3) + 1;
  std::string match;
  for (const std::string& c : candidates) {
    size_t d = EditDistance(word, c);
    if (d < best) {
      best = d;
      match = c;
    }
  }
  return match;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

std::string PercentEncode(std::string_view in, std::string_view keep) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size() + 8);
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || keep.find(static_cast<char>(c)) != std::string_view::npos) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool EqualsAsciiNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

std::string FormatSecondsExact(int64_t ns) {
  const bool negative = ns < 0;
  const uint64_t a = negative ? uint64_t{0} - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  std::string out = (negative ? "-" : "") + std::to_string(a / 1000000000);
  uint64_t frac = a % 1000000000;
  if (frac != 0) {
    char digits[16];
    std::snprintf(digits, sizeof digits, "%09llu", static_cast<unsigned long long>(frac));
    std::string f(digits);
    while (!f.empty() && f.back() == '0') f.pop_back();
    out += "." + f;
  }
  return out;
}

std::string FormatRfc3339(double unix_seconds) {
  double whole = std::floor(unix_seconds);
  auto secs = static_cast<std::time_t>(whole);
  int ms = static_cast<int>(std::lround((unix_seconds - whole) * 1000.0));
  if (ms == 1000) {
    ++secs;
    ms = 0;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", ms);
  return buf;
}

std::string UtcNowRfc3339() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return FormatRfc3339(std::chrono::duration<double>(now).count());
}

}  // namespace citybed

namespace citybed {

// Howard Hinnant's civil-date algorithms (public-domain arithmetic on the proleptic Gregorian
// calendar, with 400-year eras).
int64_t DaysFromCivil(int y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(static_cast<int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0));
}

int64_t UnixMicrosNow() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {
bool Digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}
}  // namespace

namespace {
// An optional fraction of a second at `pos` (".123456" or ",5"), as microseconds; false when
// the separator has no digit after it.
bool ReadFraction(std::string_view s, size_t& pos, int64_t& micros) {
  if (pos >= s.size() || (s[pos] != '.' && s[pos] != ',')) return true;
  ++pos;
  int digits = 0;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
    if (digits < 6) micros = micros * 10 + (s[pos] - '0');
    ++digits;
    ++pos;
  }
  for (int i = digits; i < 6; ++i) micros *= 10;
  return digits > 0;
}
}  // namespace

Expected<int64_t> ParseRfc3339Micros(std::string_view s) {
  auto bad = [&] {
    return Unexpected(Error::InvalidArgument("\"" + std::string(s) +
                                             "\" is not a date-time like 2024-05-01T12:00:00Z"));
  };
  int y, mo, d, h, mi, sec;
  if (!Digits(s, 0, 4, y) || s.size() < 19 || s[4] != '-' || !Digits(s, 5, 2, mo) || s[7] != '-' ||
      !Digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !Digits(s, 11, 2, h) ||
      s[13] != ':' || !Digits(s, 14, 2, mi) || s[16] != ':' || !Digits(s, 17, 2, sec)) {
    return bad();
  }
  static constexpr int kDaysIn[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo < 1 || mo > 12 || d < 1 || d > kDaysIn[mo - 1] || (mo == 2 && d == 29 && !leap) || h > 23 ||
      mi > 59 || sec > 60) {
    return bad();
  }
  size_t pos = 19;
  int64_t micros = 0;
  if (!ReadFraction(s, pos, micros)) return bad();
  int64_t offset_s = 0;
  if (pos < s.size()) {
    if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) {
      ++pos;
    } else if ((s[pos] == '+' || s[pos] == '-') && s.size() == pos + 6 && s[pos + 3] == ':') {
      int oh, om;
      if (!Digits(s, pos + 1, 2, oh) || !Digits(s, pos + 4, 2, om) || oh > 23 || om > 59) return bad();
      offset_s = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
      pos = s.size();
    } else {
      return bad();
    }
  }
  const int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  const int64_t secs = days * 86400 + h * 3600 + mi * 60 + std::min(sec, 59) - offset_s;
  return secs * 1000000 + micros;
}

Expected<int64_t> ParseIso8601Micros(std::string_view s) {
  auto bad = [&] {
    return Unexpected(Error::InvalidArgument("\"" + std::string(s) + "\" is not an ISO 8601 date or date-time"));
  };
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (!Digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !Digits(s, 5, 2, mo) || s[7] != '-' ||
      !Digits(s, 8, 2, d)) {
    return bad();
  }
  static constexpr int kDaysIn[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo < 1 || mo > 12 || d < 1 || d > kDaysIn[mo - 1] || (mo == 2 && d == 29 && !leap)) return bad();
  size_t pos = 10;
  int64_t micros = 0;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != 't') return bad();
    if (!Digits(s, pos + 1, 2, h) || pos + 3 >= s.size() || s[pos + 3] != ':' || !Digits(s, pos + 4, 2, mi)) {
      return bad();
    }
    pos += 6;
    if (pos < s.size() && s[pos] == ':') {
      if (!Digits(s, pos + 1, 2, sec)) return bad();
      pos += 3;
      if (!ReadFraction(s, pos, micros)) return bad();
    }
    if (h > 23 || mi > 59 || sec > 60) return bad();
  }
  int64_t offset_s = 0;
  if (pos < s.size()) {
    if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      // +hh, +hhmm or +hh:mm
      int oh = 0, om = 0;
      const size_t rest = s.size() - pos - 1;
      bool ok = Digits(s, pos + 1, 2, oh);
      if (ok && rest == 4) ok = Digits(s, pos + 3, 2, om);
      else if (ok && rest == 5) ok = s[pos + 3] == ':' && Digits(s, pos + 4, 2, om);
      else if (rest != 2) ok = false;
      if (!ok || oh > 23 || om > 59) return bad();
      offset_s = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
    } else {
      return bad();
    }
  }
  const int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  const int64_t secs = days * 86400 + h * 3600 + mi * 60 + std::min(sec, 59) - offset_s;
  return secs * 1000000 + micros;
}

void AppendRfc3339Micros(std::string& out, int64_t micros) {
  int64_t secs = micros >= 0 ? micros / 1000000 : (micros - 999999) / 1000000;
  const int64_t frac = micros - secs * 1000000;
  const int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  const int64_t rem = secs - days * 86400;
  int y;
  unsigned m, d;
  CivilFromDays(days, y, m, d);
  // Hand-formatted: this runs for every timestamp of every rendered entity.
  char buf[32];
  auto put2 = [](char* p, unsigned v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
  };
  const unsigned year = static_cast<unsigned>(y < 0 ? 0 : (y > 9999 ? 9999 : y));
  put2(buf, year / 100);
  put2(buf + 2, year % 100);
  buf[4] = '-';
  put2(buf + 5, m);
  buf[7] = '-';
  put2(buf + 8, d);
  buf[10] = 'T';
  put2(buf + 11, static_cast<unsigned>(rem / 3600));
  buf[13] = ':';
  put2(buf + 14, static_cast<unsigned>(rem / 60 % 60));
  buf[16] = ':';
  put2(buf + 17, static_cast<unsigned>(rem % 60));
  size_t n = 19;
  if (frac != 0) {
    const bool millis = frac % 1000 == 0;
    int64_t f = millis ? frac / 1000 : frac;
    const int digits = millis ? 3 : 6;
    buf[n++] = '.';
    for (int i = digits - 1; i >= 0; --i) {
      buf[n + static_cast<size_t>(i)] = static_cast<char>('0' + f % 10);
      f /= 10;
    }
    n += static_cast<size_t>(digits);
  }
  buf[n++] = 'Z';
  out.append(buf, n);
}

std::string FormatRfc3339Micros(int64_t micros) {
  std::string out;
  AppendRfc3339Micros(out, micros);
  return out;
}

}  // namespace citybed
