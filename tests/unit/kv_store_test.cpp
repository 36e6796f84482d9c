#define CAF_SUITE kv_store
#include <caf/test/unit_test.hpp>

#include "protocols/cluster_state/kv_store.hpp"

#include <random>

using namespace troupe::state;

namespace {

command put(std::string k, std::string v, std::optional<uint64_t> expected = std::nullopt,
            uint64_t client = 0, uint64_t seq = 0) {
  return command{client, seq, put_cmd{std::move(k), std::move(v), expected}};
}

command del(std::string k, std::optional<uint64_t> expected = std::nullopt) {
  return command{0, 0, del_cmd{std::move(k), expected}};
}

std::vector<std::string> keys(const std::vector<kv_record>& rs) {
  std::vector<std::string> out;
  for (auto& r : rs)
    out.push_back(r.key);
  return out;
}

} // namespace

CAF_TEST(every change gets the next revision) {
  kv_store s;
  CAF_CHECK_EQUAL(s.apply(put("a", "1")).revision, 1u);
  CAF_CHECK_EQUAL(s.apply(put("b", "1")).revision, 2u);
  CAF_CHECK_EQUAL(s.apply(put("a", "2")).revision, 3u);
  auto a = s.get("a");
  CAF_REQUIRE(a);
  CAF_CHECK_EQUAL(a->value, "2");
  CAF_CHECK_EQUAL(a->create_revision, 1u);
  CAF_CHECK_EQUAL(a->mod_revision, 3u);
  CAF_CHECK_EQUAL(a->version, 2u);
  CAF_CHECK(!s.get("missing"));
}

CAF_TEST(compare and set works on the mod revision) {
  kv_store s;
  CAF_CHECK(s.apply(put("k", "v1", 0u)).ok);   // create only if absent
  CAF_CHECK(!s.apply(put("k", "v2", 0u)).ok);  // it exists now
  CAF_CHECK_EQUAL(s.revision(), 1u);           // a failed CAS changes nothing
  CAF_CHECK(!s.apply(put("k", "v2", 7u)).ok);
  CAF_CHECK(s.apply(put("k", "v2", 1u)).ok);
  auto k2 = s.get("k");
  CAF_REQUIRE(k2);
  CAF_CHECK_EQUAL(k2->value, "v2");
  CAF_CHECK(!s.apply(del("k", 1u)).ok);
  CAF_CHECK(s.apply(del("k", 2u)).ok);
  CAF_CHECK(!s.get("k"));
  CAF_CHECK(!s.apply(del("k")).ok); // deleting nothing fails and costs no revision
  CAF_CHECK_EQUAL(s.revision(), 3u);
}

CAF_TEST(list by prefix in key order with paging) {
  kv_store s;
  for (auto k : {"app/c", "app/a", "other", "app/b", "apple", "app/d"})
    s.apply(put(k, "x"));
  CAF_CHECK_EQUAL(keys(s.list("app/", 100)),
                  (std::vector<std::string>{"app/a", "app/b", "app/c", "app/d"}));
  auto page1 = s.list("app/", 2);
  CAF_CHECK_EQUAL(keys(page1), (std::vector<std::string>{"app/a", "app/b"}));
  auto page2 = s.list("app/", 2, page1.back().key);
  CAF_CHECK_EQUAL(keys(page2), (std::vector<std::string>{"app/c", "app/d"}));
  CAF_CHECK(s.list("app/", 2, page2.back().key).empty());
  CAF_CHECK_EQUAL(s.list("", 100).size(), 6u);
}

CAF_TEST(a watcher resumes after the last revision it saw without gaps) {
  kv_store s;
  s.apply(put("w/a", "1"));
  s.apply(put("x/unrelated", "1"));
  s.apply(put("w/b", "1"));
  auto first = std::get<std::vector<kv_event>>(s.events_after("w/", 0));
  CAF_REQUIRE_EQUAL(first.size(), 2u);
  CAF_CHECK_EQUAL(first[1].record.key, "w/b");
  auto seen = first.back().record.mod_revision;
  // The watcher disconnects; changes continue; it comes back with the last revision it saw.
  s.apply(put("w/a", "2"));
  s.apply(del("w/b"));
  s.apply(put("w/c", "1"));
  auto rest = std::get<std::vector<kv_event>>(s.events_after("w/", seen));
  CAF_REQUIRE_EQUAL(rest.size(), 3u);
  CAF_CHECK(rest[0].type == kv_event::put);
  CAF_CHECK_EQUAL(rest[0].record.value, "2");
  CAF_CHECK(rest[1].type == kv_event::del);
  CAF_CHECK_EQUAL(rest[1].record.key, "w/b");
  CAF_CHECK_EQUAL(rest[2].record.key, "w/c");
  for (size_t i = 1; i < rest.size(); ++i)
    CAF_CHECK_GREATER(rest[i].record.mod_revision, rest[i - 1].record.mod_revision);
}

