// host:port pairs as the command line and the config file name them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace troupe {

struct endpoint {
  std::string host;
  uint16_t port = 0;

  std::string to_string() const { return host + ":" + std::to_string(port); }
  bool operator==(const endpoint& o) const { return host == o.host && port == o.port; }
};

/// Parses "host:port" (port 1-65535; IPv6 as "[::1]:8139"). Returns nullopt when malformed.
std::optional<endpoint> parse_endpoint(std::string_view text);

/// Returns the "host:port" other nodes reach a node at that binds `bind` and listens on `port`:
/// a wildcard bind (0.0.0.0, ::) advertises the host name instead.
std::string advertised_address(const std::string& bind, uint16_t port);

} // namespace troupe
