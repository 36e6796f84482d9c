// The benchmark client of scripts/bench/run.sh: the same closed-loop load and the same
// failover probe against Troupe's coordinators (through CAF, as `troupe kv` talks) and against
// etcd (through its v3 JSON gateway over keep-alive HTTP), so the two are measured alike.
//
//   troupe_bench load --system troupe|etcd --endpoints H:P,... --in-flight K --seconds S
//       [--op publish]: Troupe only, persisted broadcasts on the bus instead of KV puts (both
//       one replicated, synced Raft write); reported as system "troupe-bus"
//   troupe_bench load --system troupe --op jobs ...: shared work instead: each client submits
//       jobs (one at a time) to a queue of its own run whose handler is `echo`; measured until
//       every job is done; reported as system "troupe-jobs" with the hand-out latency
//   troupe_bench failover --system troupe|etcd --endpoints H:P,... --pids P1,P2,...
//   troupe_bench ready --system troupe|etcd --endpoints H:P,...   (waits for every node and a leader)
//   troupe_bench report FILE.jsonl                                 (the table, with ratios)
//
// load and failover print one JSON object each. `failover` finds the leader, SIGKILLs its pid (the pids are in
// the order of the endpoints) and measures the time until a put is acknowledged by a survivor.
#include "actors/api/jobs.hpp"
#include "actors/bus/bus_actor.hpp"
#include "protocols/cluster_state/commands.hpp"
#include "actors/raft/raft_actor.hpp"
#include "actors/wire.hpp"
#include "nodes/remote_node.hpp"

#include <CLI/CLI.hpp>
#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

using namespace troupe;
using std::chrono::milliseconds;
using std::chrono::seconds;
template <class Rep, class Period = std::ratio<1>>
using span = std::chrono::duration<Rep, Period>;
using bench_clock = std::chrono::steady_clock;

namespace {

std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  auto n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                           reinterpret_cast<const unsigned char*>(in.data()),
                           static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

/// One client connection that puts keys, one request at a time.
class kv_client {
public:
  virtual ~kv_client() = default;
  /// Puts `key`; returns whether it was acknowledged within `timeout`.
  virtual bool put(const std::string& key, const std::string& value, milliseconds timeout) = 0;
  /// Returns whether this endpoint is the leader (nullopt: it does not answer).
  virtual std::optional<bool> is_leader() = 0;
};

class troupe_client : public kv_client {
public:
  troupe_client(caf::actor_system& sys, endpoint ep, uint64_t client_id, bool publish,
                std::string queue = {})
    : sys_(sys), self_(sys), ep_(std::move(ep)), client_(client_id), publish_(publish),
      queue_(std::move(queue)) {
  }

  bool put(const std::string& key, const std::string& value, milliseconds timeout) override {
    if (!connect(timeout))
      return false;
    bool ok = false;
    if (!queue_.empty()) {
      // A job, acknowledged once durable.
      self_->request(node_, timeout, jobs_cmd_atom::value,
                     jobs::encode_submit(queue_, {jobs::new_job_id()}, {value}))
        .receive([&](const std::vector<uint64_t>& o,
                     const std::vector<uint64_t>&) { ok = !o.empty() && o[0] == 0; },
                 [&](const caf::error&) { node_ = nullptr; });
      return ok;
    }
    if (publish_) {
      // A persisted broadcast, answered once committed: topic per client, as a key is.
      auto topic = key.substr(0, key.rfind('/'));
      std::replace(topic.begin(), topic.end(), '/', '.');
      self_->request(node_, timeout, bus_publish_atom::value, std::string{"bench"}, topic, value,
                     true, false)
        .receive([&](uint64_t index) { ok = index > 0; },
                 [&](const caf::error&) { node_ = nullptr; });
      return ok;
    }
    self_->request(node_, timeout, kv_put_atom::value, key, value, int64_t{-1}, client_, ++seq_)
      .receive([&](bool done, uint64_t) { ok = done; },
               [&](const caf::error&) { node_ = nullptr; });
    return ok;
  }

