// The cluster state's decoders: commands (from the Raft log and clients), views (pushed to
// every node), bus fetches, deployments, instance records and whole snapshots.
#include "protocols/cluster_state/bus_log.hpp"
#include "protocols/cluster_state/commands.hpp"
#include "protocols/cluster_state/state_machine.hpp"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace troupe::state;
  std::string bytes{reinterpret_cast<const char*>(data), size};
  command c;
  decode(bytes, c);
  cluster_view v;
  decode_view(bytes, v);
  std::vector<std::pair<std::string, bus_entry>> entries;
  uint64_t head = 0;
  decode_bus_fetch(bytes, entries, head);
  deployment_spec d;
  decode_deployment(bytes, d);
  instance_id id;
  instance_record r;
  decode_record(bytes, id, r);
  state_machine sm{100};
  sm.restore(bytes);
  return 0;
}
