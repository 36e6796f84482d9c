#include "nodes/error_text.hpp"

#include "actors/api/errors.hpp"
#include "actors/inspect/console_errc.hpp"
#include "actors/raft/raft_errc.hpp"
#include "actors/supervision/service_errc.hpp"
#include "nodes/exit_codes.hpp"

#include <caf/sec.hpp>

namespace troupe {

namespace {

template <class E>
bool in(const caf::error& err) {
  return err.category() == caf::detail::error_factory<E>::category;
}

template <class E>
bool is(const caf::error& err, E x) {
  return in<E>(err) && err.code() == static_cast<uint8_t>(x);
}

} // namespace

int exit_code_for(const caf::error& err) {
  namespace ec = exit_code;
  if (!err)
    return ec::ok;
  if (is(err, console_errc::refused))
    return ec::refused;
  // Worth retrying: the cluster (or the part asked) cannot answer now.
  if (is(err, console_errc::unavailable) || is(err, console_errc::no_answer))
    return ec::unavailable;
  if (in<console_errc>(err))
    return ec::failure;
  if (is(err, routing_errc::no_deployment) || is(err, routing_errc::no_workers)
      || is(err, routing_errc::malformed))
    return ec::failure;
  if (in<routing_errc>(err))
    return ec::unavailable;
  if (is(err, raft_errc::malformed) || is(err, raft_errc::compacted))
    return ec::failure;
  if (in<raft_errc>(err))
    return ec::unavailable;
  if (is(err, service_errc::malformed))
    return ec::failure;
  if (in<service_errc>(err))
    return ec::unavailable;
  if (is(err, bus_errc::no_subscriber) || is(err, bus_errc::invalid))
    return ec::failure;
  if (in<bus_errc>(err))
    return ec::unavailable;
  // CAF's own: an error an actor answered with is a failure; timeouts and lost links are not.
  if (err == caf::sec::runtime_error || err == caf::sec::unexpected_message
      || err == caf::sec::invalid_argument)
    return ec::failure;
  return ec::unavailable;
}

} // namespace troupe
