#include "actors/vnodes/record_writer.hpp"

#include "actors/api/errors.hpp"
#include "actors/errors.hpp"
#include "actors/owed_promises.hpp"
#include "actors/raft/raft_actor.hpp"
#include "protocols/cluster_state/commands.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <deque>
#include <vector>

namespace troupe {

namespace {

using flush_atom = caf::atom_constant<caf::atom("rec_flush")>;

struct queued {
  state::instance_cmd cmd;
  owed_promises::id owed;
};

struct record_writer_state {
  record_writer_config cfg;
  owed_promises owed;  // every command's promise until answered (failed as the writer exits)
  std::deque<queued> waiting;
  size_t in_flight = 0;
  bool flush_sent = false;  // a flush_atom is on its way to itself

  static inline const char* name = "troupe.record_writer";
};

// Besides its interface, it tells itself to propose what gathered.
using writer_impl = record_writer_actor::extend<caf::reacts_to<flush_atom>>;
using writer_class = writer_impl::stateful_base<record_writer_state>;
using writer_ptr = writer_class*;

/// What a command carries, for the bound on a proposal's size.
size_t bytes_of(const state::instance_cmd& c) {
  size_t n = 64;
  if (auto* a = std::get_if<state::instance_append>(&c.op))
    for (size_t i = 0; i < a->keys.size(); ++i)
      n += a->keys[i].size() + a->payloads[i].size() + 16;
  else if (auto* s = std::get_if<state::instance_save>(&c.op))
    n += s->snapshot.size() + s->seen.size();
  return n;
}

void answer_all(writer_ptr self, const std::vector<owed_promises::id>& ids, const caf::error& err) {
  for (auto id : ids)
    self->state.owed.deliver(id, err);
}

/// Proposes the commands waiting (up to the bound) as one, if fewer than max_in_flight are
/// on their way.
void flush(writer_ptr self) {
  auto& st = self->state;
  if (st.waiting.empty() || st.in_flight >= st.cfg.max_in_flight)
    return;
  state::instances_cmd batch;
  std::vector<owed_promises::id> ids;
  size_t bytes = 0;
  while (!st.waiting.empty()
         && (batch.ops.empty() || bytes + bytes_of(st.waiting.front().cmd) <= st.cfg.max_batch_bytes)) {
    bytes += bytes_of(st.waiting.front().cmd);
    batch.ops.push_back(std::move(st.waiting.front().cmd));
    ids.push_back(st.waiting.front().owed);
    st.waiting.pop_front();
  }
  auto door = lookup(st.cfg.services, service::ingress);
  if (!door) {
    answer_all(self, ids, refuse(routing_errc::stopped, "the node's door is restarting"));
    return flush(self);
  }
  ++st.in_flight;
  auto n = ids.size();

  self
    ->request(door, std::chrono::seconds(5), instance_cmd_atom::value,
              state::encode(state::command{0, 0, std::move(batch)}))
    .then(
      [self, ids, n](std::vector<uint64_t>& refusals, std::vector<uint64_t>& positions,
                     std::vector<std::string>& data) {
        --self->state.in_flight;
        if (refusals.size() != n || positions.size() != n || data.size() != n) {
          answer_all(self, ids, refuse(routing_errc::malformed, "a malformed answer"));
        } else {
          for (size_t i = 0; i < n; ++i)
            self->state.owed.deliver(ids[i], refusals[i], positions[i], std::move(data[i]));
        }
        flush(self);
      },
      [self, ids](caf::error& err) {
        --self->state.in_flight;
        answer_all(self, ids, err);
        flush(self);
      });
}

writer_impl::behavior_type writer_behavior(writer_ptr self, record_writer_config cfg) {
  self->state.cfg = std::move(cfg);
  self->set_exit_handler([self](caf::exit_msg& em) {
    self->state.owed.fail_all(refuse(routing_errc::stopped, "the record writer stopped"));
    self->quit(std::move(em.reason));
  });
  return {
    [self](record_op_atom, state::instance_cmd& cmd)
      -> caf::result<uint64_t, uint64_t, std::string> {
      auto rp = self->make_response_promise();
      auto& st = self->state;
      st.waiting.push_back({std::move(cmd), st.owed.add(rp)});
      // Not at once: the vnodes of one batch of events write within a few hundred
      // microseconds of each other (the vnodes supervisor hands them their parts one after
      // the other): waiting 200 µs lets one proposal carry them all (a batch of 1,000 events
      // over 21 vnodes: one Raft entry, not three) for that much more latency.
      if (!st.flush_sent) {
        st.flush_sent = true;
        self->delayed_send(self, std::chrono::microseconds(200), flush_atom::value);
      }
      return rp;
    },
    [self](flush_atom) {
      self->state.flush_sent = false;
      flush(self);
    },
  };
}

} // namespace

record_writer_actor spawn_record_writer(caf::actor_system& sys, record_writer_config cfg) {
  return caf::actor_cast<record_writer_actor>(sys.spawn(writer_behavior, std::move(cfg)));
}

} // namespace troupe
