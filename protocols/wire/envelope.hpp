// Envelopes and hellos as plain values, and their protobuf encoding (wire.proto). Decoding
// never trusts its input: every field is checked against its bound.
#pragma once

#include "protocols/wire/wire_errc.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace troupe::wire {

enum class peer_kind : uint8_t { unspecified = 0, node = 1, client = 2 };

enum class kind : uint8_t {
  unspecified = 0,
  tell = 1,
  request = 2,
  response = 3,
  error = 4,
  unsupported = 5,
};

/// Message type tags (wire.proto's Type). A tag is never reused for another meaning.
enum class msg_type : uint32_t {
  unspecified = 0,
  caf_message = 1,
  membership = 2,
  raft = 3,
  probe = 4,
  // Known only to the next wire version, built for the mixed-version test
  // (TROUPE_WIRE_NEXT): this release answers it "unsupported".
  next_ping = 5,
  proof = 6,  // the connecting side's proof of the cookie: its first envelope (a tell)
};

/// The highest type tag this build understands (a higher one is answered "unsupported").
#ifdef TROUPE_WIRE_NEXT
#define TROUPE_WIRE_MAX_TYPE 5
#else
#define TROUPE_WIRE_MAX_TYPE 4
#endif
inline constexpr uint32_t max_known_type = TROUPE_WIRE_MAX_TYPE;

struct hello {
  uint32_t version = 0;
  uint32_t min_version = 0;
  peer_kind kind = peer_kind::unspecified;
  std::string name;
  uint64_t incarnation = 0;
  std::string address;
  bool coordinator = false;
  uint32_t max_frame = 0;
  std::string nonce;  // without TLS: this side's challenge for the cookie's proof
  std::string proof;  // the answering side's proof of the cookie ("" when it has none)
};

struct envelope {
  uint64_t seq = 0;
  uint64_t incarnation = 0;
  wire::kind kind = wire::kind::unspecified;
  uint64_t request_id = 0;
  uint32_t type = 0;
  std::string body;
  bool more = false;
};

struct envelope_limits {
  static constexpr size_t max_name = 255;
  static constexpr size_t max_address = 300;
  static constexpr size_t max_nonce = 64;  // a nonce and a proof (HMAC-SHA256: 32 bytes)
};

std::string encode(const hello& h);
wire_errc decode(std::string_view bytes, hello& out);

/// Encodes `e` (its body moved out).
std::string encode(envelope&& e);
wire_errc decode(std::string_view bytes, envelope& out);

} // namespace troupe::wire
