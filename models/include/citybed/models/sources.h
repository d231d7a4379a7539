// The source catalog: models of the sensors and data providers a city's platform collects
// from. A SourceModel describes one kind of source (an air-quality station, a parking spot,
// a bus, ...): the NGSI-LD entity type it reports, the per-source state it keeps, and how the
// state evolves between reports so that values are plausible and consistent over time (a
// river rises and falls, a bus moves along its route) rather than white noise.
//
// Models are stateless singletons; each source's state lives in a small POD block owned by
// the World (state_size() bytes), and every report draws from its own random stream, so a
// source's values depend only on (seed, kind, region, source index, report number).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "citybed/sim/random.h"

namespace citybed::models {

struct LonLat {
  double lon = 0, lat = 0;
};

// One attribute of a report, independent of the broker protocol that will carry it.
struct AttrOut {
  enum class Kind : uint8_t { kNumber, kText, kBool, kPoint, kRelationship, kDateTime, kLineString, kTextList };
  std::string_view name;
  Kind kind = Kind::kNumber;
  double number = 0;
  std::string text;          // kText, kRelationship (the object URI)
  bool flag = false;
  LonLat point;
  std::vector<LonLat> line;  // kLineString
  std::vector<std::string> texts;  // kTextList
  int64_t time_us = 0;       // kDateTime
  std::string_view unit;     // UN/CEFACT code, optional
  bool observed = true;      // carries observedAt
};

struct EntityUpdate {
  std::string id;
  std::string_view type;
  int64_t observed_us = 0;
  std::vector<AttrOut> attrs;

  AttrOut& Add(std::string_view name, AttrOut::Kind kind) {
    attrs.emplace_back();
    attrs.back().name = name;
    attrs.back().kind = kind;
    return attrs.back();
  }
  void Number(std::string_view name, double v, std::string_view unit = {}) {
    AttrOut& a = Add(name, AttrOut::Kind::kNumber);
    a.number = v;
    a.unit = unit;
  }
  void Text(std::string_view name, std::string v, bool observed = true) {
    AttrOut& a = Add(name, AttrOut::Kind::kText);
    a.text = std::move(v);
    a.observed = observed;
  }
  void Point(std::string_view name, LonLat p) {
    AttrOut& a = Add(name, AttrOut::Kind::kPoint);
    a.point = p;
    a.observed = false;
  }
  void Time(std::string_view name, int64_t t_us) {
    AttrOut& a = Add(name, AttrOut::Kind::kDateTime);
    a.time_us = t_us;
    a.observed = false;
  }
  void Relationship(std::string_view name, std::string object) {
    AttrOut& a = Add(name, AttrOut::Kind::kRelationship);
    a.text = std::move(object);
    a.observed = false;
  }
  void TextList(std::string_view name, std::vector<std::string> v) {
    AttrOut& a = Add(name, AttrOut::Kind::kTextList);
    a.texts = std::move(v);
    a.observed = false;
  }
  void Bool(std::string_view name, bool v) {
    AttrOut& a = Add(name, AttrOut::Kind::kBool);
    a.flag = v;
  }
};

// The strongest event under way in a source's region (kind empty when none).
struct EventState {
  std::string_view kind;  // "heavy-rain", "earthquake"
  double intensity = 0;   // 0..1 now
  double elapsed_s = 0;   // since the event began
};

// What a source knows about itself.
struct SourceContext {
  uint32_t index = 0;        // within its group (one kind in one region)
  std::string_view region;   // region id
  LonLat region_center;
  double region_radius_km = 1;
  LonLat home;               // its place (fixed sources) or depot (moving ones)
  int64_t unix_us = 0;       // wall-clock date of the report
  double hour = 0;           // local hour of day of the report, [0, 24)
  double period_s = 60;      // the source's mean reporting interval
  EventState event;
};

class SourceModel {
 public:
  virtual ~SourceModel() = default;
  virtual std::string_view kind() const = 0;         // "air-quality"
  virtual std::string_view entity_type() const = 0;  // "AirQualityObserved"
  virtual std::string_view domain() const = 0;       // "environment"
  virtual std::string_view id_prefix() const = 0;    // short code in entity ids, "aq"
  virtual size_t state_size() const { return 0; }
  virtual void Init(const SourceContext& ctx, void* state, sim::Rng& rng) const;
  // Advances the state to the report's time and describes the report.
  virtual void Report(const SourceContext& ctx, void* state, sim::Rng& rng, EntityUpdate& out) const = 0;
  // A typical report's size in bytes (for capacity estimates before a run).
  virtual size_t typical_bytes() const { return 500; }
  // True for citybed's own entity types (no Smart Data Model exists): their names expand
  // through citybed's @context, which requests name with a Link header.
  virtual bool own_type() const { return false; }
  // True for sources that report as soon as an event touching their domain begins (alerts are
  // issued, shelters open), not only faster afterwards.
  virtual bool reports_at_event_start() const { return false; }
  // Where the source's entity stays ("location" of every report), or nothing for a source that
  // moves: the ground truth of geo-queries (federation metrics) uses it.
  virtual std::optional<LonLat> FixedPlace(const SourceContext& ctx) const { return ctx.home; }
};

// citybed's @context for its own types (payments, e-learning, shelters), as a JSON-LD document.
const std::string& OwnContextDocument();
// Path under which the emulation serves it.
inline constexpr std::string_view kOwnContextPath = "/contexts/citybed.jsonld";

// The seven service domains of the smart-city programme, in this order:
// mobility, environment, utilities, disaster, safety, health, payments-learning.
const std::vector<std::string>& DomainNames();
int DomainIndex(std::string_view domain);  // -1 if unknown

const SourceModel* FindSourceModel(std::string_view kind);
std::vector<std::string> SourceKindNames();
std::vector<const SourceModel*> SourceModels();

// "urn:ngsi-ld:<Type>:<region>:<prefix>-<index>"
std::string EntityId(const SourceModel& m, std::string_view region, uint32_t index);

// Diurnal profiles: relative activity by local hour, with mean 1 over a day. "flat" is 1.
std::vector<std::string> ProfileNames();
double ProfileFactor(std::string_view profile, double hour);
double ProfilePeak(std::string_view profile);  // the largest factor over the day

}  // namespace citybed::models
