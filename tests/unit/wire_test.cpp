#define CAF_SUITE wire
#include <caf/test/unit_test.hpp>

#include "actors/link/cookie.hpp"
#include "protocols/wire/envelope.hpp"
#include "protocols/wire/frame.hpp"
#include "protocols/wire/link_check.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using namespace troupe::wire;
using troupe::cookie_proof;
using troupe::create_cookie_file;
using troupe::default_cookie_files;
using troupe::make_nonce;
using troupe::read_cookie_file;
using troupe::same_proof;

namespace {

std::string frame_of(std::string_view body) { return make_frame(body); }

/// Feeds `bytes` to `r` in pieces of `chunk` bytes; returns every body read, stops at an error.
std::vector<std::string> read_all(frame_reader& r, const std::string& bytes, size_t chunk) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < bytes.size() && !r.failed()) {
    auto n = std::min(chunk, bytes.size() - pos);
    size_t used = 0;
    while (used < n && !r.failed()) {
      used += r.feed(bytes.data() + pos + used, n - used);
      if (r.ready()) {
        out.emplace_back(r.body());
        r.next();
      }
    }
    pos += n;
  }
  return out;
}

} // namespace

CAF_TEST(frames survive being cut at any point) {
  std::string stream;
  std::vector<std::string> bodies{"", "a", std::string(1000, 'x'), std::string("\0\1\2", 3)};
  for (auto& b : bodies)
    stream += frame_of(b);
  for (size_t chunk : {1u, 2u, 5u, 11u, 12u, 13u, 100u, 5000u}) {
    frame_reader r{4096};
    auto got = read_all(r, stream, chunk);
    CAF_CHECK(!r.failed());
    CAF_CHECK_EQUAL(got, bodies);
  }
}

CAF_TEST(a header claiming more than the bound fails before any body byte) {
  std::string h = frame_of(std::string(100, 'y')).substr(0, header_size);
  frame_reader r{99};
  CAF_CHECK_EQUAL(r.feed(h.data(), h.size()), header_size);
  CAF_CHECK(r.failed());
  CAF_CHECK_EQUAL(to_string(r.error()), std::string{"frame_too_large"});
  // 2 GiB claimed: refused from the header alone, nothing set aside.
  std::string huge = h;
  huge[4] = '\x7f';
  frame_reader r2{default_max_frame};
  r2.feed(huge.data(), huge.size());
  CAF_CHECK_EQUAL(r2.error(), wire_errc::frame_too_large);
  CAF_CHECK_EQUAL(r2.held() <= 64, true);
}

CAF_TEST(bad magic version flags and checksum are each refused) {
  auto good = frame_of("hello");
  auto with = [&](size_t i, char c) {
    auto f = good;
    f[i] = c;
    frame_reader r{1024};
    r.feed(f.data(), f.size());
    return r.error();
  };
  CAF_CHECK_EQUAL(with(0, 'X'), wire_errc::bad_magic);
  CAF_CHECK_EQUAL(with(2, 0), wire_errc::unsupported_version);
  CAF_CHECK_EQUAL(with(3, 1), wire_errc::bad_flags);
  CAF_CHECK_EQUAL(with(header_size + 1, 'E'), wire_errc::checksum_mismatch);
  CAF_CHECK_EQUAL(with(9, 0x55), wire_errc::checksum_mismatch);
  // A reader that failed stays failed.
  frame_reader r{1024};
  auto bad = good;
  bad[0] = 'X';
  r.feed(bad.data(), bad.size());
  CAF_CHECK_EQUAL(r.feed(good.data(), good.size()), 0u);
  CAF_CHECK(r.failed());
}

CAF_TEST(random bytes never crash the reader nor exceed the bound) {
  std::mt19937_64 rng{7};
  for (int i = 0; i < 2000; ++i) {
    std::string junk(rng() % 300, '\0');
    for (auto& c : junk)
      c = static_cast<char>(rng());
    if (i % 3 == 0 && junk.size() >= 2) { // half-plausible: the right magic
      junk[0] = 'T';
      junk[1] = 'W';
    }
    frame_reader r{128};
    read_all(r, junk, 1 + rng() % 20);
    CAF_CHECK(r.held() <= 128);
  }
}

