// Relays the current request to another actor and its reply (of types Rs...) back to the
// original requester. CAF 0.17 matches replies by type, so the reply types are spelled out.
// With `owed` (the relaying actor's owed promises, see owed_promises.hpp) the promise is kept
// there, so that the requester is answered at once if the relaying actor exits first.
#pragma once

#include "actors/owed_promises.hpp"

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/response_promise.hpp>

#include <chrono>

namespace troupe {

template <class... Rs, class Self, class... Ts>
caf::response_promise relay(Self* self, owed_promises* owed, const caf::actor& dest,
                            std::chrono::milliseconds timeout, Ts&&... xs) {
  auto rp = self->make_response_promise();
  if (!owed) {
    self->request(dest, timeout, std::forward<Ts>(xs)...)
      .then([rp](Rs&... reply) mutable { rp.deliver(std::move(reply)...); },
            [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
    return rp;
  }
  auto id = owed->add(rp);
  self->request(dest, timeout, std::forward<Ts>(xs)...)
    .then([owed, id](Rs&... reply) { owed->deliver(id, std::move(reply)...); },
          [owed, id](caf::error& err) { owed->deliver(id, std::move(err)); });
  return rp;
}

} // namespace troupe
