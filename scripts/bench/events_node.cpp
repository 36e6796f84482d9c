// The node scripts/bench/events.sh runs: the stock troupe binary (every command, the example
// actor types) plus "bench-pump", an ordinary user actor that measures what users write. It is
// spawned on one node (`ctl spawn bench-pump --node A --name pump`) and each `ctl ask pump
// COMMAND` runs one measurement from that node and answers one JSON object:
//
//   one_way DEPLOYMENT EVENTS BYTES KEYS TAG   troupe::send one event at a time (keys TAG-k<i>,
//        payloads of BYTES), then a request per key; the deployment must count events per
//        key and answer the count to an empty payload (word-count). Answers the events the
//        instances counted and events/s up to the last count's reply. DEPLOYMENT may be
//        several, separated by commas: the events go to each in turn.
//   request DEPLOYMENT COUNT                   COUNT troupe::request round trips, one after
//        the other; answers p50/p99/p999 in microseconds.
//   recover DEPLOYMENT VNODES PID DEADLINE_MS  checks that every vnode answers, SIGKILLs PID,
//        then probes every vnode every 5 ms until each answered again; answers the time
//        until the last one did (and the worst vnodes).
#include "actors/api/send.hpp"
#include "actors/router.hpp"
#include "examples/actors/examples.hpp"
#include "nodes/troupe_node.hpp"

#include <caf/event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;
using probe_atom = caf::atom_constant<caf::atom("b_probe")>;
using reply = caf::typed_response_promise<std::string>;

double since(clock_type::time_point t, double scale = 1.0) {
  return std::chrono::duration<double>(clock_type::now() - t).count() * scale;
}

std::vector<std::string> words(const std::string& s) {
  std::istringstream in{s};
  std::vector<std::string> out;
  for (std::string w; in >> w;)
    out.push_back(w);
  return out;
}

std::string failed(const std::string& what) {
  return nlohmann::json{{"error", what}}.dump();
}

void one_way(caf::event_based_actor* self, const troupe::context& ctx,
             const std::vector<std::string>& a, reply rp) {
  std::vector<std::string> deps; // DEPLOYMENT, or several separated by commas: taken in turn
  for (std::istringstream in{a.at(1)}; !in.eof();) {
    std::string d;
    std::getline(in, d, ',');
    if (!d.empty())
      deps.push_back(d);
  }
  auto n = std::stoull(a.at(2));
  std::string payload(std::stoul(a.at(3)), 'x');
  std::vector<std::string> keys;
  for (size_t i = 0; i < std::max<size_t>(1, std::stoul(a.at(4))); ++i)
    keys.push_back(a.at(5) + "-k" + std::to_string(i));
  if (deps.empty()) {
    rp.deliver(failed("no deployment"));
    return;
  }
  auto start = clock_type::now();
  for (uint64_t i = 0; i < n; ++i)
    troupe::send(ctx, deps[i % deps.size()], keys[(i / deps.size()) % keys.size()], payload);
  // Events of a key reach its instance in order: when every key's count has come back, every
  // event sent before it has been handled (or lost, which the count shows).
  struct tally {
    size_t pending;
    uint64_t counted = 0;
    bool done = false;
  };
  auto t = std::make_shared<tally>(tally{keys.size() * deps.size()});
  for (auto& dep : deps)
    for (auto& k : keys)
      troupe::request(self, ctx, dep, k, "", std::chrono::seconds(300))
      .then(
        [t, rp, n, start](const std::string& count) mutable {
          if (t->done)
            return;
          if (count.empty() || count.find_first_not_of("0123456789") != std::string::npos) {
            t->done = true;
            rp.deliver(failed("a count request answered '" + count + "', not a count"));
            return;
          }
          t->counted += std::stoull(count);
          if (--t->pending > 0)
            return;
          t->done = true;
          auto secs = since(start);
          rp.deliver(nlohmann::json{{"sent", n}, {"counted", t->counted}, {"secs", secs},
                                    {"msgs_per_s", static_cast<double>(t->counted) / secs}}
                       .dump());
        },
        [t, rp](const caf::error& err) mutable {
          if (!t->done) {
            t->done = true;
            rp.deliver(failed("a count request failed: " + to_string(err)));
          }
        });
}

struct round_trips {
  caf::event_based_actor* self;
  troupe::context ctx;
  std::string dep;
  uint64_t left;
  std::vector<double> us;
  reply rp;
};

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

void next_round_trip(std::shared_ptr<round_trips> r) {
  if (r->left == 0) {
    r->rp.deliver(nlohmann::json{{"count", r->us.size()},
                                 {"p50_us", percentile(r->us, 0.50)},
                                 {"p99_us", percentile(r->us, 0.99)},
                                 {"p999_us", percentile(r->us, 0.999)}}
                    .dump());
    return;
  }
  --r->left;
  auto start = clock_type::now();
  auto key = "rt-k" + std::to_string(r->left % 64);
  troupe::request(r->self, r->ctx, r->dep, key, "", std::chrono::seconds(5))
    .then(
      [r, start](const std::string&) {
        r->us.push_back(since(start, 1e6));
        next_round_trip(r);
      },
      [r](const caf::error& err) { r->rp.deliver(failed("a request failed: " + to_string(err))); });
}

// One recovery trial: which vnodes answered again, and when.
struct recovery {
  std::string dep;
  std::vector<std::string> keys;  // one key per vnode
  std::vector<double> served_ms;  // < 0 while the vnode has not answered since the kill
  std::vector<int> in_flight;
  clock_type::time_point killed;
  double deadline_ms = 0;
  size_t left = 0;
  bool armed = false;  // false while checking that every vnode answers before the kill
  bool done = false;
  reply rp;
};

} // namespace

