// The at-least-once de-duplication table: what an instance remembers of the events it handled,
// and its text form that travels with a hand-over.
#define CAF_SUITE seen_table

#include <caf/test/unit_test.hpp>

#include "actors/vnodes/seen_table.hpp"

#include <random>
#include <set>

using namespace troupe;

CAF_TEST(it keeps the highest sequence numbers as a set that drops its lowest would) {
  // Against the std::set it replaced, with sequences mostly in order, some late and some
  // repeated, past the limit several times over.
  constexpr size_t limit = 64;
  seen_seqs seen{limit};
  std::set<uint64_t> model;
  std::mt19937_64 rng{7};
  uint64_t next = 1;
  for (int i = 0; i < 5000; ++i) {
    uint64_t seq = rng() % 8 == 0 && next > 100 ? next - 1 - rng() % 100 : next++;
    CAF_CHECK_EQUAL(seen.contains(seq), model.count(seq) > 0);
    seen.insert(seq);
    model.insert(seq);
    if (model.size() > limit)
      model.erase(model.begin());
    CAF_REQUIRE_EQUAL(seen.size(), model.size());
  }
  CAF_CHECK(std::equal(seen.begin(), seen.end(), model.begin(), model.end()));
  CAF_CHECK(!seen.contains(1));
  CAF_CHECK(seen.contains(*model.rbegin()));
}

CAF_TEST(its text form round trips and a malformed text keeps what came before the fault) {
  seen_table t;
  for (uint64_t s : {5, 3, 9})
    t[42].insert(s);
  t[7].insert(1);
  auto text = encode_seen(t);
  CAF_CHECK_EQUAL(text, "7:1,;42:3,5,9,;");
  auto back = decode_seen(text);
  CAF_REQUIRE_EQUAL(back.size(), 2u);
  CAF_CHECK(std::equal(back[42].begin(), back[42].end(), t[42].begin(), t[42].end()));
  auto cut = decode_seen("7:1,;42:3,x,9,;");
  CAF_CHECK_EQUAL(cut[7].size(), 1u);
  CAF_CHECK_EQUAL(cut[42].size(), 1u); // 3, then the fault
}

CAF_TEST(runs of consecutive numbers travel as ranges and an erased one breaks its run) {
  seen_table t;
  for (uint64_t s = 1; s <= 1000; ++s)
    t[9].insert(s);
  t[9].insert(1002);
  t[9].erase(500);
  auto text = encode_seen(t);
  CAF_CHECK_EQUAL(text, "9:1-499,501-1000,1002,;");
  auto back = decode_seen(text);
  CAF_CHECK(std::equal(back[9].begin(), back[9].end(), t[9].begin(), t[9].end()));
  CAF_CHECK(!back[9].contains(500));
  // A range past the limit keeps its highest numbers only, without walking the rest.
  auto wide = decode_seen("1:1-18446744073709551000,;");
  CAF_CHECK_EQUAL(wide[1].size(), seen_per_sender);
  CAF_CHECK(wide[1].contains(18446744073709551000u));
  CAF_CHECK_EQUAL(decode_seen("1:9-3,;")[1].size(), 0u); // backwards: malformed
}
