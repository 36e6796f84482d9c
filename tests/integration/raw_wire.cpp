#include "tests/integration/raw_wire.hpp"

#include "actors/link/cookie.hpp"
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
  h.nonce = make_nonce(); // a cookie's node refuses a hello without one
  return hello_frame(h);
}

int greeted(uint16_t port, uint64_t incarnation, std::optional<wire::hello> hello,
            const std::string& cookie) {
  int fd = dial(port);
  if (fd < 0)
    return -1;
  if (!hello) {
    hello = wire::hello{};
    hello->version = wire::version;
    hello->min_version = wire::min_version;
    hello->kind = wire::peer_kind::client;
    hello->incarnation = incarnation;
  }
  hello->nonce = make_nonce();
  send_all(fd, hello_frame(*hello));
  auto answer = read_frame(fd);
  wire::hello theirs;
  if (!answer || wire::decode(*answer, theirs) != wire::wire_errc::none) {
    ::close(fd);
    return -1;
  }
  if (!cookie.empty())
    send_all(fd, tell(incarnation, wire::msg_type::proof,
                      cookie_proof(cookie, "connect", theirs.nonce, hello->nonce)));
  return fd;
}

std::string tell(uint64_t incarnation, wire::msg_type type, std::string body, uint64_t seq) {
  wire::envelope e;
  e.seq = seq;
  e.incarnation = incarnation;
  e.kind = wire::kind::tell;
  e.type = static_cast<uint32_t>(type);
  e.body = std::move(body);
  return wire::make_frame(wire::encode(std::move(e)));
}

} // namespace troupe::it
