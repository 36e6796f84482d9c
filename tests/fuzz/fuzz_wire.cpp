// The wire's envelope and hello decoders.
#include "protocols/wire/envelope.hpp"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes{reinterpret_cast<const char*>(data), size};
  troupe::wire::envelope e;
  troupe::wire::decode(bytes, e);
  troupe::wire::hello h;
  troupe::wire::decode(bytes, h);
  return 0;
}
