#include "nodes/http_status.hpp"

#include "actors/logging.hpp"
#include "actors/wall_clock.hpp"
#include "actors/wire.hpp"
#include "nodes/status_render.hpp"
#include "protocols/membership/codec.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace troupe {

namespace ms = membership;

struct http_status::impl {
  caf::actor_system& sys;
  caf::actor membership;
  httplib::Server server;
  std::thread thread;
  uint16_t port = 0;

  impl(caf::actor_system& s, caf::actor m) : sys(s), membership(std::move(m)) {
  }

  void serve_status(httplib::Response& res) {
    caf::scoped_actor self{sys};
    std::string body;
    int code = 503;
    self->request(membership, std::chrono::seconds(2), frame{ms::encode(ms::status_request{})})
      .receive(
        [&](const frame& f) {
          ms::decoded msg;
          if (ms::decode(f.bytes, msg) == ms::codec_errc::none)
            if (auto* r = std::get_if<ms::status_reply>(&msg.body)) {
              body = status_json(*r, wall_clock_ms()).dump(2) + "\n";
              code = 200;
            }
        },
        [&](const caf::error& err) {
          body = nlohmann::json{{"error", sys.render(err)}}.dump() + "\n";
        });
    if (body.empty())
      body = R"({"error": "bad status reply"})" "\n";
    res.status = code;
    res.set_content(body, "application/json");
  }
};

http_status::http_status(caf::actor_system& sys, caf::actor membership)
  : impl_(std::make_unique<impl>(sys, std::move(membership))) {
}

http_status::~http_status() {
  stop();
}

std::string http_status::start(const std::string& host, uint16_t port) {
  auto* p = impl_.get();
  p->server.Get("/api/status",
                [p](const httplib::Request&, httplib::Response& res) { p->serve_status(res); });
  // httplib's default options add SO_REUSEPORT, which lets a second node bind a port that is
  // in use and silently share it. SO_REUSEADDR alone allows a quick restart and nothing more.
  p->server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  p->server.set_read_timeout(5, 0);
  p->server.set_write_timeout(5, 0);
  if (port == 0) {
    auto bound = p->server.bind_to_any_port(host);
    if (bound <= 0)
      return "cannot listen on " + host + ": " + std::strerror(errno);
    p->port = static_cast<uint16_t>(bound);
  } else {
    if (!p->server.bind_to_port(host, port))
      return host + ":" + std::to_string(port) + " is not available ("
             + std::strerror(errno ? errno : EADDRINUSE) + ")";
    p->port = port;
  }
  p->thread = std::thread{[p] { p->server.listen_after_bind(); }};
  logging::get("http")->info("serving /api/status on http://{}:{}", host, p->port);
  return {};
}

uint16_t http_status::port() const {
  return impl_->port;
}

void http_status::stop() {
  if (!impl_ || !impl_->thread.joinable())
    return;
  impl_->server.stop();
  impl_->thread.join();
}

} // namespace troupe
