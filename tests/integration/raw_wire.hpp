// Speaking Troupe's wire by hand, for tests that play a hostile or forged peer: raw sockets
// to a node's cluster port on loopback, frames and hellos made with protocols/wire.
#pragma once

#include "protocols/wire/envelope.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace troupe::it {

/// A TCP connection to 127.0.0.1:`port` (reads time out after 2 s); -1 when it fails.
int dial(uint16_t port);

/// Sends all of `bytes` (or as much as the peer takes before it closes).
void send_all(int fd, const std::string& bytes);

/// Reads exactly `n` bytes; false when the connection closes or times out.
bool read_exactly(int fd, char* p, size_t n);

/// Reads one frame's body; nullopt when the connection closes or times out.
std::optional<std::string> read_frame(int fd);

/// A client's hello frame.
std::string client_hello(uint64_t incarnation);

/// The frame of `hello`.
std::string hello_frame(const wire::hello& hello);

/// A connection that said `hello` (a client's when not given) and read the node's; -1 when the
/// node did not answer. With a `cookie`, it then proves it knows it (its first envelope, seq
/// 1: the caller's envelopes start at seq 2).
int greeted(uint16_t port, uint64_t incarnation, std::optional<wire::hello> hello = std::nullopt,
            const std::string& cookie = {});

/// A one-way envelope of `type` holding `body`, number `seq` of its link.
std::string tell(uint64_t incarnation, wire::msg_type type, std::string body, uint64_t seq = 1);

} // namespace troupe::it
