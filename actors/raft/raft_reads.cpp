#include "actors/raft/raft_actor_state.hpp"

#include "actors/wall_clock.hpp"

#include <caf/event_based_actor.hpp>
#include <nlohmann/json.hpp>

namespace troupe::raft_detail {

/// The instance records kept (of `deployment`, or all when ""), without their contents: where
/// each instance's state lives and what it costs (`troupe ctl snapshots`).
std::string instances_json(const state::instance_store& store, const std::string& deployment) {
  auto out = nlohmann::json::array();
  for (auto& [id, r] : store.all()) {
    if (!deployment.empty() && id.deployment != deployment)
      continue;
    out.push_back({{"deployment", id.deployment},
                   {"created", id.created},
                   {"vnode", id.vnode},
                   {"epoch", r.epoch},
                   {"snapshot_bytes", r.snapshot.size()},
                   {"snapshot_pos", r.snapshot_pos},
                   {"saved_index", r.saved_index},
                   {"logged_events", r.log.size()},
                   {"logged_bytes", r.log_bytes}});
  }
  return out.dump();
}

/// Answers a watch if it has events (or `force`, with none); returns whether it answered.
bool answer_watch(raft_ptr self, pending_read& w, bool force) {
  auto& st = self->state;
  auto r = st.sm.kv().events_after(w.key, w.after);
  if (auto* c = std::get_if<state::kv_store::compacted>(&r)) {
    w.promise.deliver(caf::make_error(raft_errc::compacted, std::string{text_of(raft_errc::compacted)},
                                      c->oldest_available));
    return true;
  }
  auto& events = std::get<std::vector<state::kv_event>>(r);
  if (events.empty() && !force)
    return false;
  std::vector<std::string> kinds, keys, values;
  std::vector<uint64_t> revisions;
  for (auto& e : events) {
    kinds.emplace_back(e.type == state::kv_event::put ? "put" : "del");
    keys.push_back(e.record.key);
    values.push_back(e.record.value);
    revisions.push_back(e.record.mod_revision);
  }
  w.promise.deliver(std::move(kinds), std::move(keys), std::move(values), std::move(revisions),
                    st.sm.kv().revision());
  return true;
}

void serve_watches(raft_ptr self) {
  auto& st = self->state;
  for (auto it = st.watches.begin(); it != st.watches.end();)
    it = answer_watch(self, it->second, false) ? st.watches.erase(it) : std::next(it);
}

void serve_reads(raft_ptr self) {
  auto& st = self->state;
  auto it = st.reads_ready.begin();
  while (it != st.reads_ready.end()) {
    if (it->first > st.applied) {
      ++it;
      continue;
    }
    auto& rd = it->second;
    if (rd.instances) {
      rd.promise.deliver(instances_json(st.sm.instances(), *rd.instances));
    } else if (rd.jobs) {
      auto view = jobs::render_view(st.sm.jobs(), *rd.jobs, wall_clock_ms());
      if (view)
        rd.promise.deliver(std::move(*view));
      else
        rd.promise.deliver(failure(raft_errc::not_found,
                                   rd.jobs->kind == jobs::view_kind::job
                                     ? "no job '" + rd.jobs->id + "' in queue '" + rd.jobs->queue + "'"
                                     : "no queue '" + rd.jobs->queue + "' (see troupe ctl queues)"));
    } else if (rd.watch) {
      if (!answer_watch(self, rd, false)) {
        // Nothing yet: park it until an event arrives or watch_wait passes.
        auto id = st.next_watch++;
        self->delayed_send(self, st.cfg.watch_wait, watch_timeout_atom::value, id);
        st.watches.emplace(id, std::move(rd));
      }
    } else if (rd.vnodes) {
      auto& vm = st.sm.vnodes();
      rd.promise.deliver(vm.owners(), vm.epochs(), vm.version());
    } else if (rd.deployments) {
      std::vector<std::string> specs;
      for (auto& [name, d] : st.sm.deployments().all())
        specs.push_back(state::encode_deployment(d));
      rd.promise.deliver(std::move(specs), st.sm.deployments().version());
    } else if (rd.list) {
      std::vector<std::string> keys;
      std::vector<std::string> values;
      for (auto& rec : st.sm.kv().list(rd.key, rd.limit)) {
        keys.push_back(rec.key);
        values.push_back(rec.value);
      }
      rd.promise.deliver(std::move(keys), std::move(values), st.sm.kv().revision());
    } else {
      auto rec = st.sm.kv().get(rd.key);
      rd.promise.deliver(rec.has_value(), rec ? rec->value : std::string{},
                         rec ? rec->mod_revision : uint64_t{0}, st.sm.kv().revision());
    }
    it = st.reads_ready.erase(it);
  }
}


caf::response_promise read(raft_ptr self, pending_read rd) {
  auto& st = self->state;
  rd.promise = self->make_response_promise();
  auto rp = rd.promise;
  auto ctx = st.next_read++;
  if (replica(self).read_index(ctx) != r::errc::none) {
    rp.deliver(failure(raft_errc::no_quorum));
    return rp;
  }
  st.reads_waiting.emplace(ctx, std::move(rd));
  schedule_flush(self);
  return rp;
}

} // namespace troupe::raft_detail
