// A running node under hostile input at its cluster port (issue 13): random bytes, truncated
// frames, huge length fields before and after a hello, valid headers with garbage bodies, a
// message type it does not know, and thousands of connections opened and left idle. Throughout,
// `troupe status` and `troupe kv put` (each a new process, so a new connection that has to get
// past the idle ones) answer within 1 s, the node's resident memory stays under the frame
// bound plus 64 MiB, and the refusals are counted in /metrics by reason.
#define CAF_SUITE hostile_wire
#include <caf/test/unit_test.hpp>

#include "actors/raft/raft_actor.hpp"
#include "nodes/remote_node.hpp"
#include "protocols/wire/envelope.hpp"
#include "protocols/wire/frame.hpp"
#include "tests/integration/harness.hpp"
#include "tests/integration/raw_wire.hpp"

#include <caf/scoped_actor.hpp>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <random>
#include <thread>

using namespace troupe;
using namespace troupe::it;

namespace {

std::string header_claiming(uint32_t length) {
  std::string h = wire::make_frame("").substr(0, wire::header_size);
  for (int i = 0; i < 4; ++i)
    h[4 + i] = static_cast<char>(length >> (24 - 8 * i));
  return h;
}

size_t rss_bytes(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stoull(line.substr(6)) * 1024;
  return 0;
}

/// True once the cluster of one behind `http` says it is up (15 s at most).
bool single_node_up(uint16_t http) {
  return wait_until(
    [&] {
      auto st = http_status(http);
      return st && count_state(*st, "up") == 1;
    },
    15s, 50ms);
}

void raise_fd_limit() {
  rlimit r{};
  ::getrlimit(RLIMIT_NOFILE, &r);
  r.rlim_cur = r.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &r);
}

} // namespace

