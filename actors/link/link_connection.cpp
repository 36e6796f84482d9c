#include "actors/link/link_connection.hpp"

#include "actors/link/cookie.hpp"
#include "actors/link/link_errc.hpp"
#include "actors/wire.hpp"
#include "protocols/wire/link_check.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/io/system_messages.hpp>
#include <caf/sec.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <unordered_map>

namespace troupe {

namespace {

using wire::wire_errc;

/// The bound of a hello: nobody needs more to say who they are.
constexpr uint32_t max_hello = 4096;
/// Bytes read at once once a peer said hello (one buffer per connection).
constexpr size_t read_chunk = 32 * 1024;
/// Room for the envelope around a body in one frame.
constexpr size_t envelope_room = 1024;
/// The bound of one Raft message (a snapshot of the cluster state may be larger than a frame:
/// it travels in pieces). The same bound as a record of the Raft log.
constexpr size_t max_raft_message = 256u << 20;

struct link_state {
  link_state(link_context_ptr c, caf::io::connection_handle h, bool out, caf::actor o)
    : ctx(std::move(c)), hdl(h), outbound(out), owner(std::move(o)), reader(max_hello),
      out_seq(ctx->incarnation()) {
  }
  link_context_ptr ctx;
  caf::io::connection_handle hdl;
  bool outbound;
  caf::actor owner;
  bool up = false;
  wire::frame_reader reader;
  wire::link_sender out_seq;
  wire::link_receiver in_seq;
  wire::hello peer;
  std::string nonce = make_nonce();           // our challenge for the cookie's proof
  bool awaiting_proof = false;                // accepted, with a cookie: the peer's proof next
  std::string peer_addr;                      // remote address, for logs before the hello
  std::unique_ptr<tls_session> tls;           // with TLS: what the socket carries is encrypted
  std::vector<char> tls_plain;                // a frame (or two) to encrypt
  size_t send_limit = 0;                      // the smaller of both ends' frame bounds
  std::string partial;                        // a message arriving in pieces (more = true)
  bool partial_active = false;
  uint64_t next_request = 0;
  std::unordered_map<uint64_t, caf::response_promise> waiting;  // our requests
  size_t serving = 0;                         // the peer's requests at our door
};

using state_ptr = std::shared_ptr<link_state>;

/// Who the peer is, for logs: its name once it said hello, else its address.
std::string who(const link_state& st) {
  if (st.up && !st.peer.name.empty())
    return st.peer.name + " (" + st.peer_addr + ")";
  return st.peer_addr;
}

caf::error link_error(link_errc code, std::string text) {
  return caf::make_error(code, std::move(text));
}

/// What TLS has to send (handshake messages, encrypted frames), to the socket.
void flush_tls(caf::io::broker* self, link_state& st) {
  auto cipher = st.tls->take_cipher();
  if (cipher.empty())
    return;
  auto& buf = self->wr_buf(st.hdl);
  buf.insert(buf.end(), cipher.begin(), cipher.end());
  self->flush(st.hdl);
}

void write_frame(caf::io::broker* self, link_state& st, std::string_view body,
                 bool envelope = true) {
  // Faults are injected (tests) into envelopes to other nodes only.
  auto fault = envelope && st.up && st.peer.kind == wire::peer_kind::node
                 ? st.ctx->take_fault()
                 : link_context::fault::none;
  if (fault == link_context::fault::drop) {
    st.ctx->log->warn("fault injection: dropping a frame to {}", who(st));
    return;
  }
  if (fault != link_context::fault::none)
    st.ctx->log->warn("fault injection: {} a frame to {}",
                      fault == link_context::fault::duplicate ? "repeating" : "corrupting",
                      who(st));
  auto hdr = wire::header_for(body);
  auto& buf = st.tls ? st.tls_plain : self->wr_buf(st.hdl);
  for (int i = fault == link_context::fault::duplicate ? 2 : 1; i > 0; --i) {
    buf.insert(buf.end(), hdr.begin(), hdr.end());
    buf.insert(buf.end(), body.begin(), body.end());
  }
  if (fault == link_context::fault::corrupt && !body.empty())
    buf.back() ^= 0x5a;
  st.ctx->stats.frames_out.fetch_add(1, std::memory_order_relaxed);
  if (st.tls) {
    st.tls->write({buf.data(), buf.size()}); // a failure shows when the peer's bytes come
    buf.clear();
    flush_tls(self, st);
    return;
  }
  self->flush(st.hdl);
}

void send_envelope(caf::io::broker* self, link_state& st, wire::kind k, uint64_t request_id,
                   wire::msg_type type, std::string body) {
  auto piece = st.send_limit - envelope_room;
  size_t off = 0;
  do { // one envelope, or (a body over one frame) several with more = true but the last
    wire::envelope e;
    e.seq = st.out_seq.next();
    e.incarnation = st.out_seq.incarnation();
    e.kind = k;
    e.request_id = request_id;
    e.type = static_cast<uint32_t>(type);
    auto n = std::min(piece, body.size() - off);
    e.more = off + n < body.size();
    e.body = off == 0 && !e.more ? std::move(body) : body.substr(off, n);
    off += n;
    write_frame(self, st, wire::encode(std::move(e)));
  } while (off < body.size());
}

/// The largest message of `type` that may cross this link.
size_t bound_of(const link_state& st, uint32_t type) {
  if (type == static_cast<uint32_t>(wire::msg_type::raft) && st.peer.coordinator)
    return max_raft_message;
  return std::min<size_t>(st.send_limit, st.ctx->settings.max_frame) - envelope_room;
}

/// CAF's binary format of a message (every type in it registered on both ends).
caf::expected<std::string> to_bytes(caf::actor_system& sys, caf::message& msg) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  if (auto err = inspect(sink, msg))
    return err;
  return std::string(buf.begin(), buf.end());
}

caf::expected<caf::message> from_bytes(caf::actor_system& sys, const std::string& bytes) {
  caf::binary_deserializer source{sys, bytes.data(), bytes.size()};
  caf::message msg;
  if (auto err = inspect(source, msg))
    return err;
  return msg;
}

/// The type tag and body of a message: protocol messages travel as themselves.
std::pair<wire::msg_type, caf::expected<std::string>> encode_body(caf::actor_system& sys,
                                                                  caf::message& msg) {
  if (msg.match_elements<frame>())
    return {wire::msg_type::membership, std::move(msg.get_mutable_as<frame>(0).bytes)};
  if (msg.match_elements<raft_frame>())
    return {wire::msg_type::raft, std::move(msg.get_mutable_as<raft_frame>(0).bytes)};
  return {wire::msg_type::caf_message, to_bytes(sys, msg)};
}

/// The message an envelope's body holds, by its type tag.
caf::expected<caf::message> body_of(caf::actor_system& sys, uint32_t type, std::string& body) {
  switch (static_cast<wire::msg_type>(type)) {
    case wire::msg_type::membership:
      return caf::make_message(frame{std::move(body)});
    case wire::msg_type::raft:
      return caf::make_message(raft_frame{std::move(body)});
    default:
      return from_bytes(sys, body);
  }
}

/// True for the types this build knows as requests and one-way messages.
bool known_type(uint32_t type) {
  return type == static_cast<uint32_t>(wire::msg_type::caf_message)
         || type == static_cast<uint32_t>(wire::msg_type::membership)
         || type == static_cast<uint32_t>(wire::msg_type::raft);
}

/// Request ids at or above this one are the next release's pings (the mixed-version test).
constexpr uint64_t next_ping_ids = uint64_t{1} << 62;

/// The nonces of this process's outbound hellos still waiting for their answer: a hello that
/// carries one is our own challenge reflected back to sign (refused).
std::mutex nonces_mtx;
std::set<std::string>& outstanding_nonces() {
  static std::set<std::string> s;
  return s;
}

void nonce_issued(const link_state& st) {
  if (!st.outbound)
    return;
  std::lock_guard<std::mutex> g{nonces_mtx};
  outstanding_nonces().insert(st.nonce);
}

void nonce_done(const link_state& st) {
  if (!st.outbound)
    return;
  std::lock_guard<std::mutex> g{nonces_mtx};
  outstanding_nonces().erase(st.nonce);
}

bool ours(const std::string& nonce) {
  std::lock_guard<std::mutex> g{nonces_mtx};
  return outstanding_nonces().count(nonce) > 0;
}

/// Closes the connection for good: every request still waiting fails, the owner and
/// monitors see the reason.
void close_link(caf::io::broker* self, link_state& st, caf::error reason) {
  nonce_done(st);
  for (auto& [id, rp] : st.waiting)
    rp.deliver(link_error(link_errc::closed, "the connection to " + who(st)
                                               + " closed before it answered"));
  st.waiting.clear();
  link_peer_down(self->address());
  if (st.up)
    st.ctx->stats.established.fetch_sub(1, std::memory_order_relaxed);
  else
    st.ctx->stats.pending.fetch_sub(1, std::memory_order_relaxed);
  self->close(st.hdl);
  self->quit(std::move(reason));
}

void refuse(caf::io::broker* self, link_state& st, wire_errc why, const std::string& detail) {
  st.ctx->refused(why, who(st), detail);
  // Only a link that proved who it is may get a member evicted: the hello alone says nothing.
  if (st.up && !st.awaiting_proof && wire::desynchronizes(why)) {
    auto me = st.ctx->make_hello();
    auto reason = std::string{wire::to_string(why)} + " on the link from " + st.peer.name
                  + " to " + (me.name.empty() ? std::string{"a client"} : me.name)
                  + (detail.empty() ? "" : " (" + detail + ")");
    st.ctx->log->error("link out of step: {}: the cluster evicts {}", reason, st.peer.name);
    st.ctx->desync(st.peer, reason);
  }
  if (st.outbound && !st.up) // the connector tells whoever asked for this connection why
    return close_link(self, st,
                      link_error(link_errc::refused, std::string{wire::to_string(why)}
                                                       + (detail.empty() ? "" : ": " + detail)));
  close_link(self, st, caf::make_error(caf::exit_reason::remote_link_unreachable));
}

/// Our hello on this connection: with its nonce and, answering one, our proof of the cookie.
std::string our_hello(const link_state& st, const std::string& cookie) {
  auto h = st.ctx->make_hello();
  h.nonce = st.nonce;
  if (!st.outbound && !cookie.empty())
    h.proof = cookie_proof(cookie, "accept", st.peer.nonce, st.nonce);
  return wire::encode(h);
}

/// How to give the cookie, for the lines of a refusal.
constexpr const char* give_cookie =
  "give every node and client the same cookie (--cluster-secret-file or "
  "$TROUPE_CLUSTER_SECRET_FILE)";

/// The connecting side, with a cookie: the node it reached must have proved it knows the same.
bool check_accepting_proof(caf::io::broker* self, link_state& st, const wire::hello& h,
                           const std::string& cookie) {
  if (same_proof(h.proof, cookie_proof(cookie, "accept", st.nonce, h.nonce)))
    return true;
  refuse(self, st, wire_errc::bad_cookie,
         std::string{h.proof.empty() ? "the node has no cookie (it may need TLS)"
                                     : "the node has another cookie: another cluster"}
           + "; " + give_cookie);
  return false;
}

bool on_hello(caf::io::broker* self, link_state& st, std::string_view body) {
  wire::hello h;
  if (auto e = wire::decode(body, h); e != wire_errc::none) {
    refuse(self, st, wire_errc::no_hello, std::string{"not a hello: "} + wire::to_string(e));
    return false;
  }
  if (h.version < wire::min_version || wire::version < h.min_version) {
    refuse(self, st, wire_errc::unsupported_version,
           "it speaks wire version " + std::to_string(h.version) + " (reads from "
             + std::to_string(h.min_version) + "), this node "
             + std::to_string(wire::version) + " (reads from "
             + std::to_string(wire::min_version) + ")");
    return false;
  }
  if (st.tls && h.kind == wire::peer_kind::node) {
    auto names = st.tls->peer_names();
    if (!names_member(names, h.name)) {
      std::string listed;
      for (auto& n : names)
        listed += (listed.empty() ? "" : ", ") + n;
      refuse(self, st, wire_errc::name_mismatch,
             "it says it is " + h.name + " but its certificate names "
               + (listed.empty() ? std::string{"nobody"} : listed));
      return false;
    }
  }
  auto cookie = st.ctx->cookie();
  if (!cookie.empty() && h.nonce.size() != st.nonce.size()) {
    refuse(self, st, wire_errc::bad_cookie,
           "its hello has no nonce of " + std::to_string(st.nonce.size())
             + " bytes: it does not speak the cookie's handshake");
    return false;
  }
  if (!st.outbound && !cookie.empty() && ours(h.nonce)) {
    refuse(self, st, wire_errc::bad_cookie,
           "its hello carries a nonce this process sent: a reflected handshake");
    return false;
  }
  if (st.outbound && !cookie.empty() && !check_accepting_proof(self, st, h, cookie))
    return false;
  nonce_done(st);
  st.peer = h;
  st.up = true;
  st.awaiting_proof = !st.outbound && !cookie.empty();
  st.send_limit = std::min<size_t>(st.ctx->settings.max_frame,
                                   h.max_frame >= 65536 ? h.max_frame : wire::default_max_frame);
  st.in_seq.start(h.incarnation);
  st.reader = wire::frame_reader{st.ctx->settings.max_frame};
  st.ctx->stats.pending.fetch_sub(1, std::memory_order_relaxed);
  st.ctx->stats.established.fetch_add(1, std::memory_order_relaxed);
  auto registered = h;
  if (registered.kind == wire::peer_kind::client) // a client listens nowhere: where it is, for logs
    registered.address = st.peer_addr;
  link_peer_up(self->address(), std::move(registered),
               st.tls ? std::optional<std::vector<std::string>>{st.tls->peer_names()}
                      : std::nullopt,
               st.tls && st.tls->peer_coordinator());
  if (!st.outbound)
    write_frame(self, st, our_hello(st, cookie), false);
  else if (!cookie.empty()) // our proof: the first envelope, before anything of the owner's
    send_envelope(self, st, wire::kind::tell, 0, wire::msg_type::proof,
                  cookie_proof(cookie, "connect", h.nonce, st.nonce));
  if (st.owner)
    self->send(st.owner, link_up_atom::value);
#ifdef TROUPE_WIRE_NEXT
  // The next release asks every peer something only it knows.
  send_envelope(self, st, wire::kind::request, next_ping_ids, wire::msg_type::next_ping, {});
#endif
  return true;
}

void answer_error(caf::io::broker* self, link_state& st, uint64_t id, caf::error err) {
  auto msg = caf::make_message(std::move(err));
  auto bytes = to_bytes(self->system(), msg);
  send_envelope(self, st, wire::kind::error, id, wire::msg_type::caf_message,
                bytes ? std::move(*bytes) : std::string{});
}

/// A request of the peer: to this node's door; its answer, whatever it is, back over the link.
void on_request(caf::io::broker* self, const state_ptr& sp, wire::envelope& e) {
  auto& st = *sp;
  if (e.type == static_cast<uint32_t>(wire::msg_type::probe)
      || (e.type == static_cast<uint32_t>(wire::msg_type::next_ping)
          && e.type <= wire::max_known_type))
    return send_envelope(self, st, wire::kind::response, e.request_id, wire::msg_type::probe, {});
  if (!known_type(e.type)) {
    st.ctx->stats.unsupported_in.fetch_add(1, std::memory_order_relaxed);
    return send_envelope(self, st, wire::kind::unsupported, e.request_id,
                         static_cast<wire::msg_type>(e.type), {});
  }
  if (st.serving >= st.ctx->settings.max_in_flight)
    return answer_error(self, st, e.request_id,
                        link_error(link_errc::too_many_requests,
                                   "too many requests in flight on this connection"));
  auto msg = body_of(self->system(), e.type, e.body);
  if (!msg)
    return answer_error(self, st, e.request_id,
                        link_error(link_errc::malformed, "a request that does not decode: "
                                                           + self->system().render(msg.error())));
  auto door = st.ctx->door();
  if (!door)
    return answer_error(self, st, e.request_id,
                        link_error(link_errc::refused, "this process takes no requests"));
  ++st.serving;
  auto id = e.request_id;
  // The answer can be of any type: a handler of a type no answer has makes CAF hand the
  // answer over as the context of an unexpected_response error.
  struct never {};
  self->request(door, caf::infinite, std::move(*msg))
    .then([](never) {},
          [self, sp, id](caf::error& err) {
            auto& st = *sp;
            --st.serving;
            if (!st.up)
              return;
            if (err == caf::sec::unexpected_response) {
              auto reply = err.context();
              auto [type, bytes] = encode_body(self->system(), reply);
              if (bytes && bytes->size() > bound_of(st, static_cast<uint32_t>(type)))
                return answer_error(self, st, id,
                                    link_error(link_errc::too_large,
                                               "the answer of " + std::to_string(bytes->size())
                                                 + " bytes is over the bound of the wire "
                                                   "(--max-frame-bytes)"));
              if (bytes)
                return send_envelope(self, st, wire::kind::response, id, type,
                                     std::move(*bytes));
              return answer_error(self, st, id,
                                  link_error(link_errc::malformed,
                                             "an answer that cannot be sent: "
                                               + self->system().render(bytes.error())));
            }
            answer_error(self, st, id, std::move(err));
          });
}

/// An answer of the peer to one of our requests.
void on_answer(caf::io::broker* self, link_state& st, wire::envelope& e) {
  if (e.request_id >= next_ping_ids) { // the next release's ping: answered or unknown there
    if (e.kind == wire::kind::unsupported) {
      st.ctx->stats.unsupported_out.fetch_add(1, std::memory_order_relaxed);
      st.ctx->log->info("{} speaks wire version {}: it does not know next_ping", who(st),
                        st.peer.version);
    }
    return;
  }
  auto it = st.waiting.find(e.request_id);
  if (it == st.waiting.end()) {
    st.ctx->stats.late_answers.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  auto rp = std::move(it->second);
  st.waiting.erase(it);
  if (e.kind == wire::kind::unsupported) {
    st.ctx->stats.unsupported_out.fetch_add(1, std::memory_order_relaxed);
    return rp.deliver(link_error(link_errc::unsupported,
                                 who(st) + " runs a release that does not know this message"));
  }
  if (e.type == static_cast<uint32_t>(wire::msg_type::probe))
    return rp.deliver(true);
  auto msg = body_of(self->system(), e.type, e.body);
  if (!msg)
    return rp.deliver(link_error(link_errc::malformed, "an answer that does not decode: "
                                                         + self->system().render(msg.error())));
  rp.deliver(std::move(*msg)); // an error answer is a message holding the error
}

void on_tell(caf::io::broker* self, link_state& st, wire::envelope& e) {
  if (!known_type(e.type)) {
    st.ctx->stats.unsupported_in.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  auto msg = body_of(self->system(), e.type, e.body);
  if (!msg) {
    st.ctx->refused(wire_errc::malformed, who(st), self->system().render(msg.error()));
    return;
  }
  if (auto door = st.ctx->door())
    self->send(door, std::move(*msg));
}

/// The accepting side, with a cookie: the peer's first envelope. A proof is checked (a wrong
/// one closes the link); a node must give one, a client without one is anonymous.
enum class first_envelope { handle, consumed, closed };
first_envelope on_first_envelope(caf::io::broker* self, link_state& st,
                                 const wire::envelope& e) {
  st.awaiting_proof = false;
  if (e.type == static_cast<uint32_t>(wire::msg_type::proof)) {
    auto cookie = st.ctx->cookie();
    if (same_proof(e.body, cookie_proof(cookie, "connect", st.nonce, st.peer.nonce))) {
      link_peer_proved(self->address());
      return first_envelope::consumed;
    }
    refuse(self, st, wire_errc::bad_cookie,
           std::string{"its proof of the cookie is wrong: another cluster; "} + give_cookie);
    return first_envelope::closed;
  }
  if (st.peer.kind == wire::peer_kind::node) {
    refuse(self, st, wire_errc::bad_cookie,
           std::string{"a node that did not prove it knows the cookie; "} + give_cookie);
    return first_envelope::closed;
  }
  return first_envelope::handle; // an anonymous client: it may read
}

/// Returns false when the connection was closed.
bool on_frame(caf::io::broker* self, const state_ptr& sp, std::string_view body) {
  auto& st = *sp;
  st.ctx->stats.frames_in.fetch_add(1, std::memory_order_relaxed);
  if (!st.up)
    return on_hello(self, st, body);
  wire::envelope e;
  if (auto err = wire::decode(body, e); err != wire_errc::none) {
    refuse(self, st, err, "an envelope that does not decode");
    return false;
  }
  if (auto err = st.in_seq.check(e.incarnation, e.seq); err != wire_errc::none) {
    refuse(self, st, err,
           "the link is out of step: expected frame " + std::to_string(st.in_seq.expected())
             + " of incarnation " + std::to_string(st.peer.incarnation) + ", got "
             + std::to_string(e.seq) + " of " + std::to_string(e.incarnation));
    return false;
  }
  if (st.awaiting_proof)
    if (auto first = on_first_envelope(self, st, e); first != first_envelope::handle)
      return first == first_envelope::consumed;
  if (e.more || st.partial_active) { // a message in pieces
    // The larger bound only for Raft between coordinators: an anonymous client's pieces are
    // held to the frame bound (the ingress refuses its Raft anyway, once it is whole).
    bool coordinator_raft = e.type == static_cast<uint32_t>(wire::msg_type::raft)
                            && st.ctx->make_hello().coordinator
                            && st.peer.kind == wire::peer_kind::node && st.peer.coordinator;
    auto bound = coordinator_raft ? max_raft_message : st.ctx->settings.max_frame;
    if (st.partial.size() + e.body.size() > bound) {
      refuse(self, st, wire_errc::frame_too_large,
             "a message in pieces over its bound of " + std::to_string(bound) + " bytes");
      return false;
    }
    st.partial += e.body;
    st.partial_active = e.more;
    if (e.more)
      return true;
    e.body = std::move(st.partial);
    st.partial.clear();
  }
  switch (e.kind) {
    case wire::kind::tell:
      on_tell(self, st, e);
      break;
    case wire::kind::request:
      on_request(self, sp, e);
      break;
    default:
      on_answer(self, st, e);
  }
  return true;
}

void configure_read(caf::io::broker* self, link_state& st) {
  using caf::io::receive_policy;
  if (st.up || st.tls) // TLS records do not line up with frames
    self->configure_read(st.hdl, receive_policy::at_most(read_chunk));
  else
    self->configure_read(st.hdl, receive_policy::exactly(st.reader.wanted()));
}

/// The first bytes of a connection, when they are not what this process speaks: a TLS record
/// (0x16, a handshake) to a process without TLS, or a plain frame to one with it.
bool wrong_protocol(caf::io::broker* self, link_state& st, const std::vector<char>& buf) {
  if (st.up || buf.empty() || (st.tls && st.tls->established()))
    return false;
  bool tls_record = static_cast<unsigned char>(buf[0]) == 0x16;
  if (st.tls && !tls_record && buf[0] == 'T') {
    refuse(self, st, wire_errc::tls_required,
           "it sent plain frames; this process speaks only TLS (give it --tls-ca, --tls-cert and "
           "--tls-key, or $TROUPE_TLS_CA, $TROUPE_TLS_CERT and $TROUPE_TLS_KEY)");
    return true;
  }
  if (!st.tls && tls_record) {
    refuse(self, st, wire_errc::tls_unexpected, "it speaks TLS; this process has no TLS");
    return true;
  }
  return false;
}

/// Decrypted (or plain) bytes: frames. Returns false when the connection was closed.
bool on_plain(caf::io::broker* self, const state_ptr& sp, const char* p, size_t n) {
  auto& st = *sp;
  while (n > 0) {
    auto used = st.reader.feed(p, n);
    p += used;
    n -= used;
    if (st.reader.failed()) {
      auto why = st.reader.error();
      refuse(self, st, why, st.up ? "" : "before its hello");
      return false;
    }
    if (st.reader.ready()) {
      auto body = st.reader.take();
      if (!on_frame(self, sp, body))
        return false;
    }
  }
  return true;
}

void on_data(caf::io::broker* self, const state_ptr& sp, const std::vector<char>& buf) {
  auto& st = *sp;
  if (wrong_protocol(self, st, buf))
    return;
  if (st.tls) {
    std::string plain;
    bool ok = st.tls->on_cipher(buf.data(), buf.size(), plain);
    flush_tls(self, st);
    if (!ok)
      return refuse(self, st, wire_errc::tls_failed, st.tls->error());
    if (!on_plain(self, sp, plain.data(), plain.size()))
      return;
  } else if (!on_plain(self, sp, buf.data(), buf.size())) {
    return;
  }
  configure_read(self, st);
}

/// A local actor's message for the node at the other end.
caf::result<caf::message> on_local(caf::io::broker* self, link_state& st, caf::message_view& x) {
  bool is_request = self->current_message_id().is_request();
  if (!st.up)
    return link_error(link_errc::closed, "the connection to " + who(st) + " is not up yet");
  auto msg = x.move_content_to_message();
  auto [type, bytes] = encode_body(self->system(), msg);
  if (!bytes)
    return link_error(link_errc::malformed,
                      "a message that cannot be sent: " + self->system().render(bytes.error()));
  if (bytes->size() > bound_of(st, static_cast<uint32_t>(type))) {
    st.ctx->stats.too_large_out.fetch_add(1, std::memory_order_relaxed);
    return link_error(link_errc::too_large,
                      "a message of " + std::to_string(bytes->size())
                        + " bytes is over the bound of the wire (--max-frame-bytes "
                        + std::to_string(st.send_limit) + " on this link)");
  }
  if (!is_request) {
    send_envelope(self, st, wire::kind::tell, 0, type, std::move(*bytes));
    return caf::message{};
  }
  if (st.waiting.size() >= st.ctx->settings.max_in_flight)
    return link_error(link_errc::too_many_requests,
                      "too many requests waiting for " + who(st));
  auto id = ++st.next_request;
  st.waiting.emplace(id, self->make_response_promise());
  send_envelope(self, st, wire::kind::request, id, type, std::move(*bytes));
  return caf::delegated<caf::message>{}; // answered through the promise
}

} // namespace

caf::behavior link_connection(caf::io::broker* self, caf::io::connection_handle hdl,
                              link_context_ptr ctx, bool outbound, caf::actor owner) {
  auto sp = std::make_shared<link_state>(ctx, hdl, outbound, owner);
  sp->peer_addr = self->remote_addr(hdl) + ":" + std::to_string(self->remote_port(hdl));
  if (auto tls = ctx->tls())
    sp->tls = std::make_unique<tls_session>(tls, !outbound);
  ctx->stats.pending.fetch_add(1, std::memory_order_relaxed);
  if (outbound) {
    nonce_issued(*sp);
    write_frame(self, *sp, our_hello(*sp, ctx->cookie()), false);
  }
  configure_read(self, *sp);
  self->delayed_send(self, ctx->settings.hello_timeout, link_hello_timeout_atom::value);
  self->set_default_handler(
    [sp](caf::scheduled_actor* s, caf::message_view& x) -> caf::result<caf::message> {
      return on_local(static_cast<caf::io::broker*>(s), *sp, x);
    });
  self->set_exit_handler([self, sp](caf::exit_msg& m) {
    close_link(self, *sp, std::move(m.reason));
  });
  return {
    [self, sp](const caf::io::new_data_msg& m) { on_data(self, sp, m.buf); },
    [self, sp](const caf::io::connection_closed_msg&) {
      if (sp->outbound && !sp->up)
        return close_link(
          self, *sp,
          link_error(link_errc::refused,
                     sp->tls ? "the node closed the connection during the TLS handshake or "
                               "before its hello: it may not accept this certificate (see its "
                               "log), or have no TLS"
                             : "the node closed the connection before its hello: it may "
                               "require TLS (give $TROUPE_TLS_CA, $TROUPE_TLS_CERT and "
                               "$TROUPE_TLS_KEY)"));
      if (sp->awaiting_proof && sp->peer.kind == wire::peer_kind::node) // it found our proof wrong
        sp->ctx->refused(wire_errc::bad_cookie, who(*sp),
                         "it closed the link without proving it knows the cookie: it has "
                         "another one, or none");
      close_link(self, *sp, caf::make_error(caf::exit_reason::remote_link_unreachable));
    },
    [self, sp](link_hello_timeout_atom) {
      if (!sp->up)
        refuse(self, *sp, wire_errc::no_hello, "no hello within the hello timeout");
      else if (sp->awaiting_proof && sp->peer.kind == wire::peer_kind::node)
        refuse(self, *sp, wire_errc::bad_cookie,
               "a node that did not prove it knows the cookie within the hello timeout");
    },
  };
}

} // namespace troupe
