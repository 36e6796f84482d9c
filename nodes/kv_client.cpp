#include "nodes/kv_client.hpp"

#include "actors/inspect/console_handler.hpp"

#include "actors/raft/raft_actor.hpp"
#include "actors/wire.hpp"
#include "nodes/error_text.hpp"
#include "nodes/exit_codes.hpp"
#include "nodes/interrupts.hpp"
#include "nodes/remote_node.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <iostream>
#include <random>
#include <thread>
#include <tuple>

#include <signal.h>

namespace troupe {

namespace {

const char* op_name(kv_command::op_t op) {
  switch (op) {
    case kv_command::put:
      return "put";
    case kv_command::get:
      return "get";
    case kv_command::del:
      return "del";
    case kv_command::list:
      return "list";
    case kv_command::watch:
      return "watch";
  }
  return "?";
}

/// While a watch runs, Ctrl-C (SIGINT) or SIGTERM ends it with exit 0 (in the console: back
/// to the prompt): a thread turns an interrupt into an answer to the long poll in flight, so
/// that the wait ends at once rather than when the poll does (up to the server's watch wait).
class watch_interrupts {
public:
  explicit watch_interrupts(caf::scoped_actor& self) : self_(self->ctrl()) {
    thread_ = std::thread{[this] { run(); }};
  }

  ~watch_interrupts() {
    done_ = true;
    thread_.join();
  }

  /// The response id of the request now in flight (its answer ends the wait).
  void waiting_for(caf::message_id rid) { pending_ = rid.integer_value(); }

  bool interrupted() const { return interrupt_scope::interrupted(); }

private:
  void run() {
    while (!done_ && !interrupt_scope::interrupted()) // checks the flag every 20 ms
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (auto rid = pending_.load(); !done_ && rid != 0)
      self_->enqueue(caf::make_mailbox_element(nullptr, caf::message_id{rid}, {},
                                               caf::make_error(caf::sec::request_timeout)),
                     nullptr);
  }

