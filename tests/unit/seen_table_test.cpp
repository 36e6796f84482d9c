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