// The probe timer carries the trial to the pump itself (never across nodes).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<recovery>)

namespace {

std::vector<std::string> key_per_vnode(uint32_t vnodes) {
  std::vector<std::string> keys(vnodes);
  uint32_t found = 0;
  for (uint64_t i = 0; found < vnodes && i < 100ull * vnodes + 100000; ++i) {
    auto k = "probe-" + std::to_string(i);
    auto& slot = keys[troupe::vnode_of(k, vnodes)];
    if (slot.empty()) {
      slot = k;
      ++found;
    }
  }
  return keys;
}

void finish(recovery& r, pid_t) {
  r.done = true;
  std::vector<std::pair<double, uint32_t>> worst;
  for (uint32_t v = 0; v < r.served_ms.size(); ++v)
    worst.emplace_back(r.served_ms[v], v);
  std::sort(worst.rbegin(), worst.rend());
  worst.resize(std::min<size_t>(3, worst.size()));
  nlohmann::json w = nlohmann::json::array();
  for (auto& [ms, v] : worst)
    w.push_back({{"vnode", v}, {"ms", ms}});
  r.rp.deliver(nlohmann::json{{"ms", worst.empty() ? 0.0 : worst.front().first}, {"worst", w}}.dump());
}

void probe(caf::event_based_actor* self, const troupe::context& ctx,
           std::shared_ptr<recovery> r, uint32_t v) {
  ++r->in_flight[v];
  auto sent = clock_type::now();
  troupe::request(self, ctx, r->dep, r->keys[v], "", std::chrono::seconds(1))
    .then(
      [r, v, sent](const std::string&) {
        --r->in_flight[v];
        if (r->done || r->served_ms[v] >= 0 || (r->armed && sent < r->killed))
          return;
        r->served_ms[v] = r->armed ? since(r->killed, 1e3) : 0.0;
        --r->left;
      },
      [r, v](const caf::error&) { --r->in_flight[v]; });
}

// Every 5 ms, a probe to each vnode that has not answered (at most 50 in flight each).
void probe_round(caf::event_based_actor* self, const troupe::context& ctx,
                 std::shared_ptr<recovery> r, pid_t pid) {
  if (r->done)
    return;
  if (r->left == 0 && !r->armed) { // every vnode answers: now the crash
    std::fill(r->served_ms.begin(), r->served_ms.end(), -1.0);
    r->left = r->keys.size();
    r->armed = true;
    r->killed = clock_type::now();
    if (kill(pid, SIGKILL) != 0) {
      r->done = true;
      r->rp.deliver(failed("cannot SIGKILL pid " + std::to_string(pid)));
      return;
    }
  } else if (r->left == 0) {
    finish(*r, pid);
    return;
  }
  auto elapsed = r->armed ? since(r->killed, 1e3) : 0.0;
  if (elapsed > r->deadline_ms) {
    r->done = true;
    r->rp.deliver(failed(std::to_string(r->left) + " vnodes did not answer within "
                         + std::to_string(r->deadline_ms) + " ms"));
    return;
  }
  for (uint32_t v = 0; v < r->keys.size(); ++v)
    if (r->served_ms[v] < 0 && r->in_flight[v] < 50)
      probe(self, ctx, r, v);
  self->delayed_send(self, std::chrono::milliseconds(5), probe_atom::value, r, pid);
}

void recover(caf::event_based_actor* self, const troupe::context& ctx,
             const std::vector<std::string>& a, reply rp) {
  auto r = std::make_shared<recovery>();
  r->dep = a.at(1);
  r->keys = key_per_vnode(static_cast<uint32_t>(std::stoul(a.at(2))));
  r->served_ms.assign(r->keys.size(), -1.0);
  r->in_flight.assign(r->keys.size(), 0);
  r->left = r->keys.size();
  r->deadline_ms = std::stod(a.at(4));
  r->rp = std::move(rp);
  probe_round(self, ctx, r, static_cast<pid_t>(std::stol(a.at(3))));
}

caf::behavior bench_pump(caf::event_based_actor* self, troupe::context ctx) {
  return {
    [self, ctx](const troupe::event& ev) -> reply {
      auto rp = self->make_response_promise<std::string>();
      auto a = words(ev.payload);
      try {
        if (!a.empty() && a[0] == "one_way" && a.size() == 6)
          one_way(self, ctx, a, rp);
        else if (!a.empty() && a[0] == "request" && a.size() == 3)
          next_round_trip(std::make_shared<round_trips>(
            round_trips{self, ctx, a[1], std::stoull(a[2]), {}, rp}));
        else if (!a.empty() && a[0] == "recover" && a.size() == 5)
          recover(self, ctx, a, rp);
        else
          rp.deliver(failed("unknown command: " + ev.payload));
      } catch (const std::exception& e) {
        rp.deliver(failed(std::string{"bad arguments: "} + e.what()));
      }
      return rp;
    },
    [self, ctx](probe_atom, std::shared_ptr<recovery> r, pid_t pid) {
      probe_round(self, ctx, std::move(r), pid);
    },
  };
}

} // namespace

int main(int argc, char** argv) {
  troupe::node node{argc, argv};
  troupe::examples::register_examples(node.types());
  node.add_actor_type("bench-pump", bench_pump);
  return node.run();
}