CAF_TEST(hostile input at the cluster port leaves the node answering within its bounds) {
  raise_fd_limit();
  auto dir = temp_dir("hostile-wire");
  auto port = free_port_pair();
  auto http = static_cast<uint16_t>(port + 1);
  auto target = "127.0.0.1:" + std::to_string(port);
  process node{{"run", "--name=h" + std::to_string(port), "--cluster-port=" + std::to_string(port),
                "--data-dir=" + dir + "/data", "--threads=2"},
               dir + "/node.log"};
  CAF_REQUIRE(single_node_up(http));
  const size_t bound = wire::default_max_frame + (64u << 20);
  auto rss0 = rss_bytes(node.pid());
  CAF_MESSAGE("resident memory before: " << rss0 / 1024 << " KiB; bound " << bound / 1024
                                         << " KiB");

  std::atomic<bool> stop{false};
  std::atomic<size_t> max_rss{rss0};
  std::atomic<uint64_t> attacks{0};
  std::atomic<bool> unsupported_answered{false};
  std::thread watcher{[&] {
    while (!stop) {
      auto r = rss_bytes(node.pid());
      if (r > max_rss)
        max_rss = r;
      std::this_thread::sleep_for(50ms); // the sampling period of the memory watch
    }
  }};
  std::vector<int> idle; // left open until the end
  std::thread attacker{[&] {
    std::mt19937_64 rng{42};
    auto junk = [&](size_t n) {
      std::string s(n, '\0');
      for (auto& c : s)
        c = static_cast<char>(rng());
      return s;
    };
    uint64_t inc = 1000;
    for (int round = 0; !stop && round < 1000; ++round) {
      // Random bytes.
      if (int fd = dial(port); fd >= 0) {
        send_all(fd, junk(1 + rng() % 300));
        ::close(fd);
      }
      // A huge length before the hello, and after it.
      if (int fd = dial(port); fd >= 0) {
        send_all(fd, header_claiming(0x7fffffff));
        ::close(fd);
      }
      if (int fd = greeted(port, ++inc); fd >= 0) {
        send_all(fd, header_claiming(0x80000000u + static_cast<uint32_t>(rng() % 1000)));
        ::close(fd);
      }
      // A truncated frame: a header that promises more than comes, then silence and close.
      if (int fd = greeted(port, ++inc); fd >= 0) {
        auto f = wire::make_frame(junk(200));
        send_all(fd, f.substr(0, f.size() / 2));
        ::close(fd);
      }
      // A valid header (right checksum) with a garbage body, and one with a wrong checksum.
      if (int fd = greeted(port, ++inc); fd >= 0) {
        send_all(fd, wire::make_frame(junk(1 + rng() % 500)));
        ::close(fd);
      }
      if (int fd = greeted(port, ++inc); fd >= 0) {
        auto f = wire::make_frame(junk(64));
        f.back() ^= 0x01;
        send_all(fd, f);
        ::close(fd);
      }
      // A request of a type this node does not know: answered "unsupported", not fatal.
      if (round % 10 == 0)
        if (int fd = greeted(port, ++inc); fd >= 0) {
          wire::envelope e;
          e.seq = 1;
          e.incarnation = inc;
          e.kind = wire::kind::request;
          e.request_id = 7;
          e.type = 999;
          send_all(fd, wire::make_frame(wire::encode(std::move(e))));
          if (auto body = read_frame(fd)) {
            wire::envelope back;
            if (wire::decode(*body, back) == wire::wire_errc::none
                && back.kind == wire::kind::unsupported && back.request_id == 7)
              unsupported_answered = true;
          }
          ::close(fd);
        }
      // Connections opened and left idle: 3,000 of them over the run.
      for (int i = 0; i < 30 && idle.size() < 3000; ++i)
        if (int fd = dial(port); fd >= 0)
          idle.push_back(fd);
      attacks += 7;
    }
  }};

  // Meanwhile: status and KV puts, each a new process with a new connection.
  auto worst_status = 0ms;
  auto worst_put = 0ms;
  int failures = 0;
  auto until = clock::now() + 12s;
  for (int i = 0; clock::now() < until; ++i) {
    auto t0 = clock::now();
    auto st = run_troupe({"status", "--connect", target, "--timeout", "1s"}, 5s);
    auto t1 = clock::now();
    auto put = run_troupe({"kv", "put", "hostile/" + std::to_string(i), "v",
                           "--connect", target}, 5s);
    auto t2 = clock::now();
    worst_status = std::max(worst_status, std::chrono::duration_cast<ms>(t1 - t0));
    worst_put = std::max(worst_put, std::chrono::duration_cast<ms>(t2 - t1));
    if (st.code != 0 || put.code != 0) {
      ++failures;
      CAF_MESSAGE("status " << st.code << " " << st.err << "; put " << put.code << " "
                            << put.err);
    }
    std::this_thread::sleep_for(100ms); // pacing: probes through the whole attack, not a wait
  }
  stop = true;
  attacker.join();
  watcher.join();
  CAF_MESSAGE(attacks.load() << " hostile connections and " << idle.size()
                             << " idle ones; slowest status " << worst_status.count()
                             << " ms, slowest KV put " << worst_put.count()
                             << " ms; most resident memory " << max_rss.load() / 1024
                             << " KiB");
  CAF_CHECK_EQUAL(failures, 0);
  CAF_CHECK_LESS(worst_status, 1000ms);
  CAF_CHECK_LESS(worst_put, 1000ms);
  CAF_CHECK_LESS(max_rss.load(), bound);
  CAF_CHECK(node.running());
  CAF_CHECK(unsupported_answered.load());

  httplib::Client cli{"127.0.0.1", http};
  auto res = cli.Get("/metrics");
  CAF_REQUIRE(res && res->status == 200);
  auto& text = res->body;
  for (auto reason : {"bad_magic", "frame_too_large", "checksum_mismatch", "no_hello"}) {
    auto v = metric_in(text, std::string{"troupe_link_refused_total{reason=\""} + reason + "\"}");
    CAF_MESSAGE("refused for " << reason << ": " << v);
    CAF_CHECK_GREATER(v, 0.0);
  }
  CAF_CHECK_GREATER(metric_in(text, "troupe_link_unsupported_total{direction=\"in\"}"), 0.0);
  for (int fd : idle)
    ::close(fd);
  // Every KV put made under attack was applied.
  auto got = run_troupe({"kv", "list", "hostile/", "--json", "--connect", target});
  CAF_CHECK_EQUAL(got.code, 0);
  if (caf::test::engine::current_test()->bad() > 0)
    std::cout << "---- log ----\n" << node.log() << "---- end ----\n";
}

