// A coordinator and named workers as separate processes on loopback, with a 600 ms failure
// timeout, for the cluster-service tests (main worker, bus, migrations). Stopping and starting
// them again on the same data dirs is a full cluster restart.
#pragma once

#include "tests/integration/harness.hpp"

#include <csignal>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace troupe::it {

struct small_cluster {
  std::string dir;
  std::string binary;  // "" : the stock troupe
  uint16_t port = free_port_pair();
  uint16_t http = static_cast<uint16_t>(port + 1);
  std::string ep = "127.0.0.1:" + std::to_string(port);
  std::string connect = "--connect=" + ep;
  std::unique_ptr<process> coord;
  std::map<std::string, std::unique_ptr<process>> workers;

  explicit small_cluster(const std::string& test, std::string bin = {})
    : dir(temp_dir(test)), binary(std::move(bin)) {
  }

  std::unique_ptr<process> start(std::vector<std::string> args, const std::string& name) {
    args.insert(args.begin(), "run");
    for (auto a : {"--failure-timeout=600ms", "--heartbeat-interval=100ms"})
      args.emplace_back(a);
    args.push_back("--data-dir=" + dir + "/" + name);
    return std::make_unique<process>(args, dir + "/" + name + ".log", std::string{}, "/dev/null",
                                     binary);
  }

  /// Starts the coordinator; true once it answers on HTTP.
  bool start_coordinator() {
    coord = start({"--coordinator", "--name=c", "--peers=" + ep,
                   "--cluster-port=" + std::to_string(port)},
                  "c");
    return wait_until([&] { return http_status(http).has_value(); }, 10s);
  }

  void start_worker(const std::string& name) {
    workers[name] = start({"--worker", "--name=" + name, "--coordinators=" + ep,
                           "--cluster-port=0"},
                          name);
  }

  /// Starts the coordinator and `names` as workers; true once all of them are up.
  bool boot(const std::vector<std::string>& names) {
    if (!start_coordinator())
      return false;
    for (auto& n : names)
      start_worker(n);
    return wait_up(names.size() + 1);
  }

  /// True once `n` members are up.
  bool wait_up(size_t n, ms timeout = 10s) {
    return wait_until(
      [&] {
        auto st = http_status(http);
        return st && count_state(*st, "up") == n;
      },
      timeout);
  }

  /// The cluster port of member `name` ("" : unknown), for `--connect` to that node.
  std::string address_of(const std::string& name) {
    auto st = http_status(http);
    auto m = st ? member(*st, name) : std::nullopt;
    return m ? m->value("address", "") : std::string{};
  }

  std::string main_worker() {
    auto st = http_status(http);
    return st ? st->value("main_worker", "") : std::string{};
  }

  /// Stops every process with SIGTERM, workers first; true when all exited in time.
  bool stop_all() {
    bool ok = true;
    for (auto& [name, w] : workers)
      if (w && w->running()) {
        w->signal(SIGTERM);
        ok = w->wait_exit(10s).has_value() && ok;
      }
    if (coord && coord->running()) {
      coord->signal(SIGTERM);
      ok = coord->wait_exit(10s).has_value() && ok;
    }
    return ok;
  }
};

} // namespace troupe::it