  std::optional<bool> is_leader() override {
    if (!connect(milliseconds(500)))
      return std::nullopt;
    std::optional<bool> out;
    self_->request(node_, milliseconds(500), raft_status_atom::value)
      .receive([&](const raft_status& s) { out = s.role == "leader"; },
               [&](const caf::error&) { node_ = nullptr; });
    return out;
  }

private:
  bool connect(milliseconds timeout) {
    if (node_)
      return true;
    std::string problem;
    node_ = connect_node(sys_, self_, ep_, timeout, problem);
    return static_cast<bool>(node_);
  }

  caf::actor_system& sys_;
  caf::scoped_actor self_;
  endpoint ep_;
  caf::actor node_;
  uint64_t client_;
  uint64_t seq_ = 0;
  bool publish_;
  std::string queue_;  // jobs: the queue submitted to
};

class etcd_client : public kv_client {
public:
  explicit etcd_client(const endpoint& ep) : http_(ep.host, ep.port) {
    http_.set_keep_alive(true);
    http_.set_tcp_nodelay(true); // as CAF does: no Nagle delay against delayed ACKs
  }

  bool put(const std::string& key, const std::string& value, milliseconds timeout) override {
    set_timeout(timeout);
    nlohmann::json body{{"key", base64(key)}, {"value", base64(value)}};
    auto res = http_.Post("/v3/kv/put", body.dump(), "application/json");
    return res && res->status == 200 && res->body.find("\"error\"") == std::string::npos;
  }

  std::optional<bool> is_leader() override {
    set_timeout(milliseconds(500));
    auto res = http_.Post("/v3/maintenance/status", "{}", "application/json");
    if (!res || res->status != 200)
      return std::nullopt;
    auto j = nlohmann::json::parse(res->body, nullptr, false);
    if (j.is_discarded() || !j.contains("leader") || !j.contains("header"))
      return std::nullopt;
    return j["leader"] == j["header"]["member_id"];
  }

private:
  void set_timeout(milliseconds t) {
    auto s = static_cast<time_t>(t.count() / 1000);
    auto us = static_cast<time_t>((t.count() % 1000) * 1000);
    http_.set_connection_timeout(s, us);
    http_.set_read_timeout(s, us);
    http_.set_write_timeout(s, us);
  }

