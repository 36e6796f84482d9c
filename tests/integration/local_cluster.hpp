// A `troupe run --workers N` node for integration tests, with helpers to read its status.
#pragma once

#include "tests/integration/harness.hpp"

#include <caf/test/unit_test.hpp>

#include <signal.h>

#include <iostream>
#include <memory>

namespace troupe::it {

struct local_cluster {
  uint16_t port = free_port_pair(); // first: name is made from it
  std::string name;
  std::string dir;
  std::unique_ptr<process> coord;

  /// `more(name)` adds arguments that depend on the node's name (e.g. its TLS certificate).
  local_cluster(const std::string& test, uint32_t workers, std::vector<std::string> extra = {},
                const std::function<std::vector<std::string>(const std::string&)>& more = {})
    : name("n" + std::to_string(port)), dir(temp_dir(test)) {
    if (more)
      for (auto& a : more(name))
        extra.push_back(a);
    std::vector<std::string> args{"run",
                                  "--name=" + name,
                                  "--cluster-port=" + std::to_string(port),
                                  "--data-dir=" + dir + "/data",
                                  "--threads=2"};
    if (workers > 0)
      args.push_back("--workers=" + std::to_string(workers));
    args.insert(args.end(), extra.begin(), extra.end());
    args_ = args;
    coord = std::make_unique<process>(args, dir + "/node.log");
  }

  /// Stops the coordinator (and with it its workers) with SIGINT and starts it again with the
  /// same arguments and data: every node restarts. False when it did not stop in time.
  bool restart(ms timeout = 30s) {
    coord->signal(SIGINT);
    if (!coord->wait_exit(timeout))
      return false;
    coord = std::make_unique<process>(args_, dir + "/node-" + std::to_string(++restarts_) + ".log");
    return true;
  }

  ~local_cluster() {
    if (caf::test::engine::current_test()->bad() > 0)
      std::cout << "---- log of " << name << " ----\n" << coord->log() << "---- end ----\n";
  }

  std::string worker(uint32_t k) const {
    return name + "-worker-" + std::to_string(k);
  }

  uint16_t http_port() const {
    return static_cast<uint16_t>(port + 1);
  }

  std::optional<nlohmann::json> status() const {
    return http_status(http_port());
  }

private:
  std::vector<std::string> args_;
  int restarts_ = 0;

public:

  /// Waits until `n` members are up.
  bool wait_up(size_t n, ms timeout = 15s) const {
    return wait_until(
      [&] {
        auto st = status();
        return st && count_state(*st, "up") == n;
      },
      timeout);
  }

  /// Returns the pid of member `member_name` as the coordinator reports it (0: unknown).
  pid_t pid_of(const std::string& member_name) const {
    auto st = status();
    if (!st)
      return 0;
    auto m = member(*st, member_name);
    return m ? m->at("pid").get<pid_t>() : 0;
  }

  std::string state_of(const std::string& member_name) const {
    auto st = status();
    if (!st)
      return "no status";
    auto m = member(*st, member_name);
    return m ? m->at("state").get<std::string>() : "absent";
  }
};

} // namespace troupe::it
