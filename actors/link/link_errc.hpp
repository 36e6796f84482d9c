// Why the wire could not carry a message. The context is the text for people.
#pragma once

#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

#include <cstdint>

namespace troupe {

enum class link_errc : uint8_t {
  unsupported = 1,        // the peer runs a release that does not know this message
  too_many_requests = 2,  // over the bound of requests in flight on one connection
  closed = 3,             // the connection closed before the answer came
  malformed = 4,          // a message that cannot be encoded, or a body that does not decode
  too_large = 5,          // a message over --max-frame-bytes
  refused = 6,            // the peer is not a Troupe node of a wire version this one reads
};

const char* to_string(link_errc x);

} // namespace troupe

CAF_ERROR_CODE_ENUM(troupe::link_errc, "troupe_lk")
