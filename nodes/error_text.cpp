#include "nodes/error_text.hpp"

#include "actors/api/errors.hpp"
#include "actors/inspect/console_errc.hpp"
#include "actors/link/link_errc.hpp"
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

/// A sentence for the CAF errors users meet, or "".
std::string sec_text(const caf::error& err) {
  if (err.category() != caf::atom("system")) // caf::sec's category
    return {};
  switch (static_cast<caf::sec>(err.code())) {
    case caf::sec::cannot_connect_to_node:
      return "nothing answers there: is a Troupe node running at that address? (start one "
             "with `troupe run`, or give --connect HOST:PORT)";
    case caf::sec::cannot_open_port:
      return "the port is in use by another process or not allowed here (choose another "
             "port, or 0 for any free one)";
    case caf::sec::request_timeout:
      return "no answer in time (the node may be busy or cut off: try again, or give a "
             "longer --timeout)";
    case caf::sec::no_route_to_receiving_node:
    case caf::sec::remote_linking_failed:
      return "the connection to the node was lost";
    case caf::sec::unexpected_message:
      return "the node does not know this request (is it a Troupe node of another version?)";
    default:
      return {};
  }
}

} // namespace

std::string error_text(caf::actor_system& sys, const caf::error& err) {
  if (auto text = sec_text(err); !text.empty())
    return text;
  auto& ctx = err.context();
  if (ctx.size() >= 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return sys.render(err);
}

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
  if (is(err, raft_errc::malformed) || is(err, raft_errc::compacted)
      || is(err, raft_errc::not_found))
    return ec::failure;
  if (in<raft_errc>(err))
    return ec::unavailable;
  if (is(err, service_errc::malformed))
    return ec::failure;
  if (in<service_errc>(err))
    return ec::unavailable;
  if (is(err, link_errc::malformed) || is(err, link_errc::too_large)
      || is(err, link_errc::unsupported))
    return ec::failure; // asking again cannot help
  if (in<link_errc>(err))
    return ec::unavailable;
  if (in<jobs_errc>(err))
    return ec::failure;
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
