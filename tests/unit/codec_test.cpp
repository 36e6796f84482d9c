#define CAF_SUITE codec
#include <caf/test/unit_test.hpp>

#include "protocols/membership/codec.hpp"

#include <random>

using namespace troupe::membership;

namespace {

member sample_member() {
  member m;
  m.name = "node-a-worker-2";
  m.address = "127.0.0.1:40001";
  m.roles.worker = true;
  m.pid = 4242;
  m.state = member_state::suspect;
  m.incarnation = 7;
  m.started_at_ms = 1700000000000;
  m.instance_id = "abc-2";
  m.http_port = 40002;
  m.state_since_ms = 1700000000500;
  return m;
}

template <class T>
T roundtrip(const message& in, uint64_t seq = 0) {
  decoded out;
  auto err = decode(encode(in, seq), out);
  CAF_REQUIRE_EQUAL(to_string(err), std::string{"none"});
  CAF_CHECK_EQUAL(out.seq, seq);
  CAF_REQUIRE(std::holds_alternative<T>(out.body));
  return std::get<T>(out.body);
}

} // namespace

CAF_TEST(every message type survives a round trip) {
  auto m = sample_member();
  CAF_CHECK_EQUAL(roundtrip<bus_head>(bus_head{4711}, 3).head, 4711u);
  auto lf = roundtrip<link_fault>(link_fault{"w2", "gap: expected 8, got 9", "c1"});
  CAF_CHECK_EQUAL(lf.peer, "w2");
  CAF_CHECK_EQUAL(lf.reason, "gap: expected 8, got 9");
  CAF_CHECK_EQUAL(lf.reporter, "c1");
  CAF_CHECK_EQUAL(roundtrip<evicted>(evicted{"out of step"}).reason, "out of step");
  auto wl = roundtrip<workload>(workload{12, std::string{"\0view", 5}});
  CAF_CHECK_EQUAL(wl.version, 12u);
  CAF_CHECK_EQUAL(wl.state, std::string("\0view", 5));
  auto jr = roundtrip<join_request>(join_request{m}, 9);
  CAF_CHECK_EQUAL(jr.self.name, m.name);
  CAF_CHECK_EQUAL(jr.self.address, m.address);
  CAF_CHECK(jr.self.roles == m.roles);
  CAF_CHECK_EQUAL(jr.self.pid, m.pid);
  CAF_CHECK(jr.self.state == m.state);
  CAF_CHECK_EQUAL(jr.self.incarnation, m.incarnation);
  CAF_CHECK_EQUAL(jr.self.started_at_ms, m.started_at_ms);
  CAF_CHECK_EQUAL(jr.self.instance_id, m.instance_id);
  CAF_CHECK_EQUAL(jr.self.http_port, m.http_port);
  CAF_CHECK_EQUAL(jr.self.state_since_ms, m.state_since_ms);

  auto ja = roundtrip<join_accepted>(join_accepted{"c1", 3});
  CAF_CHECK_EQUAL(ja.cluster_id, "c1");
  CAF_CHECK_EQUAL(ja.incarnation, 3u);
  CAF_CHECK_EQUAL(roundtrip<join_rejected>(join_rejected{"name in use"}).reason, "name in use");
  auto hb = roundtrip<heartbeat>(heartbeat{"w1", 5});
  CAF_CHECK_EQUAL(hb.name, "w1");
  CAF_CHECK_EQUAL(hb.incarnation, 5u);
  auto ack = roundtrip<heartbeat_ack>(heartbeat_ack{true, 12});
  CAF_CHECK(ack.rejoin);
  CAF_CHECK_EQUAL(ack.view_version, 12u);
  CAF_CHECK_EQUAL(roundtrip<leave>(leave{"w1", 5}).incarnation, 5u);
  view v{4, "c1", {m, m}};
  v.members[1].name = "other";
  v.members[1].roles = {true, true};
  auto vv = roundtrip<view>(v);
  CAF_REQUIRE_EQUAL(vv.members.size(), 2u);
  CAF_CHECK_EQUAL(vv.members[1].name, "other");
  CAF_CHECK(vv.members[1].roles.coordinator && vv.members[1].roles.worker);
  roundtrip<status_request>(status_request{});
  status_reply sr{v, "me", health{"yellow", {"not connected"}}, 3, {}};
  auto srr = roundtrip<status_reply>(sr);
  CAF_CHECK_EQUAL(srr.answered_by, "me");
  CAF_CHECK_EQUAL(srr.node_health.level, "yellow");
  CAF_REQUIRE_EQUAL(srr.node_health.reasons.size(), 1u);
  CAF_CHECK_EQUAL(srr.bad_frames, 3u);
  CAF_CHECK_EQUAL(srr.members.members.size(), 2u);
}

CAF_TEST(garbage and oversized frames are rejected without crashing) {
  decoded out;
  CAF_CHECK(decode(std::string(codec_limits::max_frame_size + 1, 'x'), out)
            == codec_errc::frame_too_large);
  CAF_CHECK(decode("\xff\xff\xff\xff", out) == codec_errc::malformed);
  CAF_CHECK(decode("", out) == codec_errc::missing_body);
  // Random bytes: any verdict is fine as long as the decoder returns one. Run a few thousand.
  std::mt19937 rng{42};
  for (int i = 0; i < 5000; ++i) {
    std::string bytes(rng() % 64, '\0');
    for (auto& ch : bytes)
      ch = static_cast<char>(rng());
    decode(bytes, out);
  }
  // Mutations of a valid frame must never crash either.
  auto good = encode(status_reply{view{1, "c", {sample_member()}}, "n", health{}, 0, {}});
  for (int i = 0; i < 5000; ++i) {
    auto bytes = good;
    bytes[rng() % bytes.size()] = static_cast<char>(rng());
    decode(bytes, out);
  }
}

CAF_TEST(fields are checked after parsing) {
  decoded out;
  auto m = sample_member();
  m.name = "";
  CAF_CHECK(decode(encode(join_request{m}), out) == codec_errc::invalid_value);
  m = sample_member();
  m.name = std::string(codec_limits::max_name + 1, 'n');
  CAF_CHECK(decode(encode(join_request{m}), out) == codec_errc::field_too_large);
  m = sample_member();
  m.roles = {};
  CAF_CHECK(decode(encode(join_request{m}), out) == codec_errc::invalid_value);
  CAF_CHECK(decode(encode(heartbeat{"", 1}), out) == codec_errc::invalid_value);
  CAF_CHECK(decode(encode(join_accepted{"c", 0}), out) == codec_errc::invalid_value);
  status_reply sr{view{}, "n", health{"purple", {}}, 0, {}};
  CAF_CHECK(decode(encode(sr), out) == codec_errc::invalid_value);
  sr.node_health.level = "red";
  sr.node_health.reasons.assign(codec_limits::max_reasons + 1, "r");
  CAF_CHECK(decode(encode(sr), out) == codec_errc::field_too_large);
}
