// ParseJson: Boost.JSON's parser with correctly rounded numbers. Boost 1.81's own parser may
// land one unit in the last place away from the nearest double (50.300000000000004 reads as
// 50.3); a broker must give back the number it was sent, so every double is read again from
// its text with std::from_chars.
#pragma once

#include <boost/json/parse_options.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>
#include <string_view>

namespace citybed::broker {

boost::json::value ParseJson(std::string_view text, boost::system::error_code& ec, boost::json::storage_ptr sp = {},
                             const boost::json::parse_options& options = {});

}  // namespace citybed::broker
