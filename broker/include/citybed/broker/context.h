// JSON-LD @context handling for NGSI-LD: term expansion on input, IRI compaction on output.
//
// The broker implements the part of JSON-LD 1.1 context processing that NGSI-LD payloads use:
// term definitions (string or {"@id": ...}), prefixes and compact IRIs ("sdm:temperature"),
// absolute IRIs and URNs, @vocab, nested and remote contexts (a document whose "@context" is a
// string, an object or an array of them). The NGSI-LD core context is built in (no network)
// and is applied last, so its terms cannot be overridden, as the specification requires.
// Scoped contexts, @protected, @reverse and @language are accepted and ignored.
//
// A Context is immutable once built, except for memoised expansions (behind a mutex), and is
// shared between requests through the ContextResolver's cache. Thread-safe.
#pragma once

#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <optional>
#include <vector>

#include "citybed/broker/interner.h"
#include "citybed/broker/problem.h"
#include "citybed/common/expected.h"

namespace citybed::broker {

inline constexpr std::string_view kCoreContextUrl =
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld";
inline constexpr std::string_view kDefaultVocab = "https://uri.etsi.org/ngsi-ld/default-context/";
inline constexpr std::string_view kNgsiLdPrefix = "https://uri.etsi.org/ngsi-ld/";

// True for the URLs that name the NGSI-LD core context (any version): never fetched.
bool IsCoreContextUrl(std::string_view url);

class Context {
 public:
  // Expands an attribute name or entity type: a term, a compact IRI, an absolute IRI, or a
  // word resolved against @vocab.
  std::string Expand(std::string_view term) const;
  // Expand, interned; memoised per context. For what is written (entities, subscriptions,
  // registrations).
  uint32_t ExpandToId(std::string_view term, Interner& names) const;
  // The same id for a name already interned, else Interner::kUnknown (matches nothing): for
  // what is only read (queries, discovery), so that reads cannot fill the interner.
  uint32_t FindId(std::string_view term, const Interner& names) const;
  // The shortest term of this context that expands to `iri`; else a compact IRI through a
  // prefix; else the IRI relative to @vocab; else the IRI itself.
  std::string Compact(std::string_view iri) const;
  // Compact, for an interned IRI; memoised per context.
  std::string_view CompactId(uint32_t id, const Interner& names) const;

  // What a response carries: the Link header URL (application/json) and the "@context" value
  // (application/ld+json). For the core context alone both name the core context URL.
  const std::string& link_url() const { return link_url_; }
  // The whole Link header value naming this context (the core context if it has no URL).
  const std::string& link_header() const { return link_header_; }
  const boost::json::value& context_value() const { return context_value_; }
  bool is_core() const { return is_core_; }

 private:
  friend class ContextResolver;
  struct Term {
    std::string iri;  // as written (may be a compact IRI); expanded lazily through the context
  };
  std::string ExpandIri(std::string_view value, int depth) const;
  std::optional<uint32_t> Memoised(std::string_view term) const;  // ExpandToId's memo

  std::unordered_map<std::string, Term> terms_;
  std::unordered_map<std::string, std::string> reverse_;  // expanded IRI -> shortest term
  std::vector<std::pair<std::string, std::string>> prefixes_;  // prefix -> IRI ending in / or #
  std::string vocab_;
  std::string link_url_;
  std::string link_header_;
  boost::json::value context_value_;
  bool is_core_ = false;

  mutable std::shared_mutex memo_mu_;
  mutable std::unordered_map<std::string, uint32_t> expanded_;
  mutable std::unordered_map<uint32_t, std::string> compacted_;
};

using ContextPtr = std::shared_ptr<const Context>;

// Fetches a remote context document: returns its body, or an error message.
using ContextFetcher = std::function<Expected<std::string>(const std::string& url)>;

struct ContextResolverOptions {
  std::chrono::milliseconds fetch_timeout{5000};
  std::chrono::seconds cache_ttl{3600};  // a fetched document is trusted this long
  size_t max_cached_contexts = 512;      // compiled contexts kept (least recently used dropped)
  size_t max_document_bytes = 1 << 20;
  ContextFetcher fetcher;  // default: HTTP(S) GET (common/http_fetch.h) with fetch_timeout
};

class ContextResolver {
 public:
  explicit ContextResolver(ContextResolverOptions options = {});

  ContextPtr Core() const { return core_; }
  // The context named by a Link header URL.
  Expected<ContextPtr, Problem> FromUrl(const std::string& url);
  // The context of a payload's "@context" member (string, object or array).
  Expected<ContextPtr, Problem> FromJson(const boost::json::value& context);

  uint64_t fetches() const { return fetches_; }
  uint64_t cache_hits() const { return hits_; }

  // @context hosting (CIM 009, 5.13). A hosted document is served at
  // /ngsi-ld/v1/jsonldContexts/{id}, and any URL ending in that path resolves to it without a
  // fetch (whatever host name the client used to reach the broker).
  static constexpr std::string_view kHostedPath = "/ngsi-ld/v1/jsonldContexts/";
  struct ContextInfo {
    std::string local_id;  // hosted: the id; cached: a stable hash of the URL
    std::string url;       // cached: the URL; hosted: "" (the caller knows its own address)
    std::string kind;      // "Hosted" or "Cached"
    int64_t created_us = 0;
    uint64_t hits = 0;
  };
  // Validates `context` (the document's "@context" member) and hosts it; returns its id.
  Expected<std::string, Problem> Host(const boost::json::value& context);
  // The hosted or cached document ("@context" member) by local id (or, for cached ones, URL).
  std::optional<boost::json::value> Lookup(std::string_view id_or_url, ContextInfo* info = nullptr);
  // Removes a hosted document, or drops a cached one; false if there is none.
  bool Remove(std::string_view id_or_url);
  // Fetches a cached document again; BadRequestData for a hosted one, ResourceNotFound if unknown.
  Expected<void, Problem> Reload(std::string_view id_or_url);
  std::vector<ContextInfo> List() const;

 private:
  Expected<ContextPtr, Problem> Build(const std::string& key, const boost::json::value& context);
  Expected<void, Problem> Apply(Context& ctx, const boost::json::value& entry, int depth);
  Expected<boost::json::value, Problem> Document(const std::string& url);
  void Finish(Context& ctx);

  ContextResolverOptions options_;
  ContextPtr core_;
  mutable std::mutex mu_;
  struct CachedDocument {
    boost::json::value context;  // the document's "@context" member
    std::chrono::steady_clock::time_point fetched;
    int64_t created_us = 0;
  };
  std::unordered_map<std::string, CachedDocument> documents_;
  struct HostedDocument {
    boost::json::value context;
    int64_t created_us = 0;
    uint64_t hits = 0;
  };
  std::unordered_map<std::string, HostedDocument> hosted_;
  uint64_t next_hosted_ = 1;
  void ForgetCompiled(std::string_view url_part);
  std::list<std::pair<std::string, ContextPtr>> lru_;
  std::unordered_map<std::string, std::list<std::pair<std::string, ContextPtr>>::iterator> compiled_;
  std::mutex fetch_mu_;  // one fetch at a time: the same URL is not fetched twice concurrently
  uint64_t fetches_ = 0, hits_ = 0;
};

}  // namespace citybed::broker
