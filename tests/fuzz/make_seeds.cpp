// Writes the seed corpus of every fuzz target (tests/fuzz/corpus/<target>/): valid messages
// made by the encoders, so the fuzzer starts from inputs that get past the first checks.
// scripts/fuzz.sh runs it before the targets; the files are also committed.
#include "protocols/cluster_state/commands.hpp"
#include "protocols/cluster_state/state_machine.hpp"
#include "protocols/membership/codec.hpp"
#include "protocols/raft/codec.hpp"
#include "protocols/wire/envelope.hpp"
#include "protocols/wire/frame.hpp"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace troupe;

namespace {

void write(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream{dir / name, std::ios::binary} << bytes;
}

membership::member sample_member() {
  membership::member m;
  m.name = "worker-1";
  m.address = "127.0.0.1:40001";
  m.roles.worker = true;
  m.pid = 42;
  m.state = membership::member_state::up;
  m.incarnation = 3;
  return m;
}

} // namespace

int main(int argc, char** argv) {
  fs::path out = argc > 1 ? argv[1] : "corpus";
  // Wire: hellos and envelopes, bare and framed.
  wire::hello h{wire::version, wire::min_version, wire::peer_kind::node, "c1", 7,
                "127.0.0.1:8139", true, 4u << 20};
  wire::envelope e{1, 7, wire::kind::request, 1, 1, std::string("\0\1body", 6), false};
  auto hello = wire::encode(h);
  auto env = wire::encode(wire::envelope{e});
  write(out / "fuzz_wire", "hello", hello);
  write(out / "fuzz_wire", "envelope", env);
  write(out / "fuzz_frame", "hello_then_envelope",
        std::string(1, '\x0b') + wire::make_frame(hello) + std::string(1, '\x40')
          + wire::make_frame(env));
  // Membership.
  write(out / "fuzz_membership", "join",
        membership::encode(membership::join_request{sample_member(), 64}, 1));
  write(out / "fuzz_membership", "heartbeat",
        membership::encode(membership::heartbeat{"worker-1", 3}, 2));
  write(out / "fuzz_membership", "member", membership::encode_member(sample_member()));
  // Raft: an append with entries.
  raft::message m;
  m.type = raft::msg_type::append;
  m.from = 1;
  m.to = 2;
  m.term = 3;
  m.index = 10;
  m.log_term = 3;
  m.commit = 9;
  m.entries.push_back(raft::entry{3, 11, raft::entry_type::normal, "payload"});
  write(out / "fuzz_raft", "append", raft::encode(m));
  // The cluster state: a command, a snapshot and a view of a small state.
  state::command put{1, 1, state::put_cmd{"app/color", "blue", std::nullopt}};
  write(out / "fuzz_cluster_state", "put", state::encode(put));
  state::state_machine sm{100};
  std::vector<state::member_change> changes;
  sm.apply(put, 1, changes);
  state::command join{0, 0, state::member_join_cmd{sample_member(), "c1", 0, 1, "cluster", 64}};
  sm.apply(join, 2, changes);
  // Shared work: a batch of job operations, and a job table in the snapshot.
  state::command jobs{0, 0, state::jobs_cmd{{
    jobs::create_queue_cmd{jobs::queue_config{"q", "sleep-job", 2, 1000, 3, 100}},
    jobs::submit_cmd{"q", "a", "10", 5}, jobs::assign_cmd{"q", "a", "w1", 6},
    jobs::finish_cmd{"q", "a", 1, false, "no such file", 7}, jobs::expire_cmd{"q", "a", 1, 8},
    jobs::retry_cmd{"q", std::nullopt, 9}, jobs::delete_queue_cmd{"old"}}}};
  write(out / "fuzz_cluster_state", "jobs", state::encode(jobs));
  sm.apply(jobs, 3, changes);
  // Tasks, sets and pruning: their operations, and a snapshot that holds them.
  state::command tasks{0, 0, state::jobs_cmd{{
    jobs::start_task_cmd{jobs::task_spec{"t", "beacon", 3, {{"interval-ms", "50"}}}, 10},
    jobs::place_task_cmd{"t", 1, "w1", 11}, jobs::set_cmd{"seen", "a.txt", true, 12},
    jobs::set_cmd{"seen", "b.txt", false, 13}, jobs::prune_cmd{"q", 2, 14},
    jobs::stop_task_cmd{"old", 15}}}};
  write(out / "fuzz_cluster_state", "tasks", state::encode(tasks));
  sm.apply(tasks, 4, changes);
  // A durable deployment's instance records: a claim, an append and a save in one batch, the
  // record a claim answers with, and a snapshot that holds it.
  state::deployment_spec durable;
  durable.name = "wc";
  durable.type = "word-count";
  durable.guarantee = state::delivery::at_least_once;
  durable.durable = true;
  sm.apply(state::command{0, 0, state::deploy_cmd{durable}}, 5, changes);
  state::instance_id id{"wc", 5, 3};
  state::command records{0, 0, state::instances_cmd{{
    state::instance_cmd{state::instance_claim{id, 7}},
    state::instance_cmd{state::instance_append{id, 1, 42, {1, 2}, {"k", "k"}, {"a", "b"}}},
    state::instance_cmd{state::instance_save{id, 1, 1, "{\"k\":1}", "42:1,;"}}}}};
  write(out / "fuzz_cluster_state", "instances", state::encode(records));
  sm.apply(records, 6, changes);
  write(out / "fuzz_cluster_state", "record", state::encode_record(id, sm.instances().find(id)));
  write(out / "fuzz_cluster_state", "snapshot", sm.snapshot());
  write(out / "fuzz_cluster_state", "view", state::encode_view(sm, 2));
  return 0;
}