CAF_TEST(envelopes and hellos round trip and are checked) {
  envelope e;
  e.seq = 42;
  e.incarnation = 7;
  e.kind = kind::request;
  e.request_id = 9;
  e.type = static_cast<uint32_t>(msg_type::caf_message);
  e.body = std::string("\0body", 5);
  envelope d;
  CAF_REQUIRE_EQUAL(decode(encode(envelope{e}), d), wire_errc::none);
  CAF_CHECK_EQUAL(d.seq, 42u);
  CAF_CHECK_EQUAL(d.incarnation, 7u);
  CAF_CHECK(d.kind == kind::request);
  CAF_CHECK_EQUAL(d.request_id, 9u);
  CAF_CHECK_EQUAL(d.body, e.body);
  // A request needs an id; a frame needs a number; a kind must be known.
  auto bad = e;
  bad.request_id = 0;
  CAF_CHECK_EQUAL(decode(encode(envelope{bad}), d), wire_errc::invalid_value);
  bad = e;
  bad.seq = 0;
  CAF_CHECK_EQUAL(decode(encode(envelope{bad}), d), wire_errc::invalid_value);
  bad = e;
  bad.kind = static_cast<kind>(9);
  CAF_CHECK_EQUAL(decode(encode(envelope{bad}), d), wire_errc::invalid_value);
  CAF_CHECK_EQUAL(decode("\xff\xff\xff", d), wire_errc::malformed);

  hello h{version, min_version, peer_kind::node, "w1", 123, "127.0.0.1:9000"};
  hello hd;
  CAF_REQUIRE_EQUAL(decode(encode(h), hd), wire_errc::none);
  CAF_CHECK_EQUAL(hd.name, "w1");
  CAF_CHECK_EQUAL(hd.incarnation, 123u);
  CAF_CHECK(hd.kind == peer_kind::node);
  auto nameless = h;
  nameless.name.clear();
  CAF_CHECK_EQUAL(decode(encode(nameless), hd), wire_errc::invalid_value);
  auto long_name = h;
  long_name.name = std::string(300, 'n');
  CAF_CHECK_EQUAL(decode(encode(long_name), hd), wire_errc::field_too_large);
  hello client{version, min_version, peer_kind::client, "", 5, ""};
  CAF_CHECK_EQUAL(decode(encode(client), hd), wire_errc::none);
  // The cookie's nonce and proof travel in the hello, bounded.
  auto proving = h;
  proving.nonce = std::string(16, 'n');
  proving.proof = std::string(32, 'p');
  CAF_REQUIRE_EQUAL(decode(encode(proving), hd), wire_errc::none);
  CAF_CHECK_EQUAL(hd.nonce, proving.nonce);
  CAF_CHECK_EQUAL(hd.proof, proving.proof);
  proving.proof = std::string(65, 'p');
  CAF_CHECK_EQUAL(decode(encode(proving), hd), wire_errc::field_too_large);
}

CAF_TEST(a proof of the cookie holds only for its cookie and role and nonces) {
  std::string cookie = "0123456789abcdef0123";
  auto a = make_nonce();
  auto b = make_nonce();
  CAF_CHECK_NOT_EQUAL(a, b);
  auto p = cookie_proof(cookie, "accept", a, b);
  CAF_CHECK_EQUAL(p.size(), 32u);
  CAF_CHECK(same_proof(p, cookie_proof(cookie, "accept", a, b)));
  CAF_CHECK(!same_proof(p, cookie_proof(cookie + "x", "accept", a, b)));
  CAF_CHECK(!same_proof(p, cookie_proof(cookie, "connect", a, b))); // not reflected back
  CAF_CHECK(!same_proof(p, cookie_proof(cookie, "accept", b, a)));
  CAF_CHECK(!same_proof(p, cookie_proof(cookie, "accept", a, make_nonce()))); // not replayed
  CAF_CHECK(!same_proof("", ""));
}

CAF_TEST(a cookie file is made private and read back and a weak or open one is refused) {
  auto dir = std::filesystem::temp_directory_path() / ("troupe-cookie-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "a");
  std::string problem;
  auto path = (dir / "a" / "cookie").string();
  auto made = create_cookie_file(path, problem);
  CAF_REQUIRE_EQUAL(problem, "");
  CAF_CHECK_EQUAL(made.size(), 64u);
  CAF_CHECK((std::filesystem::status(path).permissions()
             & (std::filesystem::perms::group_all | std::filesystem::perms::others_all))
            == std::filesystem::perms::none);
  CAF_CHECK_EQUAL(read_cookie_file(path, problem), made);
  CAF_CHECK(create_cookie_file(path, problem).empty()); // never over an existing one
  CAF_CHECK_NOT_EQUAL(problem, "");
  CAF_CHECK_EQUAL(default_cookie_files(dir.string()), std::vector<std::string>{path});
  problem.clear();
  ::chmod(path.c_str(), 0644);
  CAF_CHECK(read_cookie_file(path, problem).empty());
  CAF_CHECK(problem.find("chmod 600") != std::string::npos);
  auto weak = (dir / "weak").string();
  std::ofstream{weak} << "short\n";
  ::chmod(weak.c_str(), 0600);
  problem.clear();
  CAF_CHECK(read_cookie_file(weak, problem).empty());
  CAF_CHECK(problem.find("shorter than 16") != std::string::npos);
  std::filesystem::remove_all(dir);
}

CAF_TEST(the link check wants exactly the next number from the same life) {
  link_sender s{77};
  link_receiver r;
  r.start(77);
  for (int i = 0; i < 5; ++i)
    CAF_CHECK_EQUAL(r.check(s.incarnation(), s.next()), wire_errc::none);
  CAF_CHECK_EQUAL(r.expected(), 6u);
  CAF_CHECK_EQUAL(r.check(77, 5), wire_errc::duplicate);   // a frame repeated
  CAF_CHECK_EQUAL(r.check(77, 7), wire_errc::gap);         // frame 6 lost
  CAF_CHECK_EQUAL(r.check(76, 6), wire_errc::stale_incarnation);
  CAF_CHECK_EQUAL(r.check(77, 6), wire_errc::none);        // failures do not advance it
  CAF_CHECK(desynchronizes(wire_errc::gap));
  CAF_CHECK(desynchronizes(wire_errc::checksum_mismatch));
  CAF_CHECK(!desynchronizes(wire_errc::frame_too_large));
}
