// Durable deployments (`--durable`): an instance's events are logged in its record in the
// cluster state and given to the instance while their append is on its way; its snapshot is
// saved there with the position it covers; when it starts (on a new owner, or again after a
// crash) it claims its record, restores the snapshot and is given the events logged after it.
// An at-least-once batch is answered once its events were handled and logged, and every
// append proposed before it too: an answered event is in the state the next instance starts
// from, exactly once (its (sender, seq) is in the de-duplication table that travels with the
// snapshot and the log). An append that fails starts the instance again from its record, so
// that what it handled is what the record holds.
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

/// Answers batch `id` when it can be: its fresh events handled, and every append up to the
/// one it waits for logged.
void settle(vnode_ptr self, durable_log& dl, uint64_t id) {
  auto it = dl.batches.find(id);
  if (it == dl.batches.end())
    return;
  auto& b = it->second;
  if (!b.handled || (!dl.open.empty() && *dl.open.begin() <= b.wait_for))
    return;
  self->state.owed.deliver(b.gather->owed, std::move(b.gather->replies));
  dl.batches.erase(it);
}

void settle_all(vnode_ptr self, durable_log& dl) {
  std::vector<uint64_t> ids;
  for (auto& [id, b] : dl.batches)
    if (b.handled)
      ids.push_back(id);
  for (auto id : ids)
    settle(self, dl, id);
}

/// After an append that failed, or whose outcome is not known: the instance starts again from
/// its record (which has the truth), so that nothing it handled is missing there.
void start_again(vnode_ptr self, const std::string& dep, const std::string& why) {
  self->state.log->warn("durable {} on {} starts again from its record: {}", dep, what(self),
                        why);
  drop_instance(self, dep); // fails the batches it owes: their senders send them again
  restart_soon(self);
}

/// Gives the instance the fresh events of batch `id` (answered in order into its gather).
/// Their (sender, seq) are in its table already (deliver_durable).
void give(vnode_ptr self, const std::string& dep, instance& inst, uint64_t id,
          const std::shared_ptr<reliable_batch>& gather, const std::vector<size_t>& index,
          std::vector<std::string>& keys, std::vector<std::string>& payloads,
          const std::vector<uint64_t>& seqs) {
  auto& dl = *inst.durable;
  auto target = caf::actor_cast<instance_actor>(inst.handle);
  auto gen = dl.generation;
  auto n = index.size();
  for (size_t k = 0; k < n; ++k) {
    auto i = index[k];
    dl.unsaved_bytes += keys[i].size() + payloads[i].size();
    event e{std::move(keys[i]), std::move(payloads[i]),
            {{sender_header, gather->sender_text}, {sequence_header, std::to_string(seqs[i])}}};
    // Only the last event carries a deadline (see deliver_reliable in vnode_actor.cpp).
    auto deadline = k + 1 == n ? caf::duration{std::chrono::seconds(10)}
                               : caf::duration{caf::infinite};
    self->request(target, deadline, std::move(e))
      .then(
        [self, dep, gen, id, i, gather](std::string& reply) {
          gather->replies[i] = std::move(reply);
          if (--gather->waiting > 0)
            return;
          if (auto* d = durable_of(self, dep, gen))
            if (auto it = d->batches.find(id); it != d->batches.end()) {
              it->second.handled = true;
              settle(self, *d, id);
            }
        },
        [self, dep, gen](caf::error& err) {
          if (durable_of(self, dep, gen)) // it did not handle an event it was given
            start_again(self, dep, "an event was not handled (" + self->system().render(err) + ")");
        });
  }
  delivered_to(self, inst, n);
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
  dl.generation = 0; // answers still on their way find no log of theirs
}

