#include "protocols/wire/frame.hpp"

#include <isa-l/crc.h>

#include <algorithm>

namespace troupe::wire {

namespace {

void put_u32(char* p, uint32_t v) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}

uint32_t get_u32(const char* p) {
  auto b = [p](int i) { return static_cast<uint32_t>(static_cast<uint8_t>(p[i])); };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

} // namespace

uint32_t crc32c(std::string_view data) {
  // ISA-L's crc32_iscsi is CRC32C without the final inversion.
  return ~crc32_iscsi(reinterpret_cast<unsigned char*>(const_cast<char*>(data.data())),
                      static_cast<int>(data.size()), 0xFFFFFFFF);
}

std::array<char, header_size> header_for(std::string_view body) {
  std::array<char, header_size> h;
  h[0] = static_cast<char>(magic0);
  h[1] = static_cast<char>(magic1);
  h[2] = static_cast<char>(version);
  h[3] = 0;
  put_u32(h.data() + 4, static_cast<uint32_t>(body.size()));
  put_u32(h.data() + 8, crc32c(body));
  return h;
}

void append_frame(std::string& out, std::string_view body) {
  auto h = header_for(body);
  out.append(h.data(), header_size);
  out.append(body.data(), body.size());
}

std::string make_frame(std::string_view body) {
  std::string out;
  out.reserve(header_size + body.size());
  append_frame(out, body);
  return out;
}

wire_errc parse_header(const char* p, uint32_t max_body, frame_header& out) {
  if (static_cast<uint8_t>(p[0]) != magic0 || static_cast<uint8_t>(p[1]) != magic1)
    return wire_errc::bad_magic;
  out.version = static_cast<uint8_t>(p[2]);
  if (out.version < min_version)
    return wire_errc::unsupported_version;
  if (p[3] != 0)
    return wire_errc::bad_flags;
  out.length = get_u32(p + 4);
  out.crc = get_u32(p + 8);
  if (out.length > max_body)
    return wire_errc::frame_too_large;
  return wire_errc::none;
}

size_t frame_reader::wanted() const {
  switch (state_) {
    case state::header:
      return header_size - header_have_;
    case state::body:
      return hdr_.length - body_.size();
    default:
      return 0;
  }
}

size_t frame_reader::fail(wire_errc e, size_t used) {
  state_ = state::failed;
  error_ = e;
  body_.clear();
  body_.shrink_to_fit();
  return used;
}

size_t frame_reader::feed(const char* p, size_t n) {
  size_t used = 0;
  if (state_ == state::header) {
    auto take = std::min(n, header_size - header_have_);
    std::copy(p, p + take, header_ + header_have_);
    header_have_ += take;
    used += take;
    if (header_have_ < header_size)
      return used;
    if (auto e = parse_header(header_, max_body_, hdr_); e != wire_errc::none)
      return fail(e, used);
    body_.clear();
    // Room for what has come, not for what is claimed: a slow or lying sender holds only the
    // bytes it sent (and never more than max_body_).
    body_.reserve(std::min<size_t>(hdr_.length, 64 * 1024));
    state_ = state::body;
  }
  if (state_ == state::body) {
    auto take = std::min(n - used, static_cast<size_t>(hdr_.length) - body_.size());
    body_.append(p + used, take);
    used += take;
    if (body_.size() < hdr_.length)
      return used;
    if (crc32c(body_) != hdr_.crc)
      return fail(wire_errc::checksum_mismatch, used);
    state_ = state::ready;
  }
  return used;
}

void frame_reader::next() {
  if (state_ != state::ready)
    return;
  state_ = state::header;
  header_have_ = 0;
  body_.clear();
}

const char* to_string(wire_errc e) {
  switch (e) {
    case wire_errc::none: return "none";
    case wire_errc::bad_magic: return "bad_magic";
    case wire_errc::unsupported_version: return "unsupported_version";
    case wire_errc::bad_flags: return "bad_flags";
    case wire_errc::frame_too_large: return "frame_too_large";
    case wire_errc::checksum_mismatch: return "checksum_mismatch";
    case wire_errc::malformed: return "malformed";
    case wire_errc::field_too_large: return "field_too_large";
    case wire_errc::invalid_value: return "invalid_value";
    case wire_errc::no_hello: return "no_hello";
    case wire_errc::gap: return "gap";
    case wire_errc::duplicate: return "duplicate";
    case wire_errc::stale_incarnation: return "stale_incarnation";
    case wire_errc::too_many_connections: return "too_many_connections";
    case wire_errc::too_many_requests: return "too_many_requests";
    case wire_errc::tls_failed: return "tls_failed";
    case wire_errc::tls_required: return "tls_required";
    case wire_errc::tls_unexpected: return "tls_unexpected";
    case wire_errc::name_mismatch: return "name_mismatch";
    case wire_errc::not_permitted: return "not_permitted";
    case wire_errc::bad_cookie: return "bad_cookie";
  }
  return "unknown";
}

bool desynchronizes(wire_errc e) {
  return e == wire_errc::gap || e == wire_errc::duplicate || e == wire_errc::stale_incarnation
         || e == wire_errc::checksum_mismatch;
}

} // namespace troupe::wire