  interrupt_scope signals_;  // before the thread, which reads its flag
  caf::strong_actor_ptr self_;
  std::atomic<uint64_t> pending_{0};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

using watch_reply = std::tuple<std::vector<std::string>, std::vector<std::string>,
                               std::vector<std::string>, std::vector<uint64_t>, uint64_t>;

/// The watch loop: long polls from the last revision seen, forever (or until --count events).
/// Any failure (no quorum, a lost node) is retried with backoff from that same revision, so a
/// watcher that reconnects misses nothing.
int watch(caf::actor_system& sys, caf::scoped_actor& self, caf::actor node, size_t next,
          const kv_command& cmd, const std::string& prefix) {
  uint64_t after = 0;
  if (cmd.after) {
    after = *cmd.after;
  } else {
    bool ok = false;
    self->request(node, cmd.timeout, kv_list_atom::value, cmd.key, uint64_t{0})
      .receive(
        [&](const std::vector<std::string>&, const std::vector<std::string>&, uint64_t rev) {
          after = rev;
          ok = true;
        },
        [&](const caf::error& err) { std::cerr << prefix << error_text(sys, err) << "\n"; });
    if (!ok)
      return exit_code::unavailable;
  }
  uint64_t printed = 0;
  auto delay = std::chrono::milliseconds(100);
  watch_interrupts interrupts{self};
  for (;;) {
    std::optional<watch_reply> got;
    std::string problem;
    std::optional<uint64_t> oldest; // the first revision still kept, when compacted
    if (interrupts.interrupted())
      return exit_code::ok;
    if (node) {
      auto rh = self->request(node, cmd.timeout + std::chrono::seconds(5), kv_watch_atom::value,
                              cmd.key, after);
      interrupts.waiting_for(rh.id()); // already the id its answer comes with
      std::move(rh).receive(
          [&](std::vector<std::string>& kinds, std::vector<std::string>& keys,
              std::vector<std::string>& values, std::vector<uint64_t>& revs, uint64_t rev) {
            got = watch_reply{kinds, keys, values, revs, rev};
          },
          [&](const caf::error& err) {
            problem = error_text(sys, err);
            auto& ctx = err.context();
            if (err.category() == caf::detail::error_factory<raft_errc>::category
                && err.code() == static_cast<uint8_t>(raft_errc::compacted) && ctx.size() == 2
                && ctx.match_element<uint64_t>(1))
              oldest = ctx.get_as<uint64_t>(1);
          });
    } else {
      problem = "not connected";
    }
    if (interrupts.interrupted())
      return exit_code::ok;
    if (oldest) {
      std::cerr << prefix << "the events after revision " << after
                << " are no longer kept: read the current values, then watch with --after "
                << *oldest - 1 << "\n";
      return exit_code::failure;
    }
    if (!got) {
      std::cerr << prefix << problem << "; retrying from revision " << after << "\n";
      std::this_thread::sleep_for(delay);
      delay = std::min(delay * 2, std::chrono::milliseconds(2000));
      std::string why;
      node = connect_any(sys, self, cmd.targets, cmd.timeout, &next, why); // the next node
      continue;
    }
    delay = std::chrono::milliseconds(100);
    auto& [kinds, keys, values, revs, rev] = *got;
    for (size_t i = 0; i < keys.size(); ++i) {
      if (cmd.json)
        std::cout << nlohmann::json{{"type", kinds[i]},
                                    {"key", keys[i]},
                                    {"value", values[i]},
                                    {"revision", revs[i]}}
                       .dump()
                  << std::endl;
      else if (kinds[i] == "put")
        std::cout << "put " << keys[i] << " " << values[i] << " (revision " << revs[i] << ")"
                  << std::endl;
      else
        std::cout << "del " << keys[i] << " (revision " << revs[i] << ")" << std::endl;
      if (cmd.count != 0 && ++printed >= cmd.count)
        return exit_code::ok;
    }
    after = std::max(after, rev); // every matching event up to `rev` was in this answer
  }
}

} // namespace

int run_kv(const kv_command& cmd) {
  client_config sc;
  troupe_system sys{sc};
  auto prefix = std::string{"troupe kv "} + op_name(cmd.op) + ": ";
  int code = exit_code::ok;
  {
    caf::scoped_actor self{sys};
    std::string problem;
    size_t next = 0;
    auto node = connect_any(sys, self, cmd.targets, cmd.timeout, &next, problem);
    if (!node) {
      std::cerr << prefix << "cannot reach the cluster: " << problem << "\n";
      return exit_code::unavailable;
    }
    auto on_error = [&](const caf::error& err) {
      auto text = error_text(sys, err);
      std::cerr << prefix << text << "\n";
      code = exit_code_for(err);
    };
    // A random client id per invocation: the cluster de-duplicates retries of this write.
    std::random_device rd;
    uint64_t client = (static_cast<uint64_t>(rd()) << 32) | rd();
    int64_t expected = cmd.expected.value_or(-1);
    auto written = [&](bool ok, uint64_t revision) {
      if (cmd.json)
        std::cout << nlohmann::json{{"ok", ok}, {"revision", revision}}.dump() << "\n";
      else if (ok)
        std::cout << "OK revision " << revision << "\n";
      if (!ok) {
        std::cerr << prefix
                  << (cmd.op == kv_command::del && !cmd.expected
                        ? "'" + cmd.key + "' does not exist"
                        : "compare failed: '" + cmd.key + "' is not at revision "
                            + std::to_string(expected))
                  << "\n";
        code = exit_code::failure;
      }
    };
    if (cmd.op == kv_command::watch)
      return watch(sys, self, node, next, cmd, prefix);
    switch (cmd.op) {
      case kv_command::watch:
        break;
      case kv_command::put:
        self->request(node, cmd.timeout, write_message(cmd.token, kv_put_atom::value, cmd.key,
                                                       cmd.value, expected, client, uint64_t{1}))
          .receive(written, on_error);
        break;
      case kv_command::del:
        self->request(node, cmd.timeout,
                      write_message(cmd.token, kv_del_atom::value, cmd.key, expected, client,
                                    uint64_t{1}))
          .receive(written, on_error);
        break;
      case kv_command::get:
        self->request(node, cmd.timeout, kv_get_atom::value, cmd.key)
          .receive(
            [&](bool found, const std::string& value, uint64_t mod, uint64_t revision) {
              if (cmd.json)
                std::cout << nlohmann::json{{"key", cmd.key},      {"found", found},
                                            {"value", value},      {"mod_revision", mod},
                                            {"revision", revision}}
                               .dump()
                          << "\n";
              else if (found)
                std::cout << value << "\n";
              if (!found) {
                std::cerr << prefix << "'" << cmd.key << "' not found\n";
                code = exit_code::failure;
              }
            },
            on_error);
        break;
      case kv_command::list:
        self->request(node, cmd.timeout, kv_list_atom::value, cmd.key, cmd.limit)
          .receive(
            [&](const std::vector<std::string>& keys, const std::vector<std::string>& values,
                uint64_t revision) {
              if (cmd.json) {
                auto items = nlohmann::json::array();
                for (size_t i = 0; i < keys.size(); ++i)
                  items.push_back({{"key", keys[i]}, {"value", values[i]}});
                std::cout << nlohmann::json{{"revision", revision}, {"items", items}}.dump()
                          << "\n";
              } else {
                for (size_t i = 0; i < keys.size(); ++i)
                  std::cout << keys[i] << "\t" << values[i] << "\n";
              }
            },
            on_error);
        break;
    }
  }
  return code;
}

} // namespace troupe
