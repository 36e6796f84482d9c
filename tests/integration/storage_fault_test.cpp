// Raft storage failing at run time, on a real process: its data directory is a small tmpfs
// (mounted in a mount namespace of its own, so nothing outside the test sees it) that KV writes
// fill until a write fails with ENOSPC. The node must stop with exit 74 (EX_IOERR) and a last
// line naming the file, rather than run on as a coordinator without a replica.
#define CAF_SUITE storage_fault
#include <caf/test/unit_test.hpp>

#include "actors/raft/raft_actor.hpp"
#include "nodes/remote_node.hpp"
#include "tests/integration/harness.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include <unistd.h>

#include <filesystem>
#include <iostream>

#include <string>

using namespace troupe;
using namespace troupe::it;

CAF_TEST(a raft write that fails at run time stops the node with exit 74 naming the file) {
  // Mounting needs CAP_SYS_ADMIN: the test machine and CI run as root.
  CAF_REQUIRE_EQUAL(geteuid(), 0u);
  auto dir = temp_dir("storage-fault");
  auto data = dir + "/data";
  std::filesystem::create_directories(data);
  auto port = free_port_pair();
  auto name = "n" + std::to_string(port);
  std::string script = "mount -t tmpfs -o size=4m troupe-test \"$0\" && exec \"$1\" run --name="
                       + name + " --cluster-port=" + std::to_string(port)
                       + " --data-dir=\"$0\" --threads=2";
  process node{{"--mount", "--propagation", "private", "sh", "-c", script, data, TROUPE_BIN},
               dir + "/node.log", {}, "/dev/null", "unshare"};
  CAF_REQUIRE(wait_until(
    [&] {
      auto st = http_status(static_cast<uint16_t>(port + 1));
      return st && count_state(*st, "up") == 1;
    },
    15s, 50ms));

  client_config cfg;
  troupe_system sys{cfg};
  caf::scoped_actor self{sys};
  std::string problem;
  auto target = connect_node(sys, self, endpoint{"127.0.0.1", port}, 2s, problem);
  if (!target)
    CAF_FAIL("cannot connect: " << problem);
  // 256 KiB values: the 4 MiB filesystem is full after about fifteen of them.
  std::string value(256 * 1024, 'x');
  size_t acked = 0;
  std::string failed_with;
  auto failed_after = 0ms;
  for (uint64_t i = 1; i <= 200 && failed_with.empty(); ++i) {
    auto t0 = clock::now();
    self
      ->request(target, 5s, kv_put_atom::value, "big/" + std::to_string(i), value, int64_t{-1},
                uint64_t{7}, i)
      .receive([&](bool done, uint64_t) { acked += done ? 1 : 0; },
               [&](const caf::error& e) {
                 failed_with = caf::to_string(e);
                 failed_after = std::chrono::duration_cast<ms>(clock::now() - t0);
               });
  }
  CAF_MESSAGE(acked << " writes of 256 KiB acknowledged; the next failed after "
                    << failed_after.count() << " ms: " << failed_with);
  // The write whose sync failed is answered at once, its outcome unknown (not left to time
  // out): the client can tell it apart from a write that was refused.
  CAF_CHECK(failed_with.find("outcome is unknown") != std::string::npos);
  auto code = node.wait_exit(15s);
  CAF_REQUIRE(code);
  CAF_CHECK_EQUAL(*code, 74);
  auto log = node.log();
  auto last = log.rfind("troupe run: ");
  CAF_REQUIRE(last != std::string::npos);
  auto line = log.substr(last, log.find('\n', last) - last);
  CAF_MESSAGE("its last line: " << line);
  CAF_CHECK(line.find("raft storage") != std::string::npos);
  CAF_CHECK(line.find(data + "/") != std::string::npos);           // the file, by its path
  CAF_CHECK(line.find("No space left on device") != std::string::npos);
  CAF_CHECK_GREATER(acked, 0u); // it worked until the disk was full
  if (caf::test::engine::current_test()->bad() > 0)
    std::cout << "---- log ----\n" << log << "---- end ----\n";
}
