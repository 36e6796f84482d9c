// The Raft codec, as a coordinator decodes its peers' messages.
#include "protocols/raft/codec.hpp"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  troupe::raft::message m;
  troupe::raft::decode(std::string_view{reinterpret_cast<const char*>(data), size}, m);
  return 0;
}
