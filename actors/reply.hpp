// Answers only requests. In CAF a value returned from a handler goes back to the sender even
// when the message was a plain send, and an error delivered that way kills an actor that has
// no error handler: a view push answered with an empty frame once took workers down. Handlers
// that receive both requests and pushes reply through these helpers instead of returning.
#pragma once

#include "actors/wire.hpp"

#include <caf/error.hpp>
#include <caf/response_promise.hpp>

namespace troupe {

template <class Self>
void reply(Self* self, frame f) {
  if (self->current_message_id().is_request())
    self->make_response_promise().deliver(std::move(f));
}

template <class Self>
void reply_error(Self* self, caf::error err) {
  if (self->current_message_id().is_request())
    self->make_response_promise().deliver(std::move(err));
}

} // namespace troupe
