#define CAF_SUITE raft_storage
#include <caf/test/unit_test.hpp>

#include "actors/raft/raft_storage.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace troupe::raft;
namespace fs = std::filesystem;

namespace {

struct fixture {
  std::string dir;
  storage_options opts;

  fixture() {
    dir = (fs::temp_directory_path() / ("troupe-storage-" + std::to_string(getpid()) + "-"
                                        + std::to_string(counter()++)))
            .string();
    fs::remove_all(dir);
    opts.fsync = false; // these tests check formats and recovery, not the disk
  }
  ~fixture() { fs::remove_all(dir); }

  static int& counter() {
    static int n = 0;
    return n;
  }

  std::unique_ptr<raft_storage> open(restored_state& st, recovery_report* rep = nullptr) {
    std::unique_ptr<raft_storage> s;
    auto err = raft_storage::open(dir, opts, s, st, rep);
    if (err)
      CAF_FAIL("open failed: " << err.message);
    return s;
  }

  storage_error try_open(restored_state& st) {
    std::unique_ptr<raft_storage> s;
    return raft_storage::open(dir, opts, s, st);
  }

  static std::vector<entry> entries(index_t from, index_t to, term_t term) {
    std::vector<entry> out;
    for (auto i = from; i <= to; ++i)
      out.push_back(entry{term, i, entry_type::normal, "cmd-" + std::to_string(i)});
    return out;
  }

