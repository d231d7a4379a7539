// Asio's and Beast's own code, compiled once, here. citybed_boost defines
// BOOST_ASIO_SEPARATE_COMPILATION and BOOST_BEAST_SEPARATE_COMPILATION, so every other file
// includes their declarations and templates only, not the implementation (which header-only use
// would compile again in every translation unit).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
