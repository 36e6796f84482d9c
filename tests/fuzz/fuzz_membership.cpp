// The membership codec: envelopes and members, as every node decodes them from peers.
#include "protocols/membership/codec.hpp"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes{reinterpret_cast<const char*>(data), size};
  troupe::membership::decoded d;
  troupe::membership::decode(bytes, d);
  troupe::membership::member m;
  troupe::membership::decode_member(bytes, m);
  return 0;
}
