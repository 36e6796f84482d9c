// Durable deployments (`--durable`): an instance's events are logged in its record in the
// cluster state before it is given them, in the order they were logged; its snapshot is saved
// there with the position it covers; when it starts (on a new owner, or again after a crash)
// it claims its record, restores the snapshot and is given the events logged after it. An
// at-least-once batch is answered once its events were logged and handled: an answered event
// is in the state the next instance starts from, exactly once (its (sender, seq) is in the
// de-duplication table that moves with the snapshot and the log).
#include "actors/vnodes/vnode_actor_state.hpp"

#include "actors/api/errors.hpp"
#include "actors/errors.hpp"
#include "actors/router.hpp"
#include "actors/vnodes/seen_table.hpp"

namespace troupe::vnode_internal {

namespace {

/// The durable log of `dep`'s instance, if it is still the one of `generation`.
durable_log* durable_of(vnode_ptr self, const std::string& dep, uint64_t generation) {
  auto it = self->state.instances.find(dep);
  if (it == self->state.instances.end() || !it->second.durable
      || it->second.durable->generation != generation)
    return nullptr;
  return it->second.durable.get();
}

/// Answers batch `id` when it can be: its fresh events handled, its own append and every
/// append its retried events wait for logged.
void settle(vnode_ptr self, durable_log& dl, uint64_t id) {
  auto it = dl.batches.find(id);
  if (it == dl.batches.end())
    return;
  auto& b = it->second;
  if (!b.handled || !b.deps.empty() || (b.proposal != 0 && dl.open.count(b.proposal)))
    return;
  self->state.owed.deliver(b.gather->owed, std::move(b.gather->replies));
  dl.batches.erase(it);
}

void fail_batch(vnode_ptr self, durable_log& dl, uint64_t id, const caf::error& why) {
  auto it = dl.batches.find(id);
  if (it == dl.batches.end())
    return;
  self->state.owed.deliver(it->second.gather->owed, why);
  dl.batches.erase(it);
}

/// Append `p` was answered (`logged` or refused): the batches that waited for it go on.
void resolved(vnode_ptr self, durable_log& dl, uint64_t p, bool logged) {
  dl.open.erase(p);
  std::vector<uint64_t> ids;
  for (auto& [id, b] : dl.batches)
    if (b.deps.erase(p) > 0 || b.proposal == p)
      ids.push_back(id);
  for (auto id : ids) {
    auto& b = dl.batches.at(id);
    if (!logged && b.proposal != p)
      // A retried event of it was in that append: it is not logged after all.
      fail_batch(self, dl, id,
                 refuse(routing_errc::not_served, "an earlier attempt of some of its events "
                                                  "was not logged: send them again"));
    else
      settle(self, dl, id);
  }
}

/// Gives the instance the logged events whose turn came, in their order.
void give_ready(vnode_ptr self, const std::string& dep, instance& inst) {
  auto& dl = *inst.durable;
  auto target = caf::actor_cast<instance_actor>(inst.handle);
  uint64_t given = 0;
  while (!dl.ready.empty() && dl.ready.begin()->first == dl.next_pos) {
    auto ev = std::move(dl.ready.begin()->second);
    dl.ready.erase(dl.ready.begin());
    auto bit = dl.batches.find(ev.batch);
    auto gather = bit != dl.batches.end() ? bit->second.gather : nullptr;
    for (size_t k = 0; k < ev.seqs.size(); ++k) {
      dl.given[ev.sender].insert(ev.seqs[k]);
      dl.unsaved_bytes += ev.keys[k].size() + ev.payloads[k].size();
      ++dl.next_pos;
      ++given;
      event e{std::move(ev.keys[k]), std::move(ev.payloads[k]),
              {{sender_header, std::to_string(ev.sender)},
               {sequence_header, std::to_string(ev.seqs[k])}}};
      if (!gather) { // its batch was answered with a failure: the instance still handles it
        caf::anon_send(inst.handle, std::move(e));
        continue;
      }
      auto deadline = k + 1 == ev.seqs.size() ? caf::duration{std::chrono::seconds(10)}
                                              : caf::duration{caf::infinite};
      auto i = ev.index[k];
      auto id = ev.batch;
      auto gen = dl.generation;
      self->request(target, deadline, std::move(e))
        .then(
          [self, dep, gen, id, i, gather](std::string& reply) {
            gather->replies[i] = std::move(reply);
            if (--gather->waiting > 0)
              return;
            if (auto* d = durable_of(self, dep, gen)) {
              if (auto it = d->batches.find(id); it != d->batches.end()) {
                it->second.handled = true;
                settle(self, *d, id);
              }
            }
          },
          [self, dep, gen, id](caf::error& err) {
            if (auto* d = durable_of(self, dep, gen))
              fail_batch(self, *d, id, err);
          });
    }
  }
  if (given > 0)
    delivered_to(self, inst, given);
  if (dl.unsaved_bytes >= durable_save_bytes)
    if (auto* d = deployment(self->state, dep))
      save_snapshot(self, dep, inst, *d);
}

/// After an append whose outcome is not known: the instance starts again from its record
/// (which has the truth), so that nothing it was not given is counted as handled.
void start_again(vnode_ptr self, const std::string& dep, const std::string& why) {
  self->state.log->warn("durable {} on {} starts again from its record: {}", dep, what(self),
                        why);
  drop_instance(self, dep);
  self->state.seen.erase(dep);
  restart_soon(self);
}

} // namespace

void fail_durable_batches(vnode_ptr self, instance& inst, const std::string& why) {
  auto& dl = *inst.durable;
  auto err = refuse(routing_errc::stopped, why + " before its events were confirmed");
  auto batches = std::move(dl.batches);
  dl.batches.clear();
  for (auto& [id, b] : batches)
    self->state.owed.deliver(b.gather->owed, err);
  dl.open.clear();
  dl.ready.clear();
  dl.generation = 0; // answers still on their way find no log of theirs
}

void deliver_durable(vnode_ptr self, const std::string& dep, instance& inst,
                     std::shared_ptr<reliable_batch> b, std::vector<std::string> keys,
                     std::vector<std::string> payloads, std::vector<uint64_t> seqs) {
  auto& st = self->state;
  auto& dl = *inst.durable;
  auto& seen = st.seen[dep][b->sender];
  auto ev = std::make_shared<appended_events>();
  ev->sender = b->sender;
  bool retried = false;
  b->replies.resize(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (seen.contains(seqs[i])) {
      ++st.shared->counters.duplicates; // logged already (or being logged)
      retried = true;
      continue;
    }
    seen.insert(seqs[i]); // a retry that comes meanwhile waits for this append
    ev->index.push_back(i);
    ev->seqs.push_back(seqs[i]);
    ev->keys.push_back(std::move(keys[i]));
    ev->payloads.push_back(std::move(payloads[i]));
  }
  auto id = dl.next_batch++;
  auto& db = dl.batches[id];
  db.gather = b;
  if (retried)
    db.deps = dl.open;
  if (ev->seqs.empty()) {
    db.handled = true;
    settle(self, dl, id);
    return;
  }
  db.proposal = ++dl.proposed;
  dl.open.insert(db.proposal);
  b->waiting = ev->seqs.size();
  ev->batch = id;
  auto p = db.proposal;
  auto gen = dl.generation;
  state::instance_append a{dl.id, dl.claim, b->sender, ev->seqs, ev->keys, ev->payloads};
  propose_instance(
    self, state::instance_cmd{std::move(a)},
    [self, dep, gen, p, ev](uint64_t pos, std::string&) {
      auto* d = durable_of(self, dep, gen);
      if (!d)
        return;
      d->ready.emplace(pos, std::move(*ev));
      give_ready(self, dep, self->state.instances.at(dep));
      if ((d = durable_of(self, dep, gen)))
        resolved(self, *d, p, true);
    },
    [self, dep, gen, p, ev, id](state::instance_refusal r, const std::string& why) {
      auto* d = durable_of(self, dep, gen);
      if (!d)
        return;
      // Refused: not logged. Its events are fresh again for a retry.
      auto& seen = self->state.seen[dep][ev->sender];
      for (auto s : ev->seqs)
        seen.erase(s);
      fail_batch(self, *d, id,
                 refuse(r == state::instance_refusal::log_full ? routing_errc::buffer_full
                                                               : routing_errc::not_served,
                        dep + " on " + what(self) + " did not log the events: " + why));
      resolved(self, *d, p, false);
      if (r == state::instance_refusal::log_full)
        if (auto* spec = deployment(self->state, dep))
          save_snapshot(self, dep, self->state.instances.at(dep), *spec);
      if (r == state::instance_refusal::fenced)
        start_again(self, dep, "its record was claimed again");
    },
    [self, dep, gen](const caf::error& err) {
      if (durable_of(self, dep, gen))
        start_again(self, dep, "an append's outcome is not known ("
                                 + self->system().render(err) + ")");
    });
}

void start_from_record(vnode_ptr self, const state::deployment_spec& d,
                       std::optional<std::string> handed) {
  auto& st = self->state;
  auto epoch = st.core->epoch();
  st.claiming.insert(d.name);
  // The claim's answer is for the instance to start now, if the vnode is still served under
  // the same epoch and the deployment is the same.
  auto current = [self, d, epoch] {
    auto& st = self->state;
    st.claiming.erase(d.name);
    auto* now = deployment(st, d.name);
    return st.core->phase() == own::vnode_phase::serving && st.core->epoch() == epoch
           && !st.instances.count(d.name) && now && now->created == d.created;
  };
  propose_instance(
    self, state::instance_cmd{state::instance_claim{record_of(st, d), epoch}},
    [self, d, handed, current](uint64_t, std::string& data) {
      if (!current())
        return;
      auto& st = self->state;
      state::instance_id id;
      state::instance_record rec;
      if (!state::decode_record(data, id, rec)) {
        st.log->error("the record of {} on {} does not decode: starting it again", d.name,
                      what(self));
        restart_soon(self);
        return;
      }
      bool use_handed = handed && !d.durable; // a durable record has every event: replay it
      if (!use_handed && (!rec.snapshot.empty() || !rec.log.empty()))
        st.log->info("{} on vnode {} starts from its last snapshot ({} bytes){}", d.name,
                     ctx_vnode(st), rec.snapshot.size(),
                     d.durable ? " and " + std::to_string(rec.log.size()) + " events logged since"
                               : std::string{});
      auto* inst = start_instance(self, d, use_handed ? *handed : rec.snapshot, rec.claim,
                                  !use_handed);
      if (!inst || !d.durable)
        return;
      auto dl = std::make_unique<durable_log>();
      dl->id = id;
      dl->claim = rec.claim;
      dl->generation = ++st.generation;
      dl->next_pos = rec.next_pos;
      dl->saved_pos = rec.snapshot_pos;
      dl->given = decode_seen(rec.seen);
      for (auto& e : rec.log) { // after the restore: the mailbox keeps their order
        dl->given[e.sender].insert(e.seq);
        dl->unsaved_bytes += e.key.size() + e.payload.size();
        caf::anon_send(inst->handle,
                       event{std::move(e.key), std::move(e.payload),
                             {{sender_header, std::to_string(e.sender)},
                              {sequence_header, std::to_string(e.seq)}}});
      }
      st.seen[d.name] = dl->given;
      inst->durable = std::move(dl);
      if (!rec.log.empty())
        delivered_to(self, *inst, rec.log.size()); // its next snapshot shortens the log
    },
    [self, d, current](state::instance_refusal r, const std::string& why) {
      if (!current())
        return;
      if (r == state::instance_refusal::fenced)
        self->state.log->debug("{} on {}: a later owner claimed its record", d.name, what(self));
      else if (r != state::instance_refusal::no_deployment) {
        self->state.log->warn("{} on {}: claiming its record was refused ({}): trying again",
                              d.name, what(self), why);
        restart_soon(self);
      }
    },
    [self, d, current](const caf::error& err) {
      if (!current())
        return;
      self->state.log->warn("{} on {}: cannot claim its record yet ({}): trying again", d.name,
                            what(self), self->system().render(err));
      restart_soon(self);
    });
}

} // namespace troupe::vnode_internal
