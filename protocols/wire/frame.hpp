// Frames: how envelopes sit in a byte stream. A frame is a 12-byte header and a body:
//
//   magic "TW" (2) | version (1) | flags (1, zero) | body length (4, big-endian)
//   | CRC32C of the body (4, big-endian) | body
//
// The length is checked against the bound before a byte of the body is read or a byte of
// memory is set aside for it, so no peer can make a node allocate more than the bound.
#pragma once

#include "protocols/wire/wire_errc.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace troupe::wire {

inline constexpr size_t header_size = 12;
inline constexpr uint8_t magic0 = 'T';
inline constexpr uint8_t magic1 = 'W';
/// The wire version this build speaks, and the oldest it reads.
#ifdef TROUPE_WIRE_NEXT
#define TROUPE_WIRE_VERSION 2 // the mixed-version test's build of the next release
#else
#define TROUPE_WIRE_VERSION 1
#endif
inline constexpr uint8_t version = TROUPE_WIRE_VERSION;
inline constexpr uint8_t min_version = 1;
/// The default bound of a frame's body (`--max-frame-bytes`).
inline constexpr uint32_t default_max_frame = 4u << 20;

/// CRC32C (Castagnoli) of `data`.
uint32_t crc32c(std::string_view data);

/// Returns the header of a frame holding `body`.
std::array<char, header_size> header_for(std::string_view body);

/// Returns header + body. The caller keeps bodies under its bound.
std::string make_frame(std::string_view body);
/// Appends header + body to `out` (no temporary string on the send path).
void append_frame(std::string& out, std::string_view body);

struct frame_header {
  uint8_t version = 0;
  uint32_t length = 0;
  uint32_t crc = 0;
};

/// Parses and checks a header of `header_size` bytes against `max_body`.
wire_errc parse_header(const char* p, uint32_t max_body, frame_header& out);

/// Reads frames from a byte stream fed in pieces of any size. It holds at most one header and
/// one body of at most `max_body` bytes. After an error it stays failed: close the connection.
class frame_reader {
public:
  explicit frame_reader(uint32_t max_body) : max_body_(max_body) {}

  /// Bytes still missing from the header or body being read (a broker reads exactly that many).
  size_t wanted() const;

  /// Consumes up to `n` bytes and returns how many it took; it stops after a whole frame (then
  /// ready()) or at an error (then failed()).
  size_t feed(const char* p, size_t n);

  bool ready() const { return state_ == state::ready; }
  bool failed() const { return state_ == state::failed; }
  wire_errc error() const { return error_; }
  /// The body of the frame read (valid while ready()).
  std::string_view body() const { return body_; }
  /// Bytes set aside for a body (what the bound limits).
  size_t held() const { return body_.capacity(); }
  /// Moves on to the next frame after ready().
  void next();
  /// Hands over the body of the frame read and moves on to the next (no copy).
  std::string take() {
    auto out = std::move(body_);
    body_ = std::string{};
    next();
    return out;
  }

private:
  enum class state { header, body, ready, failed };
  size_t fail(wire_errc e, size_t used);

  uint32_t max_body_;
  state state_ = state::header;
  wire_errc error_ = wire_errc::none;
  char header_[header_size] = {};
  size_t header_have_ = 0;
  frame_header hdr_;
  std::string body_;
};

} // namespace troupe::wire
