#include "actors/link/tls_session.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>

namespace troupe {

namespace {

/// The last OpenSSL errors of this thread, as one line (and the queue emptied).
std::string openssl_errors() {
  std::string out;
  while (auto e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    out += (out.empty() ? "" : "; ") + std::string{buf};
  }
  return out;
}

std::vector<std::string> names_of(X509* cert) {
  std::vector<std::string> out;
  if (!cert)
    return out;
  char cn[256];
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn)) > 0)
    out.emplace_back(cn);
  auto* sans = static_cast<GENERAL_NAMES*>(
    X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); ++i) {
    auto* n = sk_GENERAL_NAME_value(sans, i);
    if (n->type == GEN_DNS || n->type == GEN_EMAIL) {
      auto* s = n->type == GEN_DNS ? n->d.dNSName : n->d.rfc822Name;
      std::string name{reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       static_cast<size_t>(ASN1_STRING_length(s))};
      if (std::find(out.begin(), out.end(), name) == out.end())
        out.push_back(std::move(name));
    }
  }
  GENERAL_NAMES_free(sans);
  return out;
}

/// A coordinator's certificate: its subject's organizational unit is `coordinator`
/// (scripts/certs.sh --coordinator makes it so). Only those may speak Raft.
bool coordinator_cert(X509* cert) {
  if (!cert)
    return false;
  char ou[256];
  return X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_organizationalUnitName, ou,
                                   sizeof(ou))
           > 0
         && std::string{ou} == "coordinator";
}

bool readable(const std::string& path) {
  if (auto* f = std::fopen(path.c_str(), "rb")) {
    std::fclose(f);
    return true;
  }
  return false;
}

} // namespace

namespace {

/// The environment variable of each file.
std::array<std::pair<const char*, std::string tls_files::*>, 3> env_names() {
  return {{{"TROUPE_TLS_CA", &tls_files::ca},
           {"TROUPE_TLS_CERT", &tls_files::cert},
           {"TROUPE_TLS_KEY", &tls_files::key}}};
}

} // namespace

tls_files tls_files_from_env() {
  tls_files files;
  for (auto [var, field] : env_names())
    if (auto* v = std::getenv(var); v && *v)
      files.*field = v;
  return files;
}

void export_tls_files(const tls_files& files) {
  for (auto [var, field] : env_names())
    if (!(files.*field).empty())
      ::setenv(var, (files.*field).c_str(), 1);
}

tls_context make_tls_context(const tls_files& files, std::string& problem) {
  for (auto [flag, path] : {std::pair{"--tls-ca", &files.ca}, std::pair{"--tls-cert", &files.cert},
                            std::pair{"--tls-key", &files.key}}) {
    if (path->empty()) {
      problem = std::string{flag} + " is missing: TLS needs the CA, a certificate and its key";
      return nullptr;
    }
    if (!readable(*path)) {
      problem = std::string{flag} + " " + *path + " cannot be read";
      return nullptr;
    }
  }
  ERR_clear_error();
  tls_context ctx{SSL_CTX_new(TLS_method()), SSL_CTX_free};
  if (!ctx) {
    problem = "OpenSSL could not make a context: " + openssl_errors();
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  auto bad = [&](const std::string& what) {
    problem = what + ": " + openssl_errors();
    return nullptr;
  };
  if (SSL_CTX_load_verify_locations(ctx.get(), files.ca.c_str(), nullptr) != 1)
    return bad("--tls-ca " + files.ca + " is not a PEM CA certificate");
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), files.cert.c_str()) != 1)
    return bad("--tls-cert " + files.cert + " is not a PEM certificate");
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), files.key.c_str(), SSL_FILETYPE_PEM) != 1)
    return bad("--tls-key " + files.key + " is not a PEM private key, or not the key of --tls-cert "
               + files.cert);
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    return bad("--tls-key " + files.key + " does not belong to --tls-cert " + files.cert);
  // The own certificate must itself pass: signed by the CA, within its validity.
  auto* store = SSL_CTX_get_cert_store(ctx.get());
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> check{X509_STORE_CTX_new(),
                                                                         X509_STORE_CTX_free};
  X509_STORE_CTX_init(check.get(), store, SSL_CTX_get0_certificate(ctx.get()), nullptr);
  if (X509_verify_cert(check.get()) != 1) {
    problem = "--tls-cert " + files.cert + " does not verify against --tls-ca " + files.ca + ": "
              + X509_verify_cert_error_string(X509_STORE_CTX_get_error(check.get()));
    return nullptr;
  }
  // Both ends present a certificate and verify the other's.
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  return ctx;
}

