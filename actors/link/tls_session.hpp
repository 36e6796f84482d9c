// TLS on a link: the bytes of a connection go through OpenSSL with memory BIOs, so the
// connection broker keeps its own socket and frames and only encrypts what it writes and
// decrypts what it reads (CAF's OpenSSL module wraps BASP only, which Troupe does not use).
// Both ends present a certificate of the cluster's CA and verify the other's (mutual TLS); who
// the peer is comes from its certificate's names (tls_session::peer_names), which the link
// checks against the name the peer's hello claims.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct ssl_ctx_st;
struct ssl_st;
struct bio_st;

namespace troupe {

/// Where a process's TLS material is (--tls-ca, --tls-cert, --tls-key; $TROUPE_TLS_CA, ...).
struct tls_files {
  std::string ca;    // the cluster's CA certificate (PEM): peers must be signed by it
  std::string cert;  // this process's certificate (PEM), signed by the CA
  std::string key;   // its private key (PEM)
  bool enabled() const { return !ca.empty() || !cert.empty() || !key.empty(); }
};

/// The client TLS files of this process's environment ($TROUPE_TLS_CA, $TROUPE_TLS_CERT,
/// $TROUPE_TLS_KEY; unset or empty: none).
tls_files tls_files_from_env();

/// Sets the environment variables of the files given in `files` (clients' --tls-* flags stand
/// for them).
void export_tls_files(const tls_files& files);

/// The OpenSSL context of a process: its certificate and key, the CA, mutual verification.
using tls_context = std::shared_ptr<ssl_ctx_st>;

/// Loads `files` into a new context. Returns nullptr with the reason, one sentence naming the
/// file, in `problem` (a missing or unreadable file, a key that does not match the
/// certificate, an expired certificate, a certificate the CA did not sign).
tls_context make_tls_context(const tls_files& files, std::string& problem);

/// The names of the context's own certificate: its common name and DNS subject alternative
/// names.
std::vector<std::string> own_names(const tls_context& ctx);

/// Whether the context's own certificate is a coordinator's (subject OU `coordinator`).
bool own_coordinator_cert(const tls_context& ctx);

/// Whether a certificate with `names` may speak for member `member`: it names the member, or
/// (a local worker, `<node>-worker-<k>`, shows its coordinator's certificate) its node.
bool names_member(const std::vector<std::string>& names, const std::string& member);

/// One connection's TLS state.
class tls_session {
public:
  /// `server`: this end accepted the connection.
  tls_session(const tls_context& ctx, bool server);
  ~tls_session();
  tls_session(const tls_session&) = delete;
  tls_session& operator=(const tls_session&) = delete;

  /// Bytes from the socket. Appends what they decrypt to `plain`; false on a failure (a bad
  /// or foreign certificate, not TLS at all, a closed session), then error() says why.
  bool on_cipher(const char* data, size_t size, std::string& plain);

  /// Plaintext to send: encrypted now, or once the handshake is done.
  bool write(std::string_view plain);

  /// Encrypted bytes waiting for the socket (handshake messages included).
  std::string take_cipher();

  /// True once the handshake is done and the peer's certificate verified.
  bool established() const { return established_; }

  const std::string& error() const { return error_; }

  /// The names in the peer's certificate (common name, DNS and email alternative names).
  std::vector<std::string> peer_names() const;

  /// Whether the peer's certificate is a coordinator's (subject OU `coordinator`): only
  /// those may send Raft messages.
  bool peer_coordinator() const;

private:
  bool drive(std::string& plain);
  bool fail(const char* what, int ret);

  ssl_st* ssl_ = nullptr;
  bio_st* in_ = nullptr;   // socket -> OpenSSL
  bio_st* out_ = nullptr;  // OpenSSL -> socket
  bool established_ = false;
  std::string pending_;    // plaintext written before the handshake was done
  std::string error_;
};

} // namespace troupe
