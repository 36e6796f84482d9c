#include "actors/endpoint.hpp"

#include <unistd.h>

#include <charconv>

namespace troupe {

std::optional<endpoint> parse_endpoint(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size())
    return std::nullopt;
  auto host = text.substr(0, colon);
  auto port_text = text.substr(colon + 1);
  if (host.front() == '[') { // [v6]:port
    if (host.size() < 3 || host.back() != ']')
      return std::nullopt;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return std::nullopt; // a bare IPv6 address is ambiguous: brackets are required
  }
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || ptr != port_text.data() + port_text.size() || port == 0
      || port > 65535)
    return std::nullopt;
  return endpoint{std::string{host}, static_cast<uint16_t>(port)};
}

std::string advertised_address(const std::string& bind, uint16_t port) {
  std::string host = bind;
  if (bind == "0.0.0.0" || bind == "::") {
    char buf[256] = {};
    host = gethostname(buf, sizeof(buf) - 1) == 0 && buf[0] != '\0' ? buf : "localhost";
  }
  if (host.find(':') != std::string::npos)
    host = "[" + host + "]";
  return host + ":" + std::to_string(port);
}

} // namespace troupe
