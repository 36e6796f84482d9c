#include "protocols/wire/envelope.hpp"

#include "wire.pb.h"

namespace troupe::wire {

namespace {

/// The next release's wire (the mixed-version test's build) adds a field, number 100, to its
/// hellos and envelopes: this release must ignore it.
std::string with_next_fields(std::string bytes) {
#ifdef TROUPE_WIRE_NEXT
  bytes += std::string{"\xa0\x06\x01", 3}; // field 100, varint 1
#endif
  return bytes;
}

} // namespace

std::string encode(const hello& h) {
  pb::Hello p;
  p.set_version(h.version);
  p.set_min_version(h.min_version);
  p.set_kind(static_cast<pb::PeerKind>(h.kind));
  p.set_name(h.name);
  p.set_incarnation(h.incarnation);
  p.set_address(h.address);
  p.set_coordinator(h.coordinator);
  p.set_max_frame(h.max_frame);
  p.set_nonce(h.nonce);
  p.set_proof(h.proof);
  return with_next_fields(p.SerializeAsString());
}

wire_errc decode(std::string_view bytes, hello& out) {
  pb::Hello p;
  if (!p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return wire_errc::malformed;
  if (p.name().size() > envelope_limits::max_name
      || p.address().size() > envelope_limits::max_address
      || p.nonce().size() > envelope_limits::max_nonce
      || p.proof().size() > envelope_limits::max_nonce)
    return wire_errc::field_too_large;
  if (p.kind() != pb::PEER_NODE && p.kind() != pb::PEER_CLIENT)
    return wire_errc::invalid_value;
  if (p.kind() == pb::PEER_NODE && (p.name().empty() || p.address().empty()))
    return wire_errc::invalid_value;
  if (p.version() == 0 || p.min_version() > p.version())
    return wire_errc::invalid_value;
  out.version = p.version();
  out.min_version = p.min_version();
  out.kind = static_cast<peer_kind>(p.kind());
  out.name = p.name();
  out.incarnation = p.incarnation();
  out.address = p.address();
  out.coordinator = p.coordinator();
  out.max_frame = p.max_frame();
  out.nonce = p.nonce();
  out.proof = p.proof();
  return wire_errc::none;
}

std::string encode(envelope&& e) {
  pb::Envelope p;
  p.set_seq(e.seq);
  p.set_incarnation(e.incarnation);
  p.set_kind(static_cast<pb::Kind>(e.kind));
  p.set_request_id(e.request_id);
  p.set_type(e.type);
  p.set_body(std::move(e.body));
  p.set_more(e.more);
  return with_next_fields(p.SerializeAsString());
}

wire_errc decode(std::string_view bytes, envelope& out) {
  pb::Envelope p;
  if (!p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return wire_errc::malformed;
  auto k = p.kind();
  if (k < pb::KIND_TELL || k > pb::KIND_UNSUPPORTED)
    return wire_errc::invalid_value;
  if (k != pb::KIND_TELL && p.request_id() == 0)
    return wire_errc::invalid_value;
  if (p.seq() == 0)
    return wire_errc::invalid_value;
  out.seq = p.seq();
  out.incarnation = p.incarnation();
  out.kind = static_cast<wire::kind>(k);
  out.request_id = p.request_id();
  out.type = p.type();
  out.body = std::move(*p.mutable_body());
  out.more = p.more();
  return wire_errc::none;
}

} // namespace troupe::wire
