// The at-least-once de-duplication table of one instance: the (sender, sequence) pairs it
// handled, bounded per sender. It moves with the instance's state, so that a retry that
// crosses a hand-over is still recognized. Encoded as text: "sender:seq,seq,;sender:...;".
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

namespace troupe {

using seen_table = std::map<uint64_t, std::set<uint64_t>>;  // sender -> sequences handled

/// How many sequence numbers are kept per sender (the oldest go first).
constexpr size_t seen_per_sender = 100000;

std::string encode_seen(const seen_table& t);

/// Decodes what encode_seen returns; a malformed text gives what it holds up to the fault.
seen_table decode_seen(const std::string& text);

} // namespace troupe
