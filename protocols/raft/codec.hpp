// Raft messages <-> bytes of a raft.proto Message. Decoding bounds the frame before parsing and
// checks every field after: a bad frame is rejected, never trusted.
#pragma once

#include "protocols/raft/types.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace troupe::raft {

enum class codec_errc : uint8_t {
  none = 0,
  frame_too_large,
  malformed,
  invalid_value,
};

const char* to_string(codec_errc e);

struct codec_limits {
  // Appends are bounded by config::max_msg_bytes (1 MiB); snapshots travel whole, so the
  // frame bound is the snapshot bound.
  static constexpr size_t max_frame_size = 256u << 20;
  static constexpr size_t max_entries = 100000;
};

/// Returns the bytes of `m`.
std::string encode(const message& m);

/// Decodes `bytes` into `out`; returns codec_errc::none on success.
codec_errc decode(std::string_view bytes, message& out);

} // namespace troupe::raft