void deliver_durable(vnode_ptr self, const std::string& dep, instance& inst,
                     std::shared_ptr<reliable_batch> b, std::vector<std::string> keys,
                     std::vector<std::string> payloads, std::vector<uint64_t> seqs) {
  auto& st = self->state;
  auto& dl = *inst.durable;
  // A durable instance is given an event as its append is proposed: the table of what it was
  // given is also the one that recognizes retries.
  auto& seen = dl.given[b->sender];
  std::vector<size_t> fresh;
  b->replies.resize(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (seen.contains(seqs[i]))
      ++st.shared->counters.duplicates; // logged already, or its append is on its way
    else {
      seen.insert(seqs[i]);
      fresh.push_back(i);
    }
  }
  auto id = dl.next_batch++;
  auto& db = dl.batches[id];
  db.gather = b;
  if (fresh.empty()) { // retries only: answered once the appends on their way are logged
    db.wait_for = dl.proposed;
    db.handled = true;
    settle(self, dl, id);
    return;
  }
  db.wait_for = ++dl.proposed;
  dl.open.insert(db.wait_for);
  b->waiting = fresh.size();
  state::instance_append a{dl.id, dl.claim, b->sender, {}, {}, {}};
  for (auto i : fresh) {
    a.seqs.push_back(seqs[i]);
    a.keys.push_back(keys[i]);
    a.payloads.push_back(payloads[i]);
  }
  auto n = fresh.size();
  dl.unlogged += n;
  auto p = db.wait_for;
  auto gen = dl.generation;
  // The append first: the record writer keeps the order it was handed them in, so a
  // snapshot saved later covers what the instance was given by then.
  propose_instance(
    self, state::instance_cmd{std::move(a)},
    [self, dep, gen, p, n](uint64_t pos, std::string&) {
      auto* d = durable_of(self, dep, gen);
      if (!d)
        return;
      if (pos != d->logged_upto + 1) {
        start_again(self, dep, "its record logged the events at " + std::to_string(pos)
                                 + ", not after " + std::to_string(d->logged_upto));
        return;
      }
      d->logged_upto += n;
      d->unlogged -= n;
      d->open.erase(p);
      settle_all(self, *d);
    },
    [self, dep, gen](state::instance_refusal r, const std::string& why) {
      if (durable_of(self, dep, gen))
        start_again(self, dep, "an append was refused (" + why + ")");
      if (r == state::instance_refusal::log_full)
        self->state.log->error("durable {} on {}: its record's log is full: its snapshots are "
                               "not saved (does its type answer snapshot_atom?)", dep, what(self));
    },
    [self, dep, gen](const caf::error& err) {
      if (durable_of(self, dep, gen))
        start_again(self, dep, "an append's outcome is not known ("
                                 + self->system().render(err) + ")");
    });
  give(self, dep, inst, id, b, fresh, keys, payloads, seqs);
  if (dl.unsaved_bytes >= durable_save_bytes)
    if (auto* d = deployment(st, dep))
      save_snapshot(self, dep, inst, *d);
}

/// Starts the instance of `d` from its claimed record `data` (or, not durable, from the state
/// its old owner handed over): restores the snapshot, replays the events logged after it.
void start_claimed(vnode_ptr self, const state::deployment_spec& d,
                   const std::optional<std::string>& handed, const std::string& data) {
  auto& st = self->state;
  state::instance_id id;
  state::instance_record rec;
  if (!state::decode_record(data, id, rec)) {
    st.log->error("the record of {} on {} does not decode: starting it again", d.name, what(self));
    restart_soon(self);
    return;
  }
  bool use_handed = handed && !d.durable; // a durable record has every event: replay it
  if (!use_handed && (!rec.snapshot.empty() || !rec.log.empty()))
    st.log->info("{} on vnode {} starts from its last snapshot ({} bytes){}", d.name,
                 ctx_vnode(st), rec.snapshot.size(),
                 d.durable ? " and " + std::to_string(rec.log.size()) + " events logged since"
                           : std::string{});
  auto* inst = start_instance(self, d, use_handed ? *handed : rec.snapshot, rec.claim, !use_handed);
  if (!inst || !d.durable)
    return;
  auto dl = std::make_unique<durable_log>();
  dl->id = id;
  dl->claim = rec.claim;
  dl->generation = ++st.generation;
  dl->logged_upto = rec.next_pos - 1;
  dl->saved_pos = rec.snapshot_pos;
  dl->given = decode_seen(rec.seen);
  for (auto& e : rec.log) { // after the restore: the mailbox keeps their order
    if (dl->given[e.sender].contains(e.seq))
      continue; // in the snapshot already
    dl->given[e.sender].insert(e.seq);
    dl->unsaved_bytes += e.key.size() + e.payload.size();
    caf::anon_send(inst->handle,
                   event{std::move(e.key), std::move(e.payload),
                         {{sender_header, std::to_string(e.sender)},
                          {sequence_header, std::to_string(e.seq)}}});
  }
  inst->durable = std::move(dl);
  if (!rec.log.empty()) { // saved at once: the log it replayed goes before new appends
    delivered_to(self, *inst, rec.log.size());
    save_snapshot(self, d.name, *inst, d);
  }
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
      if (current())
        start_claimed(self, d, handed, data);
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
