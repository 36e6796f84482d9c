// Relays the current request to another actor and its reply (of types Rs...) back to the
// original requester. CAF 0.17 matches replies by type, so the reply types are spelled out.
#pragma once

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/response_promise.hpp>

#include <chrono>

namespace troupe {

template <class... Rs, class Self, class... Ts>
caf::response_promise relay(Self* self, const caf::actor& dest,
                            std::chrono::milliseconds timeout, Ts&&... xs) {
  auto rp = self->make_response_promise();
  self->request(dest, timeout, std::forward<Ts>(xs)...)
    .then([rp](Rs&... reply) mutable { rp.deliver(std::move(reply)...); },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

} // namespace troupe
