#include "actors/link/cookie.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace troupe {

namespace fs = std::filesystem;

namespace {

/// Shortest cookie accepted: anything shorter is guessable.
constexpr size_t min_cookie = 16;

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
    throw std::runtime_error("OpenSSL's random generator failed");
  return out;
}

} // namespace

std::string make_nonce() {
  return random_bytes(16);
}

std::string cookie_proof(const std::string& cookie, std::string_view role,
                         std::string_view peer_nonce, std::string_view own_nonce) {
  std::string data;
  data.reserve(role.size() + peer_nonce.size() + own_nonce.size() + 2);
  // Lengths first, so that no two (role, nonce, nonce) triples give the same bytes.
  data += static_cast<char>(peer_nonce.size());
  data += static_cast<char>(own_nonce.size());
  data.append(role).append(peer_nonce).append(own_nonce);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), cookie.data(), static_cast<int>(cookie.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

bool same_proof(std::string_view a, std::string_view b) {
  return !a.empty() && a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string read_cookie_file(const std::string& path, std::string& problem) {
  struct stat sb{};
  if (::stat(path.c_str(), &sb) != 0) {
    problem = "cannot read the cookie file " + path + ": " + std::strerror(errno);
    return {};
  }
  if ((sb.st_mode & 077) != 0) {
    problem = "the cookie file " + path + " may be read by others than its owner (chmod 600 "
              + path + ")";
    return {};
  }
  std::ifstream in{path};
  std::string cookie;
  if (!in || !std::getline(in, cookie)) {
    problem = "cannot read the cookie file " + path;
    return {};
  }
  while (!cookie.empty() && std::isspace(static_cast<unsigned char>(cookie.back())))
    cookie.pop_back();
  if (cookie.size() < min_cookie) {
    problem = "the cookie in " + path + " is shorter than " + std::to_string(min_cookie)
              + " characters (make one with: openssl rand -hex 32 > " + path + ")";
    return {};
  }
  return cookie;
}

std::string create_cookie_file(const std::string& path, std::string& problem) {
  auto bytes = random_bytes(32);
  static const char digits[] = "0123456789abcdef";
  std::string cookie;
  for (unsigned char c : bytes) {
    cookie += digits[c >> 4];
    cookie += digits[c & 15];
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    problem = "cannot create the cookie file " + path + ": " + std::strerror(errno);
    return {};
  }
  auto line = cookie + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size())
            && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    problem = "cannot write the cookie file " + path + ": " + std::strerror(errno);
    ::unlink(path.c_str());
    return {};
  }
  return cookie;
}

std::vector<std::string> default_cookie_files(const std::string& root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::directory_iterator{root, ec}; !ec && it != fs::directory_iterator{};
       it.increment(ec)) {
    auto file = it->path() / "cookie";
    if (fs::is_regular_file(file, ec))
      out.push_back(file.string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string default_cookie(std::string& found_in, std::string& conflict,
                           const std::string& root) {
  std::string found;
  for (auto& file : default_cookie_files(root)) {
    std::string ignored;
    auto c = read_cookie_file(file, ignored);
    if (c.empty())
      continue;
    if (!found.empty() && c != found) {
      conflict = found_in + " and " + file;
      return {};
    }
    if (found.empty()) {
      found = std::move(c);
      found_in = file;
    }
  }
  return found;
}

std::string client_cookie(std::string& problem) {
  if (auto* path = std::getenv(cookie_env); path && *path)
    return read_cookie_file(path, problem);
  std::string found_in;
  std::string conflict; // two clusters' data dirs here: which one is meant is not ours to guess
  return default_cookie(found_in, conflict);
}

} // namespace troupe
