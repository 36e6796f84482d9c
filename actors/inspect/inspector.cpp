#include "actors/inspect/inspector.hpp"

#include "actors/errors.hpp"
#include "actors/inspect/console_errc.hpp"

#include "actors/api/counted_actor.hpp"
#include "actors/inspect/log_ring.hpp"
#include "actors/handlers.hpp"
#include "actors/inspect/user_supervisor.hpp"
#include "actors/logging.hpp"
#include "actors/names.hpp"
#include "actors/wall_clock.hpp"
#include "actors/wire.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <map>
#include <set>

namespace troupe {

namespace {

constexpr uint64_t max_page = 10000;

struct inspector_state {
  inspector_config cfg;
  std::shared_ptr<spdlog::logger> log = logging::get("inspect");

  static inline const char* name = "troupe.inspector";
};

using inspector_class = inspector_actor::stateful_base<inspector_state>;
using inspector_ptr = inspector_class*;

nlohmann::json row_json(const actor_registry& reg, const actor_row& r) {
  nlohmann::json j{{"id", reg.id_of(r.seq)},
                   {"name", r.name},
                   {"type", r.type},
                   {"kind", r.kind},
                   {"node", reg.node()},
                   {"supervisor", r.supervisor},
                   {"state", r.state},
                   {"restarts", r.restarts},
                   {"last_exit", r.last_exit},
                   {"started_ms", r.started_ms}};
  if (!r.strategy.empty())
    j["strategy"] = r.strategy;
  if (r.counted) {
    j["handled"] = r.handled;
    j["mailbox"] = r.mailbox;
  } else {
    j["handled"] = nullptr; // not counted
    j["mailbox"] = nullptr;
  }
  return j;
}


nlohmann::json tree_of(const actor_registry& reg, const std::vector<actor_row>& rows,
                       const actor_row& top) {
  auto j = row_json(reg, top);
  auto kids = nlohmann::json::array();
  for (auto& r : rows)
    if (r.supervisor == top.name && r.seq != top.seq && !top.name.empty())
      kids.push_back(tree_of(reg, rows, r));
  j["children"] = kids;
  return j;
}

user_supervisor_actor user_supervisor_of(inspector_ptr self) {
  return lookup_as<user_supervisor_actor>(self->state.cfg.services, service::user_supervisor);
}

auto query_handlers(inspector_ptr self) {
  return std::make_tuple(
    [self](actors_atom, uint64_t offset, uint64_t limit) {
      auto& reg = *self->state.cfg.registry;
      uint64_t total = 0;
      auto rows = reg.page(offset, std::min(limit, max_page), total);
      auto items = nlohmann::json::array();
      for (auto& r : rows)
        items.push_back(row_json(reg, r));
      return nlohmann::json{{"node", reg.node()}, {"total", total}, {"offset", offset},
                            {"actors", std::move(items)}}
        .dump();
    },
    [self](inspect_atom, const std::string& who) -> caf::result<std::string> {
      auto& reg = *self->state.cfg.registry;
      auto row = reg.find(who);
      if (!row)
        return refuse(console_errc::unknown_actor, "no actor '" + who + "' on node " + reg.node());
      auto j = row_json(reg, *row);
      if (!row->counted || !row->handle)
        return j.dump();
      // The actor's own view of its state, when it answers dump_atom.
      auto rp = self->make_response_promise<std::string>();
      self->request(row->handle, std::chrono::seconds(1), dump_atom::value)
        .then([rp, j](std::string& dump) mutable {
                j["dump"] = std::move(dump);
                rp.deliver(j.dump());
              },
              [rp, j](const caf::error&) mutable { rp.deliver(j.dump()); });
      return rp;
    },
    [self](tree_atom) {
      auto& reg = *self->state.cfg.registry;
      auto rows = reg.all();
      auto kids = nlohmann::json::array();
      std::set<std::string> names;
      for (auto& r : rows)
        names.insert(r.name);
      // The top: the root, and anything whose supervisor is not listed.
      for (auto& r : rows)
        if (r.supervisor.empty() || names.count(r.supervisor) == 0)
          kids.push_back(tree_of(reg, rows, r));
      return nlohmann::json{{"node", reg.node()}, {"children", std::move(kids)}}.dump();
    },
    [self](spawn_atom a, std::string& type, std::string& name, std::vector<std::string>& args,
           uint32_t count) -> caf::result<std::string> {
      auto us = user_supervisor_of(self);
      if (!us)
        return refuse(console_errc::unavailable, "the user supervisor of node " + self->state.cfg.node_name
                      + " is restarting: try again");
      return self->delegate(us, a, std::move(type), std::move(name), std::move(args), count);
    },
    [self](tell_atom, const std::string& who, std::string& key,
           std::string& payload) -> caf::result<std::string> {
      auto& reg = *self->state.cfg.registry;
      auto row = reg.find(who);
      if (!row)
        return refuse(console_errc::unknown_actor, "no actor '" + who + "' on node " + reg.node());
      if (!row->handle)
        return refuse(console_errc::not_running, reg.id_of(row->seq) + " is not running (" + row->state + ")");
      caf::anon_send(row->handle, event{std::move(key), std::move(payload), {}});
      return nlohmann::json{{"ok", true}, {"id", reg.id_of(row->seq)}}.dump();
    }
  );
}

auto command_handlers(inspector_ptr self) {
  return std::make_tuple(
    [self](ask_atom, const std::string& who, std::string& key, std::string& payload,
           uint64_t timeout_ms) -> caf::result<std::string> {
      auto& reg = *self->state.cfg.registry;
      auto row = reg.find(who);
      if (!row)
        return refuse(console_errc::unknown_actor, "no actor '" + who + "' on node " + reg.node());
      if (!row->handle)
        return refuse(console_errc::not_running, reg.id_of(row->seq) + " is not running (" + row->state + ")");
      auto rp = self->make_response_promise<std::string>();
      auto id = reg.id_of(row->seq);
      self
        ->request(row->handle, std::chrono::milliseconds(timeout_ms),
                  event{std::move(key), std::move(payload), {}})
        .then([rp](std::string& reply) mutable { rp.deliver(std::move(reply)); },
              [rp, id, timeout_ms, self](const caf::error& err) mutable {
                rp.deliver(err == caf::sec::request_timeout
                             ? refuse(console_errc::no_answer,
                                      id + " did not answer within "
                                        + std::to_string(timeout_ms) + " ms")
                             : refuse(console_errc::failed,
                                      id + " failed: " + self->system().render(err)));
              });
      return rp;
    },
    [self](kill_atom a, std::string& who, std::string& reason,
           bool for_good) -> caf::result<std::string> {
      auto& st = self->state;
      auto& reg = *st.cfg.registry;
      auto row = reg.find(who);
      if (!row)
        return refuse(console_errc::unknown_actor, "no actor '" + who + "' on node " + reg.node());
      auto id = reg.id_of(row->seq);
      if (row->kind == "user") {
        auto us = user_supervisor_of(self);
        if (!us)
          return refuse(console_errc::unavailable, "the user supervisor of node " + st.cfg.node_name
                        + " is restarting: try again");
        return self->delegate(us, a, std::move(who), std::move(reason), for_good);
      }
      if (row->supervisor.empty())
        return refuse(console_errc::not_allowed, id + " (" + row->name + ") is the root of the node's tree: stop the "
                      "node instead");
      if (for_good)
        return refuse(console_errc::not_allowed, id + " (" + row->name + ") is restarted by its supervisor: --stop is for "
                      "spawned actors (an instance goes with its deployment: undeploy it)");
      if (!row->handle)
        return refuse(console_errc::not_running, id + " is not running (" + row->state + ")");
      // A crash as its supervisor sees it: it is started again (or its supervisor escalates).
      // The reason can be trapped, so that a supervisor or a vnode host stops its own
      // children in order before it goes.
      self->send_exit(row->handle, refuse(console_errc::killed, reason.empty() ? "killed from the console" : reason));
      st.log->warn("{} ({}) killed from the console{}{}", id, row->name,
                   reason.empty() ? "" : ": ", reason);
      return nlohmann::json{{"ok", true}, {"id", id}, {"restart", true}}.dump();
    }
  );
}

auto log_handlers(inspector_ptr self) {
  return std::make_tuple(
    [self](logs_atom, uint64_t after, int32_t min_level, uint64_t limit) {
      uint64_t next = 0;
      auto lines = logging::recent()->read(after, min_level, std::min<uint64_t>(limit, 5000),
                                           next);
      auto items = nlohmann::json::array();
      for (auto& l : lines)
        items.push_back({{"seq", l.seq},
                         {"level", spdlog::level::to_string_view(
                                     static_cast<spdlog::level::level_enum>(l.level))
                                     .data()},
                         {"text", l.text}});
      return nlohmann::json{{"node", self->state.cfg.node_name}, {"next", next},
                            {"lines", std::move(items)}}
        .dump();
    },
    [self](health_atom) {
      auto& st = self->state;
      std::string level = "green";
      auto reasons = nlohmann::json::array();
      auto recent = st.cfg.registry->restarts_since(wall_clock_ms() - 60000);
      if (recent >= st.cfg.restart_alarm) {
        level = "yellow";
        reasons.push_back(std::to_string(recent) + " actor restarts in the last minute");
      }
      if (st.cfg.services)
        for (auto& problem : st.cfg.services->problems().all()) {
          level = "yellow";
          reasons.push_back(problem);
        }
      if (logging::roller_unreachable()) {
        level = "yellow";
        reasons.push_back("log-roller unreachable: " + std::to_string(logging::stderr_lines())
                          + " lines went to stderr");
      }
      return nlohmann::json{{"level", level}, {"reasons", reasons}}.dump();
    },
    [self](metrics_atom) -> metrics_result {
      std::map<std::string, uint64_t> handled, mailbox, restarts;
      for (auto& r : self->state.cfg.registry->all()) {
        if (!r.counted || (r.kind != "instance" && r.kind != "user"))
          continue; // the node's own services: see troupe_supervisor_restarts_total
        handled[r.type] += r.handled;
        mailbox[r.type] += r.mailbox;
        restarts[r.type] += r.restarts;
      }
      std::vector<std::string> names;
      std::vector<uint64_t> values;
      for (auto& [type, n] : handled) {
        names.push_back("troupe_actor_messages_handled_total;type;" + type);
        values.push_back(n);
        names.push_back("troupe_actor_mailbox_size;type;" + type);
        values.push_back(mailbox[type]);
        names.push_back("troupe_actor_restarts_total;type;" + type);
        values.push_back(restarts[type]);
      }
      return {std::move(names), std::move(values)};
    }
  );
}

inspector_actor::behavior_type inspector(inspector_ptr self, inspector_config cfg) {
  self->state.cfg = std::move(cfg);
  auto& st = self->state;
  if (!st.cfg.registry)
    st.cfg.registry = std::make_shared<actor_registry>(st.cfg.node_name);
  return join_handlers<inspector_actor::behavior_type>(query_handlers(self), command_handlers(self),
                                                       log_handlers(self));
}

} // namespace

inspector_actor spawn_inspector(caf::actor_system& sys, inspector_config cfg,
                                std::shared_ptr<actor_stats> stats) {
  return spawn_counted_as<inspector_class>(
    sys, [cfg](inspector_ptr self) { return inspector(self, cfg); }, std::move(stats));
}

} // namespace troupe