  httplib::Client http_;
};

struct options {
  std::string system;
  std::vector<std::string> endpoints;
  std::vector<int> pids;
  size_t in_flight = 1;
  double seconds = 10;
  size_t value_size = 64;
  std::string op = "put";
};

std::string jobs_queue(const options& o) {
  return o.op == "jobs" ? "bench-" + std::to_string(o.in_flight) : std::string{};
}

std::unique_ptr<kv_client> make_client(const options& o, caf::actor_system& sys, size_t i,
                                       uint64_t id) {
  auto ep = parse_endpoint(o.endpoints[i % o.endpoints.size()]);
  if (o.system == "troupe")
    return std::make_unique<troupe_client>(sys, *ep, id, o.op == "publish", jobs_queue(o));
  return std::make_unique<etcd_client>(*ep);
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty())
    return 0;
  auto k = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

/// The leader's Raft commit index (troupe only; 0 when it does not answer): the bench reports
/// the log entries its load cost per operation.
uint64_t commit_index(const options& o, caf::actor_system& sys, const endpoint& ep) {
  if (o.system != "troupe")
    return 0;
  caf::scoped_actor self{sys};
  std::string problem;
  auto node = connect_node(sys, self, ep, milliseconds(2000), problem);
  uint64_t out = 0;
  if (node)
    self->request(node, seconds(2), raft_status_atom::value)
      .receive([&](const raft_status& st) { out = st.commit_index; }, [](const caf::error&) {});
  return out;
}

/// Jobs: the queue of this run, made before the load (handler echo: an empty handler; slots
/// enough that they do not bound the rate).
bool create_jobs_queue(const options& o, caf::actor_system& sys, const endpoint& ep) {
  caf::scoped_actor self{sys};
  std::string problem;
  auto node = connect_node(sys, self, ep, milliseconds(2000), problem);
  if (!node) {
    std::cerr << "troupe_bench: " << problem << "\n";
    return false;
  }
  jobs::queue_config q{jobs_queue(o), "echo", 64, 30000, 3, 100};
  bool ok = false;
  auto bytes = state::encode(state::command{0, 0, state::jobs_cmd{{jobs::create_queue_cmd{q}}}});
  self->request(node, seconds(5), jobs_cmd_atom::value, bytes)
    .receive([&](const std::vector<uint64_t>& out,
                 const std::vector<uint64_t>&) { ok = !out.empty() && out[0] <= 1; },
             [&](const caf::error& err) {
               std::cerr << "troupe_bench: cannot create the queue: " << sys.render(err) << "\n";
             });
  return ok;
}

/// Jobs: waits (up to two minutes) until `submitted` jobs are done; adds to `out` the seconds
/// from `t0` until then and, for up to 15,000 of them, on the leader's clock (ms), the
/// hand-out latency (submit applied -> hand-out planned) and submit applied -> result applied.
bool wait_jobs_done(const options& o, caf::actor_system& sys, const endpoint& ep,
                    size_t submitted, bench_clock::time_point t0, nlohmann::json& out) {
  caf::scoped_actor self{sys};
  std::string problem;
  auto node = connect_node(sys, self, ep, milliseconds(2000), problem);
  auto view = [&](const std::string& what) {
    nlohmann::json j;
    self->request(node, seconds(10), jobs_view_atom::value, jobs_queue(o), what)
      .receive([&](const std::string& text) { j = nlohmann::json::parse(text, nullptr, false); },
               [&](const caf::error&) {});
    return j;
  };
  std::optional<double> done_after;
  while (node && !done_after && bench_clock::now() - t0 < seconds(120)) {
    auto j = view("");
    if (j.is_object() && j["done"].get<size_t>() >= submitted)
      done_after = span<double>(bench_clock::now() - t0).count();
    else
      std::this_thread::sleep_for(milliseconds(10));
  }
  if (!done_after)
    return false;
  std::vector<double> handout, to_done;
  auto done = view("state:done:15000");
  if (done.is_object())
    for (auto& job : done["jobs"]) {
      auto submitted_ms = job["submitted_ms"].get<int64_t>();
      handout.push_back(static_cast<double>(job["started_ms"].get<int64_t>() - submitted_ms));
      to_done.push_back(static_cast<double>(job["ended_ms"].get<int64_t>() - submitted_ms));
    }
  out["seconds"] = *done_after;
  out["puts_per_s"] = static_cast<double>(submitted) / *done_after;
  out["handout_p50_ms"] = percentile(handout, 0.50);
  out["handout_p99_ms"] = percentile(handout, 0.99);
  out["done_p50_ms"] = percentile(to_done, 0.50);
  out["done_p99_ms"] = percentile(to_done, 0.99);
  return true;
}

/// K clients, each with one put outstanding, for the given time: all through the leader's
/// endpoint, so neither system pays a forward.
int run_load(const options& o, caf::actor_system& sys) {
  size_t leader = 0;
  for (size_t i = 0; i < o.endpoints.size(); ++i)
    if (make_client(o, sys, i, 1)->is_leader().value_or(false))
      leader = i;
  if (o.op == "jobs"
      && !create_jobs_queue(o, sys, *parse_endpoint(o.endpoints[leader])))
    return 69;
  std::string value(o.value_size, 'v');
  std::mutex mx;
  std::vector<double> latencies;
  std::atomic<size_t> errors{0};
  auto deadline = bench_clock::now() + span<double>(o.seconds);
  std::vector<std::thread> threads;
  auto leader_ep = *parse_endpoint(o.endpoints[leader]);
  auto first_index = commit_index(o, sys, leader_ep);
  auto t0 = bench_clock::now();
  for (size_t k = 0; k < o.in_flight; ++k)
    threads.emplace_back([&, k] {
      auto c = make_client(o, sys, leader, 1000 + k);
      std::vector<double> mine;
      size_t n = 0;
      while (bench_clock::now() < deadline) {
        auto key = "bench/" + std::to_string(k) + "/" + std::to_string(n++ % 1000);
        auto s = bench_clock::now();
        if (c->put(key, value, milliseconds(5000)))
          mine.push_back(span<double, std::milli>(bench_clock::now() - s).count());
        else
          ++errors;
      }
      std::lock_guard<std::mutex> guard{mx};
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  for (auto& t : threads)
    t.join();
  auto elapsed = span<double>(bench_clock::now() - t0).count();
  auto ops = latencies.size();
  auto p50 = percentile(latencies, 0.50);
  auto p99 = percentile(latencies, 0.99);
  nlohmann::json out{{"system", o.op == "publish" ? "troupe-bus"
                                : o.op == "jobs"  ? "troupe-jobs"
                                                  : o.system},
                     {"in_flight", o.in_flight},
                     {"puts", ops},
                     {"errors", static_cast<uint64_t>(errors.load())},
                     {"seconds", elapsed},
                     {"puts_per_s", static_cast<double>(ops) / elapsed},
                     {"p50_ms", p50},
                     {"p99_ms", p99}};
  if (o.op == "jobs"
      && !wait_jobs_done(o, sys, *parse_endpoint(o.endpoints[leader]), ops, t0, out)) {
    std::cerr << "troupe_bench: the jobs were not all done within two minutes\n";
    return 1;
  }
  // Log entries per operation (a job's: its submit, and its share of the batched hand-outs
  // and results); other writers' entries over the run are counted too.
  if (auto last = commit_index(o, sys, leader_ep); last > first_index && ops > 0)
    out["entries_per_op"] = static_cast<double>(last - first_index) / static_cast<double>(ops);
  std::cout << out.dump() << std::endl;
  return errors.load() == 0 ? 0 : 1;
}

int run_failover(const options& o, caf::actor_system& sys) {
  if (o.pids.size() != o.endpoints.size()) {
    std::cerr << "troupe_bench failover: give one pid per endpoint\n";
    return 64;
  }
  std::optional<size_t> leader;
  auto t_find = bench_clock::now();
  while (!leader && bench_clock::now() - t_find < seconds(20)) {
    for (size_t i = 0; i < o.endpoints.size() && !leader; ++i)
      if (make_client(o, sys, i, 7)->is_leader().value_or(false))
        leader = i;
    if (!leader)
      std::this_thread::sleep_for(milliseconds(50));
  }
  if (!leader) {
    std::cerr << "troupe_bench failover: no leader found within 20 s\n";
    return 69;
  }
  std::vector<std::unique_ptr<kv_client>> survivors;
  for (size_t i = 0; i < o.endpoints.size(); ++i)
    if (i != *leader)
      survivors.push_back(make_client(o, sys, i, 5000 + i));
  // Connect before the kill, so the measurement is the cluster's, not the client's set-up.
  for (auto& c : survivors)
    c->is_leader();
  auto t0 = bench_clock::now();
  ::kill(o.pids[*leader], SIGKILL);
  size_t attempt = 0;
  std::optional<double> took;
  while (!took && bench_clock::now() - t0 < seconds(30)) {
    auto& c = survivors[attempt++ % survivors.size()];
    if (c->put("bench/failover", std::to_string(attempt), milliseconds(200)))
      took = span<double, std::milli>(bench_clock::now() - t0).count();
  }
  nlohmann::json out{{"system", o.system}, {"killed", *leader}, {"attempts", attempt}};
  if (took)
    out["failover_ms"] = *took;
  std::cout << out.dump() << std::endl;
  return took ? 0 : 1;
}

/// Waits until every endpoint answers and one of them leads.
int run_ready(const options& o, caf::actor_system& sys) {
  auto t0 = bench_clock::now();
  while (bench_clock::now() - t0 < seconds(30)) {
    size_t answering = 0;
    size_t leaders = 0;
    for (size_t i = 0; i < o.endpoints.size(); ++i)
      if (auto l = make_client(o, sys, i, 9)->is_leader()) {
        ++answering;
        leaders += *l;
      }
    if (answering == o.endpoints.size() && leaders == 1)
      return 0;
    std::this_thread::sleep_for(milliseconds(100));
  }
  std::cerr << "troupe_bench ready: the " << o.system << " nodes were not all up with a leader "
            << "within 30 s\n";
  return 69;
}

struct summary {
  std::map<size_t, nlohmann::json> load;  // in_flight -> result
  std::vector<double> failovers;
};

std::string fixed(double x, int digits) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(digits);
  out << x;
  return out.str();
}

double median(std::vector<double> v) {
  return v.empty() ? 0 : percentile(v, 0.5);
}

/// Prints the results as a Markdown table; a ratio is Troupe's figure over etcd's.
int run_report(const std::string& file) {
  std::ifstream in{file};
  if (!in) {
    std::cerr << "troupe_bench report: cannot read " << file << "\n";
    return 66;
  }
  std::map<std::string, summary> by_system;
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("system"))
      continue;
    auto& s = by_system[j["system"].get<std::string>()];
    if (j.contains("in_flight"))
      s.load[j["in_flight"].get<size_t>()] = j;
    else if (j.contains("failover_ms"))
      s.failovers.push_back(j["failover_ms"].get<double>());
  }
  auto& t = by_system["troupe"];
  auto& e = by_system["etcd"];
  auto ratio = [](double a, double b) { return b > 0 ? fixed(a / b, 2) + "x" : std::string{"-"}; };
  if (e.load.empty())
    std::cout << "| measure | troupe | troupe KV puts | ratio |\n|---|---|---|---|\n";
  else
    std::cout << "| measure | troupe | etcd | troupe / etcd |\n|---|---|---|---|\n";
  for (auto& [k, tj] : t.load) {
    if (!e.load.count(k))
      continue;
    auto& ej = e.load[k];
    for (auto [field, label, digits] :
         {std::tuple{"puts_per_s", "puts/s", 0}, std::tuple{"p50_ms", "p50 ms", 2},
          std::tuple{"p99_ms", "p99 ms", 2}}) {
      auto a = tj[field].get<double>();
      auto b = ej[field].get<double>();
      std::cout << "| " << label << ", " << k << " in flight | " << fixed(a, digits) << " | "
                << fixed(b, digits) << " | " << ratio(a, b) << " |\n";
    }
  }
  // Persisted broadcasts: the same replicated, synced write as a put, through the bus.
  for (auto& [k, bj] : by_system["troupe-bus"].load) {
    if (!e.load.count(k))
      continue;
    auto& ej = e.load[k];
    for (auto [field, label, digits] :
         {std::tuple{"puts_per_s", "persisted broadcasts/s vs puts/s", 0},
          std::tuple{"p50_ms", "persisted broadcast p50 ms", 2},
          std::tuple{"p99_ms", "persisted broadcast p99 ms", 2}}) {
      auto a = bj[field].get<double>();
      auto b = ej[field].get<double>();
      std::cout << "| " << label << ", " << k << " in flight | " << fixed(a, digits) << " | "
                << fixed(b, digits) << " | " << ratio(a, b) << " |\n";
    }
  }
  // Shared work: jobs from submit to done against KV puts on the same cluster.
  for (auto& [k, jj] : by_system["troupe-jobs"].load) {
    if (!t.load.count(k))
      continue;
    auto& pj = t.load[k];
    auto jobs_s = jj["puts_per_s"].get<double>();
    auto puts_s = pj["puts_per_s"].get<double>();
    std::cout << "| jobs/s (submit to done) vs KV puts/s, " << k << " in flight | "
              << fixed(jobs_s, 0) << " | " << fixed(puts_s, 0) << " | " << ratio(jobs_s, puts_s)
              << " |\n"
              << "| job hand-out ms p50 / p99, " << k << " in flight | "
              << fixed(jj["handout_p50_ms"].get<double>(), 0) << " / "
              << fixed(jj["handout_p99_ms"].get<double>(), 0) << " | | |\n"
              << "| job submit to done ms p50 / p99, " << k << " in flight | "
              << fixed(jj["done_p50_ms"].get<double>(), 0) << " / "
              << fixed(jj["done_p99_ms"].get<double>(), 0) << " | | |\n";
    if (jj.contains("entries_per_op") && pj.contains("entries_per_op"))
      std::cout << "| Raft log entries per job / per put, " << k << " in flight | "
                << fixed(jj["entries_per_op"].get<double>(), 2) << " | "
                << fixed(pj["entries_per_op"].get<double>(), 2) << " | |\n";
  }
  auto list = [](const std::vector<double>& v) {
    std::string out;
    for (auto x : v)
      out += (out.empty() ? "" : ", ") + fixed(x, 0);
    return out;
  };
  if (!t.failovers.empty() && !e.failovers.empty())
    std::cout << "| failover ms, median of " << t.failovers.size() << " / " << e.failovers.size()
              << " | " << fixed(median(t.failovers), 0) << " (" << list(t.failovers) << ") | "
              << fixed(median(e.failovers), 0) << " (" << list(e.failovers) << ") | "
              << ratio(median(t.failovers), median(e.failovers)) << " |\n";
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"Troupe's benchmark client (see scripts/bench/README.md)"};
  app.require_subcommand(1);
  options o;
  auto common = [&](CLI::App* sub) {
    sub->add_option("--system", o.system, "troupe or etcd")
      ->required()
      ->check(CLI::IsMember({"troupe", "etcd"}));
    sub->add_option("--endpoints", o.endpoints, "HOST:PORT,... of the three nodes")
      ->required()
      ->delimiter(',');
  };
  auto load = app.add_subcommand("load", "closed-loop puts with K in flight");
  common(load);
  load->add_option("--in-flight", o.in_flight, "puts outstanding at once")->check(CLI::Range(1, 256));
  load->add_option("--seconds", o.seconds, "how long to run")->check(CLI::Range(0.5, 600.0));
  load->add_option("--value-size", o.value_size, "bytes per value")->check(CLI::Range(1, 65536));
  load->add_option("--op", o.op,
                   "put (KV), publish (persisted broadcasts) or jobs (shared work); the last two "
                   "troupe only")
    ->check(CLI::IsMember({"put", "publish", "jobs"}));
  auto failover = app.add_subcommand("failover", "SIGKILL the leader; time to the next put");
  common(failover);
  failover->add_option("--pids", o.pids, "pids of the nodes, in endpoint order")
    ->required()
    ->delimiter(',');
  auto ready = app.add_subcommand("ready", "wait until every node answers and one leads");
  common(ready);
  std::string report_file;
  auto report = app.add_subcommand("report", "print the results as a table with ratios");
  report->add_option("file", report_file, "the JSON lines of load and failover")->required();
  CLI11_PARSE(app, argc, argv);
  if (report->parsed())
    return run_report(report_file);
  for (auto& e : o.endpoints)
    if (!parse_endpoint(e)) {
      std::cerr << "troupe_bench: bad endpoint '" << e << "'\n";
      return 64;
    }
  client_config cfg;
  troupe_system sys{cfg};
  if (ready->parsed())
    return run_ready(o, sys);
  return load->parsed() ? run_load(o, sys) : run_failover(o, sys);
}
