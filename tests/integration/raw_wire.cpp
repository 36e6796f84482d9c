#include "tests/integration/raw_wire.hpp"

#include "protocols/wire/frame.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace troupe::it {

int dial(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void send_all(int fd, const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    auto n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0)
      return;
    off += static_cast<size_t>(n);
  }
}

bool read_exactly(int fd, char* p, size_t n) {
  size_t got = 0;
  while (got < n) {
    auto r = ::recv(fd, p + got, n - got, 0);
    if (r <= 0)
      return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

std::optional<std::string> read_frame(int fd) {
  char h[wire::header_size];
  if (!read_exactly(fd, h, sizeof(h)))
    return std::nullopt;
  wire::frame_header hdr;
  if (wire::parse_header(h, wire::default_max_frame, hdr) != wire::wire_errc::none)
    return std::nullopt;
  std::string body(hdr.length, '\0');
  if (!read_exactly(fd, body.data(), body.size()))
    return std::nullopt;
  return body;
}

std::string hello_frame(const wire::hello& hello) {
  return wire::make_frame(wire::encode(hello));
}

std::string client_hello(uint64_t incarnation) {
  wire::hello h;
  h.version = wire::version;
  h.min_version = wire::min_version;
  h.kind = wire::peer_kind::client;
  h.incarnation = incarnation;
  return hello_frame(h);
}

int greeted(uint16_t port, uint64_t incarnation, std::optional<wire::hello> hello) {
  int fd = dial(port);
  if (fd < 0)
    return -1;
  send_all(fd, hello ? hello_frame(*hello) : client_hello(incarnation));
  if (!read_frame(fd)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

} // namespace troupe::it