CAF_TEST(a watcher too far behind learns that it must read again) {
  kv_store s{5};
  for (int i = 0; i < 20; ++i)
    s.apply(put("k", std::to_string(i)));
  auto r = s.events_after("", 3);
  CAF_REQUIRE(std::holds_alternative<kv_store::compacted>(r));
  CAF_CHECK_EQUAL(std::get<kv_store::compacted>(r).oldest_available, 16u);
  auto ok = s.events_after("", 15);
  CAF_REQUIRE(std::holds_alternative<std::vector<kv_event>>(ok));
  CAF_CHECK_EQUAL(std::get<std::vector<kv_event>>(ok).size(), 5u);
}

CAF_TEST(a retried command applies once) {
  kv_store s;
  auto first = s.apply(put("k", "v", std::nullopt, 42, 1));
  auto retry = s.apply(put("k", "v", std::nullopt, 42, 1));
  CAF_CHECK(retry.duplicate);
  CAF_CHECK_EQUAL(retry.revision, first.revision);
  auto once = s.get("k");
  CAF_REQUIRE(once);
  CAF_CHECK_EQUAL(once->version, 1u);
  CAF_CHECK(!s.apply(put("k", "v2", std::nullopt, 42, 2)).duplicate);
  auto twice = s.get("k");
  CAF_REQUIRE(twice);
  CAF_CHECK_EQUAL(twice->version, 2u);
}

CAF_TEST(commands round trip and garbage is refused) {
  command c = put("key", std::string("v\0x", 3), 9u, 3, 4);
  command back;
  CAF_REQUIRE(decode(encode(c), back));
  auto& p = std::get<put_cmd>(back.body);
  CAF_CHECK_EQUAL(p.value, std::string("v\0x", 3));
  CAF_CHECK_EQUAL(*p.expected_revision, 9u);
  CAF_CHECK_EQUAL(back.client, 3u);
  CAF_CHECK(decode(encode(del("d")), back));
  CAF_CHECK(!std::get<del_cmd>(back.body).expected_revision);
  CAF_CHECK(!decode("\xff\xff\xff", back));
  CAF_CHECK(!decode(encode(put("", "v")), back)); // an empty key is refused
}

CAF_TEST(snapshot and restore give the same state and the same future) {
  std::mt19937 rng{11};
  auto random_cmd = [&] {
    auto k = "k" + std::to_string(rng() % 8);
    auto roll = rng() % 4;
    if (roll == 0)
      return del(k);
    if (roll == 1)
      return put(k, "v" + std::to_string(rng()), rng() % 5);
    return put(k, "v" + std::to_string(rng()), std::nullopt, rng() % 4, rng() % 50);
  };
  kv_store a{50};
  for (int i = 0; i < 300; ++i)
    a.apply(random_cmd());
  kv_store b{50}; // the history limit is part of the state machine: the same on every replica
  CAF_REQUIRE(b.restore(a.snapshot()));
  CAF_CHECK_EQUAL(b.snapshot(), a.snapshot());
  for (int i = 0; i < 300; ++i) {
    auto c = random_cmd();
    auto ra = a.apply(c);
    auto rb = b.apply(c);
    CAF_CHECK_EQUAL(ra.ok, rb.ok);
    CAF_CHECK_EQUAL(ra.revision, rb.revision);
    CAF_CHECK_EQUAL(ra.duplicate, rb.duplicate);
  }
  CAF_CHECK_EQUAL(a.snapshot(), b.snapshot());
  CAF_CHECK(!b.restore("\xff garbage"));
}
