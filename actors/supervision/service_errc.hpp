// Why a node could not pass a request to the service that handles it: that service is being
// restarted by its supervisor, or (a worker) the node has no coordinator to relay it to. Both
// are worth retrying; clients map them to "unavailable" (exit 69). The context is the text.
#pragma once

#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

#include <cstdint>

namespace troupe {

enum class service_errc : uint8_t {
  restarting = 1,     // the service is being restarted: try again
  not_connected = 2,  // this worker has no coordinator to relay the request to
  malformed = 3,      // a frame or request that does not decode
};

const char* to_string(service_errc x);

} // namespace troupe

CAF_ERROR_CODE_ENUM(troupe::service_errc, "troupe_sv")