CAF_TEST(a KV value over the bound is refused before anything is written) {
  auto dir = temp_dir("hostile-kv");
  auto port = free_port_pair();
  process node{{"run", "--name=k" + std::to_string(port), "--cluster-port=" + std::to_string(port),
                "--data-dir=" + dir + "/data", "--threads=2", "--max-frame-bytes=1048576"},
               dir + "/node.log"};
  CAF_REQUIRE(single_node_up(static_cast<uint16_t>(port + 1)));
  client_config cfg;
  troupe_system sys{cfg};
  caf::scoped_actor self{sys};
  std::string problem;
  auto target = connect_node(sys, self, endpoint{"127.0.0.1", port}, 2s, problem);
  CAF_REQUIRE(target);
  auto put = [&](const std::string& key, size_t n) {
    std::string err;
    self
      ->request(target, 5s, kv_put_atom::value, key, std::string(n, 'v'), int64_t{-1},
                uint64_t{9}, uint64_t{n})
      .receive([](bool, uint64_t) {}, [&](const caf::error& e) { err = sys.render(e); });
    return err;
  };
  // Under the node's frame bound but over its KV bound (frame bound less 64 KiB): the node
  // refuses it, with a sentence.
  auto over_kv = put("big/a", 1000 * 1024);
  CAF_MESSAGE(over_kv);
  CAF_CHECK(over_kv.find("over the bound") != std::string::npos);
  // Over the node's frame bound (learnt from its hello): refused here, before it is sent.
  auto over_frame = put("big/b", 2 << 20);
  CAF_MESSAGE(over_frame);
  CAF_CHECK(over_frame.find("--max-frame-bytes") != std::string::npos);
  // Nothing was written; a value under the bound is.
  CAF_CHECK_EQUAL(put("big/c", 900 * 1024), "");
  auto list = run_troupe({"kv", "list", "big/", "--connect", "127.0.0.1:" + std::to_string(port)});
  CAF_CHECK_EQUAL(list.code, 0);
  CAF_CHECK(list.out.find("big/a") == std::string::npos);
  CAF_CHECK(list.out.find("big/b") == std::string::npos);
  CAF_CHECK(list.out.find("big/c") != std::string::npos);
}

CAF_TEST(idle connections to the HTTP port do not stop it from answering) {
  raise_fd_limit();
  auto dir = temp_dir("hostile-http");
  auto port = free_port_pair();
  auto http = static_cast<uint16_t>(port + 1);
  process node{{"run", "--name=w" + std::to_string(port), "--cluster-port=" + std::to_string(port),
                "--data-dir=" + dir + "/data", "--threads=2"},
               dir + "/node.log"};
  CAF_REQUIRE(single_node_up(http));
  std::vector<int> idle;
  for (int i = 0; i < 300; ++i)
    if (int fd = dial(http); fd >= 0)
      idle.push_back(fd);
  // Half of them start a request and never finish it.
  for (size_t i = 0; i < idle.size(); i += 2)
    send_all(idle[i], "GET /metrics HTTP/1.1\r\nHost: x\r\n");
  CAF_REQUIRE_EQUAL(idle.size(), 300u);
  auto worst = 0ms;
  for (int round = 0; round < 10; ++round) {
    for (auto path : {"/api/status", "/metrics"}) {
      httplib::Client cli{"127.0.0.1", http};
      cli.set_connection_timeout(1, 0);
      cli.set_read_timeout(1, 0);
      auto t0 = clock::now();
      auto res = cli.Get(path);
      auto took = std::chrono::duration_cast<ms>(clock::now() - t0);
      worst = std::max(worst, took);
      CAF_CHECK(res && res->status == 200);
    }
    // New idle connections keep coming while the old ones time out.
    for (int i = 0; i < 30; ++i)
      if (int fd = dial(http); fd >= 0)
        idle.push_back(fd);
    std::this_thread::sleep_for(100ms); // pacing: rounds spread over the keep-alive timeout
  }
  CAF_MESSAGE(idle.size() << " idle HTTP connections; slowest answer " << worst.count() << " ms");
  CAF_CHECK_LESS(worst, 1000ms);
  for (int fd : idle)
    ::close(fd);
}
