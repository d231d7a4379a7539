# The sources of the unit test executables, relative to tests/: one list for the normal build
# (tests/CMakeLists.txt) and the sanitizer build (tests/sanitize/CMakeLists.txt).
set(CITYBED_COMMON_TEST_SOURCES common/expected_test.cc common/http_client_test.cc common/op_class_test.cc
    common/http_fetch_test.cc common/strings_test.cc common/units_test.cc)
set(CITYBED_SIM_TEST_SOURCES sim/engine_test.cc sim/histogram_test.cc sim/queueing_test.cc sim/random_test.cc
    sim/network_test.cc sim/realtime_test.cc sim/stats_test.cc sim/time_test.cc)
set(CITYBED_BROKER_TEST_SOURCES broker/api_test.cc broker/context_test.cc broker/entity_test.cc broker/geo_test.cc
    broker/durable_test.cc broker/federation_test.cc broker/federation_write_test.cc broker/csource_subscription_test.cc
    broker/auth_test.cc broker/rate_limit_test.cc broker/http_test.cc broker/isolation_test.cc broker/quota_test.cc
    broker/ngsiv2_test.cc broker/query_test.cc broker/store_test.cc)
