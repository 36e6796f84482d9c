// The outboxes of the router: events sent without asking for a reply (troupe::send) leave in
// batches per owner behind a window of unanswered batches (see outbox_max_events in
// router_state.hpp).
#include "actors/router_state.hpp"

namespace troupe::router_internal {

/// Has the router flush its outboxes once it handled what its mailbox holds now.
void queue_flush(router_ptr self) {
  if (self->state.flush_queued)
    return;
  self->state.flush_queued = true;
  self->send(self, outbox_flush_atom::value);
}

/// Sends `owner` the at-most-once events of `deployment` that waited in its outbox, while
/// the window allows. Nobody waits for them: what the owner did not take counts as dropped.
void pump_outbox(router_ptr self, const std::string& owner, const std::string& deployment) {
  auto& st = self->state;
  auto it = st.outboxes.find({owner, deployment});
  if (it == st.outboxes.end())
    return;
  auto& out = it->second;
  if (!out.may_send()) {
    if (out.chunks.empty() && out.unanswered == 0)
      st.outboxes.erase(it);
    return;
  }
  auto b = std::move(out.chunks.front());
  out.chunks.pop_front();
  ++out.unanswered;
  auto then_send = std::move(b.then_send);
  b.then_send.clear();
  auto n = static_cast<uint64_t>(b.keys.size());
  auto timeout = st.cfg.timeout;
  auto answered = [self, owner, deployment](uint64_t lost, const std::string& why) {
    auto& st = self->state;
    if (lost > 0) {
      st.dropped += lost;
      st.log->debug("{} events of {} sent without a reply to {} were dropped: {}", lost,
                    deployment, owner, why);
    }
    if (auto it = st.outboxes.find({owner, deployment}); it != st.outboxes.end()) {
      --it->second.unanswered;
      pump_outbox(self, owner, deployment);
    }
  };
  with_owner(
    self, owner,
    [self, deployment, b, n, timeout, answered](peer_node_actor target) mutable {
      self
        ->request(target, timeout, deliver_batch_atom::value, deployment, std::move(b.vnodes),
                  std::move(b.epochs), std::move(b.keys), std::move(b.payloads))
        .then([n, answered](uint64_t took) { answered(took < n ? n - took : 0, "not served"); },
              [n, answered](caf::error& err) { answered(n, caf::to_string(err)); });
    },
    [n, answered](const std::string& why) { answered(n, why); });
  for (auto& f : then_send)
    f();
  pump_outbox(self, owner, deployment); // the window may take another chunk
}

/// Starts the at-least-once events of `deployment` sent without a reply, while the window
/// allows; the rest waits for a batch to be done (see reliable_done).
void pump_reliable(router_ptr self, const std::string& deployment) {
  auto& st = self->state;
  auto it = st.reliable_out.find(deployment);
  if (it == st.reliable_out.end())
    return;
  auto& out = it->second;
  while (out.may_send()) {
    auto c = std::move(out.chunks.front());
    out.chunks.pop_front();
    ++out.unanswered;
    start_reliable(self, deployment, std::move(c.vnodes), std::move(c.keys),
                   std::move(c.payloads), false, {}, true);
    for (auto& f : c.then_send)
      f();
  }
  if (out.chunks.empty() && out.unanswered == 0)
    st.reliable_out.erase(it);
}

/// A batch of the outbox of its deployment was acknowledged or given up on.
void reliable_done(router_ptr self, const reliable_batch& b) {
  if (!b.from_outbox)
    return;
  auto& out = self->state.reliable_out;
  if (auto it = out.find(b.deployment); it != out.end() && it->second.unanswered > 0) {
    --it->second.unanswered;
    pump_reliable(self, b.deployment);
  }
}

void flush_all(router_ptr self) {
  auto& st = self->state;
  st.flush_queued = false;
  std::vector<std::pair<std::string, std::string>> targets;
  for (auto& [to, out] : st.outboxes)
    targets.push_back(to);
  for (auto& [owner, deployment] : targets)
    pump_outbox(self, owner, deployment);
  std::vector<std::string> deployments;
  for (auto& [deployment, out] : st.reliable_out)
    deployments.push_back(deployment);
  for (auto& deployment : deployments)
    pump_reliable(self, deployment);
}

/// An event whose sender asked for no reply (troupe::send): into its outbox (see the header).
void hold(router_ptr self, const state::deployment_spec& d, uint32_t v, std::string key,
          std::string payload) {
  auto& st = self->state;
  if (d.guarantee == state::delivery::at_least_once) {
    auto& c = st.reliable_out[d.name].back();
    c.vnodes.push_back(v);
    c.keys.push_back(std::move(key));
    c.payloads.push_back(std::move(payload));
    if (c.keys.size() >= outbox_max_events)
      return pump_reliable(self, d.name);
    return queue_flush(self);
  }
  auto& owner = state::owner_of(st.view, d, v);
  if (owner.empty()) {
    ++st.dropped;
    return;
  }
  auto& b = st.outboxes[{owner, d.name}].back();
  b.vnodes.push_back(v);
  b.epochs.push_back(epoch_of(st.view, d, v));
  b.keys.push_back(std::move(key));
  b.payloads.push_back(std::move(payload));
  if (b.keys.size() >= outbox_max_events)
    return pump_outbox(self, owner, d.name);
  queue_flush(self);
}

} // namespace troupe::router_internal
