// The frame reader fed a byte stream in pieces whose sizes come from the input: it must never
// crash, and never hold more than its bound however the bytes are cut.
#include "protocols/wire/frame.hpp"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr uint32_t bound = 64 * 1024;
  troupe::wire::frame_reader r{bound};
  size_t pos = 0;
  while (pos < size && !r.failed()) {
    // The first byte of each piece says how long it is (1-256 bytes).
    size_t n = 1 + data[pos] % 256;
    ++pos;
    n = n < size - pos ? n : size - pos;
    size_t used = 0;
    while (used < n && !r.failed()) {
      used += r.feed(reinterpret_cast<const char*>(data + pos + used), n - used);
      if (r.held() > bound)
        std::abort();
      if (r.ready())
        r.next();
    }
    pos += n;
  }
  return 0;
}