  std::vector<std::string> files(const std::string& suffix) {
    std::vector<std::string> out;
    for (auto& e : fs::directory_iterator(dir))
      if (e.path().string().size() >= suffix.size()
          && e.path().string().compare(e.path().string().size() - suffix.size(), suffix.size(),
                                       suffix)
               == 0)
        out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string last_segment() { return files(".log").back(); }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(raft_storage_tests, fixture)

CAF_TEST(entries and hard state survive a reopen) {
  {
    restored_state st;
    auto s = open(st);
    CAF_CHECK(st.entries.empty());
    auto es = entries(1, 100, 1);
    es[4].type = entry_type::noop;
    es[5].data = std::string("bin\0ary", 7);
    s->append(es);
    s->set_hard_state({3, 2, 90});
    CAF_REQUIRE(!s->sync());
  }
  restored_state st;
  open(st);
  CAF_REQUIRE_EQUAL(st.entries.size(), 100u);
  CAF_CHECK_EQUAL(st.entries[99].index, 100u);
  CAF_CHECK(st.entries[4].type == entry_type::noop);
  CAF_CHECK_EQUAL(st.entries[5].data, std::string("bin\0ary", 7));
  CAF_CHECK(st.hard == (hard_state{3, 2, 90}));
}

CAF_TEST(a rewritten index replaces the rest of the log) {
  {
    restored_state st;
    auto s = open(st);
    s->append(entries(1, 10, 1));
    s->sync();
    s->append(entries(6, 8, 2)); // the leader repaired our log from 6 on
    s->sync();
  }
  restored_state st;
  open(st);
  CAF_REQUIRE_EQUAL(st.entries.size(), 8u);
  CAF_CHECK_EQUAL(st.entries[4].term, 1u);
  CAF_CHECK_EQUAL(st.entries[5].term, 2u);
  CAF_CHECK_EQUAL(st.entries.back().index, 8u);
}

CAF_TEST(everything staged goes out in one fsync) {
  opts.fsync = true;
  restored_state st;
  auto s = open(st);
  s->sync(); // the initial hard state
  auto before = s->syncs();
  for (index_t i = 1; i <= 500; ++i)
    s->append(entries(i, i, 1));
  s->set_hard_state({1, 1, 0});
  CAF_REQUIRE(!s->sync());
  CAF_CHECK_EQUAL(s->syncs() - before, 1u);
  CAF_REQUIRE(!s->sync()); // nothing staged: no fsync
  CAF_CHECK_EQUAL(s->syncs() - before, 1u);
}

CAF_TEST(a torn tail is truncated and the rest recovered) {
  {
    restored_state st;
    auto s = open(st);
    s->append(entries(1, 20, 1));
    s->sync();
  }
  auto seg = last_segment();
  auto size = fs::file_size(seg);
  fs::resize_file(seg, size - 5); // the crash cut the last record short
  restored_state st;
  recovery_report rep;
  open(st, &rep);
  CAF_CHECK_EQUAL(st.entries.size(), 19u);
  CAF_CHECK_GREATER(rep.truncated_bytes, 0u);
  CAF_CHECK_EQUAL(rep.truncated_file, seg);
  // The file was repaired: the next open is clean, and appends continue after entry 19.
  {
    restored_state again;
    recovery_report rep2;
    auto s = open(again, &rep2);
    CAF_CHECK_EQUAL(rep2.truncated_bytes, 0u);
    s->append(entries(20, 21, 1));
    s->sync();
  }
  restored_state last;
  open(last);
  CAF_CHECK_EQUAL(last.entries.size(), 21u);
}

CAF_TEST(a last record with a bad checksum is a torn write) {
  {
    restored_state st;
    auto s = open(st);
    s->append(entries(1, 5, 1));
    s->sync();
  }
  auto seg = last_segment();
  {
    std::fstream f{seg, std::ios::in | std::ios::out | std::ios::binary};
    f.seekp(-3, std::ios::end);
    f.put('X');
  }
  restored_state st;
  recovery_report rep;
  open(st, &rep);
  CAF_CHECK_EQUAL(st.entries.size(), 4u);
  CAF_CHECK_GREATER(rep.truncated_bytes, 0u);
}

CAF_TEST(a zero filled tail is a torn write) {
  {
    restored_state st;
    auto s = open(st);
    s->append(entries(1, 5, 1));
    s->sync();
  }
  {
    std::ofstream f{last_segment(), std::ios::app | std::ios::binary};
    f << std::string(4096, '\0');
  }
  restored_state st;
  open(st);
  CAF_CHECK_EQUAL(st.entries.size(), 5u);
}

CAF_TEST(corruption before the tail is a loud error naming file and offset) {
  {
    restored_state st;
    auto s = open(st);
    s->append(entries(1, 20, 1));
    s->sync();
  }
  auto seg = last_segment();
  auto size = fs::file_size(seg);
  {
    std::fstream f{seg, std::ios::in | std::ios::out | std::ios::binary};
    f.seekp(static_cast<std::streamoff>(size / 2));
    f.put('\x55');
    f.put('\x55');
  }
  restored_state st;
  auto err = try_open(st);
  CAF_CHECK(err.code == storage_errc::corrupt);
  CAF_CHECK(err.message.find(seg) != std::string::npos);
  CAF_CHECK(err.message.find("at byte ") != std::string::npos);
  CAF_CHECK_EQUAL(fs::file_size(seg), size); // nothing was truncated or skipped
}

CAF_TEST(corruption in an older segment is an error too) {
  opts.segment_bytes = 2048;
  {
    restored_state st;
    auto s = open(st);
    for (index_t i = 1; i <= 200; ++i) {
      s->append(entries(i, i, 1));
      s->sync();
    }
  }
  auto segs = files(".log");
  CAF_REQUIRE_GREATER(segs.size(), 3u);
  {
    std::fstream f{segs[1], std::ios::in | std::ios::out | std::ios::binary};
    f.seekp(-4, std::ios::end); // even its very last record: it is not the log's tail
    f.put('\x01');
  }
  restored_state st;
  auto err = try_open(st);
  CAF_CHECK(err.code == storage_errc::corrupt);
  CAF_CHECK(err.message.find(segs[1]) != std::string::npos);
}

CAF_TEST(a snapshot compacts the log and old segments go away) {
  opts.segment_bytes = 4096;
  {
    restored_state st;
    auto s = open(st);
    for (index_t i = 1; i <= 300; ++i) {
      s->append(entries(i, i, 2));
      s->sync();
    }
    s->set_hard_state({2, 1, 300});
    s->sync();
    auto before = files(".log").size();
    CAF_REQUIRE(!s->save_snapshot(snapshot{{250, 2}, "state@250"}, false));
    CAF_CHECK_LESS(files(".log").size(), before);
  }
  restored_state st;
  open(st);
  CAF_REQUIRE(st.snap.has_value());
  CAF_CHECK_EQUAL(st.snap->meta.index, 250u);
  CAF_CHECK_EQUAL(st.snap->data, "state@250");
  CAF_REQUIRE_EQUAL(st.entries.size(), 50u);
  CAF_CHECK_EQUAL(st.entries.front().index, 251u);
  CAF_CHECK(st.hard == (hard_state{2, 1, 300})); // the term and vote outlive old segments
}

CAF_TEST(an installed snapshot replaces a divergent log) {
  {
    restored_state st;
    auto s = open(st);
    s->append(entries(1, 50, 1)); // uncommitted entries of an old term
    s->sync();
    CAF_REQUIRE(!s->save_snapshot(snapshot{{30, 3}, "leader@30"}, true));
  }
  restored_state st;
  open(st);
  CAF_REQUIRE(st.snap.has_value());
  CAF_CHECK_EQUAL(st.snap->meta.term, 3u);
  CAF_CHECK(st.entries.empty()); // 31..50 of term 1 must not come back behind the snapshot
}

CAF_TEST(a crash between snapshot file and marker keeps only a log that continues it) {
  auto write_snapshot_file = [&](index_t idx, term_t term) {
    // What save_snapshot writes before its marker, and nothing more.
    std::unique_ptr<raft_storage> s;
    restored_state st;
    auto other = dir + "-other";
    fs::remove_all(other);
    raft_storage::open(other, opts, s, st);
    s->save_snapshot(snapshot{{idx, term}, "snap"}, false);
    for (auto& e : fs::directory_iterator(other))
      if (e.path().extension() == ".snap")
        fs::copy_file(e.path(), fs::path{dir} / e.path().filename());
    fs::remove_all(other);
  };
  {
    restored_state st;
    auto s = open(st);
    s->append(entries(1, 50, 1));
    s->sync();
  }
  write_snapshot_file(40, 1); // matches entry 40: the log after it is valid
  {
    restored_state st;
    open(st);
    CAF_CHECK_EQUAL(st.snap->meta.index, 40u);
    CAF_CHECK_EQUAL(st.entries.size(), 10u);
  }
  write_snapshot_file(45, 7); // term 7 at 45: the log here diverged from it
  restored_state st;
  open(st);
  CAF_CHECK_EQUAL(st.snap->meta.index, 45u);
  CAF_CHECK(st.entries.empty());
}

CAF_TEST(a damaged snapshot is an error and a leftover temp file is ignored) {
  {
    restored_state st;
    auto s = open(st);
    s->append(entries(1, 10, 1));
    s->sync();
    s->save_snapshot(snapshot{{10, 1}, "ten"}, false);
  }
  std::ofstream{dir + "/snapshot-00000000000000ff-0000000000000001.tmp"} << "half written";
  {
    restored_state st;
    open(st);
    CAF_CHECK_EQUAL(st.snap->data, "ten");
    CAF_CHECK(files(".tmp").empty());
  }
  auto snap = files(".snap").back();
  {
    std::fstream f{snap, std::ios::in | std::ios::out | std::ios::binary};
    f.seekp(-1, std::ios::end);
    f.put('!');
  }
  restored_state st;
  auto err = try_open(st);
  CAF_CHECK(err.code == storage_errc::corrupt);
  CAF_CHECK(err.message.find(snap) != std::string::npos);
}

CAF_TEST(crc32c matches the standard check value) {
  CAF_CHECK_EQUAL(crc32c("123456789", 9), 0xE3069283u);
}

CAF_TEST_FIXTURE_SCOPE_END()