bool names_member(const std::vector<std::string>& names, const std::string& member) {
  auto named = [&](const std::string& n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
  if (named(member))
    return true;
  auto at = member.rfind("-worker-");
  if (at == std::string::npos || at == 0 || at + 8 >= member.size())
    return false;
  for (auto i = at + 8; i < member.size(); ++i)
    if (member[i] < '0' || member[i] > '9')
      return false;
  return named(member.substr(0, at));
}

std::vector<std::string> own_names(const tls_context& ctx) {
  return ctx ? names_of(SSL_CTX_get0_certificate(ctx.get())) : std::vector<std::string>{};
}

bool own_coordinator_cert(const tls_context& ctx) {
  return ctx && coordinator_cert(SSL_CTX_get0_certificate(ctx.get()));
}

tls_session::tls_session(const tls_context& ctx, bool server) {
  ssl_ = SSL_new(ctx.get());
  in_ = BIO_new(BIO_s_mem());
  out_ = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl_, in_, out_); // ssl_ owns both BIOs now
  if (server)
    SSL_set_accept_state(ssl_);
  else
    SSL_set_connect_state(ssl_);
}

tls_session::~tls_session() {
  SSL_free(ssl_);
}

bool tls_session::fail(const char* what, int ret) {
  auto code = SSL_get_error(ssl_, ret);
  if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE)
    return true;
  auto queued = openssl_errors(); // read (and emptied) whatever the branch below says
  if (error_.empty()) {
    auto verify = SSL_get_verify_result(ssl_);
    error_ = std::string{what} + " failed";
    if (verify != X509_V_OK)
      error_ += ": the peer's certificate: " + std::string{X509_verify_cert_error_string(verify)};
    else if (!queued.empty())
      error_ += ": " + queued;
    else if (code == SSL_ERROR_ZERO_RETURN)
      error_ += ": the peer closed the session";
  }
  return false;
}

// OpenSSL's error queue is per thread and shared by every session on it: each call starts
// with it empty, or another connection's error would read as this one's (SSL_get_error).
bool tls_session::drive(std::string& plain) {
  if (!established_) {
    ERR_clear_error();
    auto r = SSL_do_handshake(ssl_);
    if (r != 1)
      return fail("the TLS handshake", r);
    established_ = true;
    if (!pending_.empty()) {
      auto p = std::move(pending_);
      pending_.clear();
      if (!write(p))
        return false;
    }
  }
  char buf[16384];
  for (;;) {
    ERR_clear_error();
    auto n = SSL_read(ssl_, buf, sizeof(buf));
    if (n <= 0)
      return fail("reading TLS", n);
    plain.append(buf, static_cast<size_t>(n));
  }
}

bool tls_session::on_cipher(const char* data, size_t size, std::string& plain) {
  if (!error_.empty())
    return false;
  if (size > 0 && BIO_write(in_, data, static_cast<int>(size)) != static_cast<int>(size)) {
    error_ = "TLS: the input buffer refused bytes";
    return false;
  }
  return drive(plain);
}

bool tls_session::write(std::string_view plain) {
  if (!error_.empty())
    return false;
  if (!established_) {
    pending_.append(plain);
    ERR_clear_error();
    auto r = SSL_do_handshake(ssl_); // a client's first call starts the handshake
    if (r != 1)
      return fail("the TLS handshake", r); // on_cipher sends pending_ once it is done
    established_ = true;
    auto p = std::move(pending_);
    pending_.clear();
    return write(p);
  }
  while (!plain.empty()) {
    ERR_clear_error();
    auto n = SSL_write(ssl_, plain.data(), static_cast<int>(plain.size()));
    if (n <= 0)
      return fail("writing TLS", n) && false;
    plain.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string tls_session::take_cipher() {
  std::string out;
  char buf[16384];
  int n;
  while ((n = BIO_read(out_, buf, sizeof(buf))) > 0)
    out.append(buf, static_cast<size_t>(n));
  return out;
}

std::vector<std::string> tls_session::peer_names() const {
  auto* cert = SSL_get_peer_certificate(ssl_);
  auto out = names_of(cert);
  X509_free(cert);
  return out;
}

bool tls_session::peer_coordinator() const {
  auto* cert = SSL_get_peer_certificate(ssl_);
  bool out = coordinator_cert(cert);
  X509_free(cert);
  return out;
}

} // namespace troupe
