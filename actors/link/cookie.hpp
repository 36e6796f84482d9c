// The cluster's cookie (issue 17): without TLS, the shared secret that says who belongs, as
// Erlang's cookie does. A node and whoever connects to it prove they know it without sending
// it: each side picks a random nonce (in its hello), the accepting side answers with
// HMAC-SHA256(cookie, "accept" | the connecting side's nonce | its own), the connecting side
// with HMAC-SHA256(cookie, "connect" | the accepting side's nonce | its own), so neither proof
// can be replayed on another connection or reflected back. A node refuses a node that cannot
// prove it; a client that cannot is anonymous (it may read, not change anything).
//
// Where the cookie comes from: --cluster-secret-file FILE or $TROUPE_CLUSTER_SECRET_FILE; else
// the node's own <data-dir>/cookie; else the one cookie under ./troupe-data/*/cookie (the
// default data dirs of this host); else the first coordinator of a group makes one (random,
// mode 0600) and its local workers inherit it through $TROUPE_CLUSTER_SECRET_FILE.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace troupe {

/// The environment variable naming the cookie file.
inline constexpr const char* cookie_env = "TROUPE_CLUSTER_SECRET_FILE";

/// A fresh random nonce for one connection's hello (16 bytes).
std::string make_nonce();

/// The proof of `role` ("accept" or "connect") over two nonces: the peer's first, then ours.
std::string cookie_proof(const std::string& cookie, std::string_view role,
                         std::string_view peer_nonce, std::string_view own_nonce);

/// Compares two proofs in constant time.
bool same_proof(std::string_view a, std::string_view b);

/// Reads a cookie file: its first line, at least 16 characters; the file must not be
/// readable by group or others (as ssh and Erlang require). Returns "" with the reason in
/// `problem`.
std::string read_cookie_file(const std::string& path, std::string& problem);

/// Makes a new random cookie at `path` (mode 0600, never over an existing file). Returns it,
/// or "" with the reason in `problem`.
std::string create_cookie_file(const std::string& path, std::string& problem);

/// The cookie files of this host's default data dirs: `<root>/*/cookie`, sorted.
std::vector<std::string> default_cookie_files(const std::string& root = "./troupe-data");

/// The cookie of this host's default data dirs: the one cookie under `<root>/*/cookie`
/// (unreadable ones skipped), and its file in `found_in`. "" when there is none, or when two
/// differ (then `conflict` names both files).
std::string default_cookie(std::string& found_in, std::string& conflict,
                           const std::string& root = "./troupe-data");

/// A client's cookie: the file of $TROUPE_CLUSTER_SECRET_FILE, else the one cookie of the
/// default data dirs (several different ones, or none: "", an anonymous client). A problem
/// with the named file fills `problem`.
std::string client_cookie(std::string& problem);

} // namespace troupe
