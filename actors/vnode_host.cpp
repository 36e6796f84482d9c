#include "actors/vnode_host.hpp"

#include "actors/logging.hpp"
#include "actors/router.hpp"
#include "protocols/cluster_state/state_machine.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>

namespace troupe {

namespace {

using restart_atom = caf::atom_constant<caf::atom("vh_restart")>;

using instance_key = std::pair<std::string, uint32_t>;  // deployment, vnode

struct instance {
  caf::actor handle;
  std::string type;
  uint32_t restarts = 0;
};

struct host_state {
  vnode_host_config cfg;
  state::cluster_view view;
  uint64_t version = 0;
  std::map<instance_key, instance> instances;
  std::map<caf::actor_addr, instance_key> by_addr;
  std::set<std::string> unknown_types;  // deployments whose type this node lacks (logged once)
  bool restart_scheduled = false;
  bool fenced = false;
  std::shared_ptr<spdlog::logger> log = logging::get("vnodes");

  static inline const char* name = "troupe.vnode_host";
};

using host_actor = caf::stateful_actor<host_state>;

void stop_instance(host_actor* self, std::map<instance_key, instance>::iterator it) {
  self->demonitor(it->second.handle);
  self->state.by_addr.erase(it->second.handle.address());
  self->send_exit(it->second.handle, caf::exit_reason::user_shutdown);
  self->state.instances.erase(it);
}

/// Starts and stops instances until they match the view: one per (deployment, owned vnode).
void reconcile(host_actor* self) {
  auto& st = self->state;
  std::set<instance_key> want;
  auto& owners = st.view.vnodes.owners();
  for (uint32_t v = 0; v < owners.size(); ++v)
    if (owners[v] == st.cfg.node_name)
      for (auto& [name, d] : st.view.deployments.all())
        want.emplace(name, v);
  size_t stopped = 0;
  for (auto it = st.instances.begin(); it != st.instances.end();) {
    auto d = st.view.deployments.find(it->first.first);
    if (want.count(it->first) == 0 || !d || d->type != it->second.type) {
      auto next = std::next(it);
      stop_instance(self, it);
      it = next;
      ++stopped;
    } else {
      ++it;
    }
  }
  size_t started = 0;
  for (auto& key : want) {
    if (st.instances.count(key))
      continue;
    auto* d = st.view.deployments.find(key.first);
    context ctx{d->name, key.second, d->config, st.cfg.data_dir, st.cfg.router};
    auto a = st.cfg.types ? st.cfg.types->spawn(d->type, self->system(), ctx) : caf::actor{};
    if (!a) {
      if (st.unknown_types.insert(d->name).second)
        st.log->error("deployment {} needs actor type '{}', which this node does not have",
                      d->name, d->type);
      continue;
    }
    self->monitor(a);
    st.by_addr[a.address()] = key;
    st.instances[key] = instance{a, d->type, 0};
    ++started;
  }
  if (started + stopped > 0)
    st.log->info("{} instances started, {} stopped; {} running", started, stopped,
                 st.instances.size());
}

caf::behavior host(host_actor* self, vnode_host_config cfg) {
  self->state.cfg = std::move(cfg);
  // The instances are not linked to the host (one crashing must not take the others down), so
  // the host stops them itself when it is told to exit: the actor system waits for every actor
  // before a process can end.
  self->set_exit_handler([self](caf::exit_msg& em) {
    for (auto& [key, inst] : self->state.instances) {
      self->demonitor(inst.handle);
      self->send_exit(inst.handle, em.reason);
    }
    self->state.instances.clear();
    self->state.by_addr.clear();
    self->quit(em.reason);
  });
  self->set_down_handler([self](const caf::down_msg& dm) {
    auto& st = self->state;
    auto it = st.by_addr.find(dm.source);
    if (it == st.by_addr.end())
      return;
    auto key = it->second;
    st.by_addr.erase(it);
    st.instances.erase(key);
    st.log->warn("instance of {} on vnode {} died ({}): starting it again", key.first,
                 key.second, self->system().render(dm.reason));
    if (!st.restart_scheduled) {
      st.restart_scheduled = true;
      self->delayed_send(self, st.cfg.restart_delay, restart_atom::value);
    }
  });
  return {
    [self](workload_atom, uint64_t version, const std::string& bytes) {
      auto& st = self->state;
      if (version < st.version)
        return;
      state::cluster_view view;
      if (!state::decode_view(bytes, view)) {
        st.log->error("a workload that does not decode was ignored");
        return;
      }
      st.version = version;
      st.view = std::move(view);
      if (st.fenced) {
        st.fenced = false;
        st.log->info("ownership confirmed by the coordinator: serving vnodes again");
      }
      reconcile(self);
    },
    [self](restart_atom) {
      self->state.restart_scheduled = false;
      if (!self->state.fenced)
        reconcile(self);
    },
    [self](fence_atom) {
      auto& st = self->state;
      if (st.fenced)
        return;
      st.fenced = true;
      auto n = st.instances.size();
      for (auto& [key, inst] : st.instances) {
        self->demonitor(inst.handle);
        self->send_exit(inst.handle, caf::exit_reason::user_shutdown);
      }
      st.instances.clear();
      st.by_addr.clear();
      st.log->warn("fenced: stopped {} instances until the coordinator confirms this worker's "
                   "vnodes",
                   n);
    },
    [self](deliver_atom, const std::string& deployment, uint32_t vnode,
           event& ev) -> caf::result<caf::message> {
      auto& st = self->state;
      auto it = st.instances.find({deployment, vnode});
      if (st.fenced)
        return caf::make_error(caf::sec::runtime_error,
                               st.cfg.node_name + " is fenced: it lost its coordinator");
      if (it == st.instances.end())
        return caf::make_error(caf::sec::runtime_error,
                               "vnode " + std::to_string(vnode) + " of " + deployment
                                 + " is not served by " + st.cfg.node_name);
      return self->delegate(it->second.handle, std::move(ev));
    },
    [self](deliver_batch_atom, const std::string& deployment, std::vector<uint32_t>& vnodes,
           std::vector<std::string>& keys, std::vector<std::string>& payloads) {
      auto& st = self->state;
      uint64_t accepted = 0;
      auto n = std::min({vnodes.size(), keys.size(), payloads.size()});
      for (size_t i = 0; i < n; ++i) {
        auto it = st.instances.find({deployment, vnodes[i]});
        if (it == st.instances.end())
          continue;
        // Anonymous: the instance's reply has nowhere to go, as the sender asked.
        caf::anon_send(it->second.handle, event{std::move(keys[i]), std::move(payloads[i]), {}});
        ++accepted;
      }
      return accepted;
    },
    [self](instances_atom, const std::string& deployment, uint32_t vnode) {
      auto it = self->state.instances.find({deployment, vnode});
      return it == self->state.instances.end() ? caf::actor{} : it->second.handle;
    },
    [self](instances_atom) {
      std::vector<std::string> out;
      for (auto& [key, inst] : self->state.instances)
        out.push_back(key.first + "/" + std::to_string(key.second) + "/running");
      return out;
    },
  };
}

} // namespace

caf::actor spawn_vnode_host(caf::actor_system& sys, vnode_host_config cfg) {
  return sys.spawn(host, std::move(cfg));
}

} // namespace troupe
