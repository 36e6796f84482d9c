// The membership codec: plain values <-> bytes of one protobuf Envelope. Decoding never
// trusts its input: sizes are bounded before parsing and every field is checked after.
#pragma once

#include "protocols/membership/types.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace troupe::membership {

/// Why a frame was rejected. One enum for the module, with names for logs.
enum class codec_errc : uint8_t {
  none = 0,
  frame_too_large,   // more bytes than max_frame_size
  malformed,         // not a protobuf Envelope
  missing_body,      // an Envelope with no body set
  field_too_large,   // a string or list over its bound
  invalid_value,     // an enum out of range, an empty required name, ...
};

/// Returns a short name of the error for logs and metrics.
const char* to_string(codec_errc e);

/// Bounds every decoder enforces. A control-plane frame has no reason to be larger.
struct codec_limits {
  static constexpr size_t max_frame_size = 1 << 20;  // 1 MiB, as CAF's protobuf_broker example
  static constexpr size_t max_name = 255;
  static constexpr size_t max_address = 300;
  static constexpr size_t max_members = 10000;
  static constexpr size_t max_reasons = 64;
  static constexpr size_t max_reason = 1024;
  static constexpr size_t max_actor_types = 1024;  // per member
};

struct decoded {
  uint64_t seq = 0;
  message body;
};

/// Returns the bytes of an Envelope carrying `msg`.
std::string encode(const message& msg, uint64_t seq = 0);

/// Decodes `bytes` into `out`; returns codec_errc::none on success. `out` is unspecified on error.
codec_errc decode(std::string_view bytes, decoded& out);

/// Returns the bytes of one Member (how the replicated cluster state stores a member).
std::string encode_member(const member& m);

/// Decodes what encode_member returns.
codec_errc decode_member(std::string_view bytes, member& out);

} // namespace troupe::membership
