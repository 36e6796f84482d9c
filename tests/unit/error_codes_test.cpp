// Errors between actors are codes of per-module enums, not texts: they keep their category and
// code across the wire, render as their text, and clients pick exit codes from the code alone.
#define CAF_SUITE error_codes
#include <caf/test/unit_test.hpp>

#include "actors/api/errors.hpp"
#include "actors/inspect/console_errc.hpp"
#include "actors/raft/raft_errc.hpp"
#include "actors/supervision/service_errc.hpp"
#include "actors/link/link_errc.hpp"
#include "actors/wire.hpp"
#include "nodes/error_text.hpp"
#include "nodes/exit_codes.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/sec.hpp>

#include <string>
#include <vector>

using namespace troupe;

namespace {

struct config : caf::actor_system_config {
  config() {
    register_types(*this);
  }
};

/// The error as another node receives it.
caf::error over_the_wire(caf::actor_system& sys, const caf::error& err) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  auto e = err;
  CAF_REQUIRE(!sink(e));
  caf::error out;
  caf::binary_deserializer source{sys, buf};
  CAF_REQUIRE(!source(out));
  return out;
}

} // namespace

CAF_TEST(each error keeps its code across the wire and maps to its exit code) {
  config cfg;
  caf::actor_system sys{cfg};
  struct row {
    caf::error err;
    int exit;
  };
  std::vector<row> rows{
    {caf::make_error(console_errc::refused, std::string{"refused: wrong console token"}),
     exit_code::refused},
    {caf::make_error(console_errc::unknown_actor, std::string{"no actor 'x' on node n"}),
     exit_code::failure},
    {caf::make_error(console_errc::no_answer, std::string{"n/5 did not answer"}),
     exit_code::unavailable},
    {caf::make_error(routing_errc::no_deployment, std::string{"no deployment named 'w'"}),
     exit_code::failure},
    {caf::make_error(routing_errc::no_workers, std::string{"no workers: ..."}),
     exit_code::failure},
    {caf::make_error(routing_errc::not_served, std::string{"vnode 3 of w is not served"}),
     exit_code::unavailable},
    {caf::make_error(routing_errc::lease_expired, std::string{"this worker's lease ran out"}),
     exit_code::unavailable},
    {caf::make_error(raft_errc::no_quorum, std::string{text_of(raft_errc::no_quorum)}),
     exit_code::unavailable},
    {caf::make_error(raft_errc::leadership_lost,
                     std::string{text_of(raft_errc::leadership_lost)}),
     exit_code::unavailable},
    {caf::make_error(raft_errc::malformed, std::string{"malformed bus fetch"}),
     exit_code::failure},
    {caf::make_error(service_errc::restarting, std::string{"the bus is restarting"}),
     exit_code::unavailable},
    {caf::make_error(bus_errc::invalid, std::string{"a topic of 300 bytes"}), exit_code::failure},
    {caf::make_error(link_errc::too_large, std::string{"a message over --max-frame-bytes"}),
     exit_code::failure},
    {caf::make_error(link_errc::closed, std::string{"the connection closed"}),
     exit_code::unavailable},
    {caf::make_error(caf::sec::request_timeout), exit_code::unavailable},
    {caf::make_error(caf::sec::runtime_error, std::string{"a user actor's own error"}),
     exit_code::failure},
  };
  for (auto& r : rows) {
    auto got = over_the_wire(sys, r.err);
    CAF_CHECK_EQUAL(got.category(), r.err.category());
    CAF_CHECK_EQUAL(got.code(), r.err.code());
    CAF_CHECK_EQUAL(exit_code_for(got), r.exit);
    // The text a client prints is the one the actor gave, not CAF's rendering of the code.
    if (got.context().size() >= 1 && got.context().match_element<std::string>(0)) {
      CAF_CHECK_EQUAL(error_text(sys, got), got.context().get_as<std::string>(0));
      if (got.category() != caf::atom("system")) // Troupe's categories render as the text
        CAF_CHECK_EQUAL(sys.render(got), got.context().get_as<std::string>(0));
    }
  }
}

CAF_TEST(the same text under another code maps by the code) {
  // A text that starts like a refusal does not make an error a refusal: only the code does.
  auto fake = caf::make_error(routing_errc::not_served, std::string{"refused: not really"});
  CAF_CHECK_EQUAL(exit_code_for(fake), exit_code::unavailable);
  auto compacted = caf::make_error(raft_errc::compacted, std::string{"no longer kept"},
                                   uint64_t{42});
  CAF_CHECK_EQUAL(exit_code_for(compacted), exit_code::failure);
  CAF_CHECK_EQUAL(compacted.context().get_as<uint64_t>(1), 42u);
}

CAF_TEST(the errors of CAF that users meet are sentences) {
  config cfg;
  caf::actor_system sys{cfg};
  auto refused = caf::make_error(caf::sec::cannot_connect_to_node, "ip_connect failed",
                                 std::string{"127.0.0.1"}, uint16_t{1});
  auto text = error_text(sys, refused);
  CAF_MESSAGE(text);
  CAF_CHECK(text.find("nothing answers there") != std::string::npos);
  CAF_CHECK(text.find("system_error") == std::string::npos);
  CAF_CHECK(error_text(sys, caf::make_error(caf::sec::cannot_open_port)).find("in use")
            != std::string::npos);
  CAF_CHECK(error_text(sys, caf::make_error(caf::sec::request_timeout)).find("no answer in time")
            != std::string::npos);
  CAF_CHECK_EQUAL(exit_code_for(refused), exit_code::unavailable);
}
