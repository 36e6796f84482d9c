#include "actors/raft/raft_storage.hpp"

#include <isa-l/crc.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>

namespace troupe::raft {

uint32_t crc32c(const void* data, size_t size) {
  // ISA-L's crc32_iscsi is CRC32C without the final inversion.
  return ~crc32_iscsi(static_cast<unsigned char*>(const_cast<void*>(data)),
                      static_cast<int>(size), 0xFFFFFFFF);
}

namespace {

enum record_type : uint8_t {
  rec_entry = 1,
  rec_hard_state = 2,
  rec_snapshot = 3,
};

constexpr size_t header_size = 9;                     // u32 length, u32 crc, u8 type
constexpr uint32_t max_record = 256u << 20;           // bounds a corrupt length field
constexpr uint32_t snapshot_magic = 0x54525053;       // "SPRT"

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<char>(v >> (8 * i)));
}

void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<char>(v >> (8 * i)));
}

uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

uint64_t get_u64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

void put_record(std::string& out, record_type type, const std::string& payload) {
  std::string body;
  body.reserve(payload.size() + 1);
  body.push_back(static_cast<char>(type));
  body += payload;
  put_u32(out, static_cast<uint32_t>(body.size()));
  put_u32(out, crc32c(body.data(), body.size()));
  out += body;
}

std::string errno_text() {
  return std::strerror(errno);
}

storage_error io_error(const std::string& what) {
  return {storage_errc::io, what + ": " + errno_text()};
}

storage_error corrupt(const std::string& file, uint64_t offset, const std::string& what) {
  return {storage_errc::corrupt,
          file + " at byte " + std::to_string(offset) + ": " + what
            + " (the data is damaged; restore this node's data dir or replace the node)"};
}

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    auto w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool read_file(const std::string& path, std::string& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  out.clear();
  char buf[1 << 16];
  for (;;) {
    auto r = ::read(fd, buf, sizeof(buf));
    if (r < 0) {
      if (errno == EINTR)
        continue;
      ::close(fd);
      return false;
    }
    if (r == 0)
      break;
    out.append(buf, static_cast<size_t>(r));
  }
  ::close(fd);
  return true;
}

bool fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

std::string hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

/// Lists files in `dir` named <prefix><16 hex>[...]<suffix>, keyed by the number.
std::map<uint64_t, std::string> list(const std::string& dir, const std::string& prefix,
                                     const std::string& suffix) {
  std::map<uint64_t, std::string> out;
  if (auto* d = ::opendir(dir.c_str())) {
    while (auto* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name.size() < prefix.size() + 16 + suffix.size() || name.compare(0, prefix.size(), prefix) != 0
          || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
        continue;
      auto num = name.substr(prefix.size(), 16);
      if (num.find_first_not_of("0123456789abcdef") != std::string::npos)
        continue;
      out[std::stoull(num, nullptr, 16)] = dir + "/" + name;
    }
    ::closedir(d);
  }
  return out;
}

} // namespace

struct raft_storage::impl {
  std::string dir;
  storage_options opts;
  int fd = -1;
  uint64_t seq = 0;            // number of the open segment
  uint64_t seg_size = 0;
  std::string staged;
  hard_state hs;
  struct seg_info {
    std::string path;
    index_t max_index = 0;
  };
  std::map<uint64_t, seg_info> segments;
  std::map<index_t, std::string> snapshots;  // index -> file
  uint64_t bytes = 0;
  uint64_t syncs = 0;

  ~impl() {
    if (fd >= 0)
      ::close(fd);
  }

  storage_error open_segment(uint64_t n) {
    if (fd >= 0)
      ::close(fd);
    auto path = dir + "/wal-" + hex16(n) + ".log";
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
      return io_error("cannot open " + path);
    struct stat st {};
    ::fstat(fd, &st);
    seq = n;
    seg_size = static_cast<uint64_t>(st.st_size);
    segments[n].path = path;
    if (opts.fsync && !fsync_dir(dir))
      return io_error("cannot sync " + dir);
    return {};
  }

  std::string encode_hard_state(const hard_state& h) {
    std::string p;
    put_u64(p, h.term);
    put_u64(p, h.vote);
    put_u64(p, h.commit);
    std::string rec;
    put_record(rec, rec_hard_state, p);
    return rec;
  }
};

raft_storage::raft_storage(std::unique_ptr<impl> p) : impl_(std::move(p)) {
}

raft_storage::~raft_storage() = default;

storage_error raft_storage::open(const std::string& dir, const storage_options& opts,
                                 std::unique_ptr<raft_storage>& out, restored_state& state,
                                 recovery_report* report) {
  recovery_report local;
  auto& rep = report ? *report : local;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return {storage_errc::io, "cannot create " + dir + ": " + ec.message()};
  auto p = std::make_unique<impl>();
  p->dir = dir;
  p->opts = opts;
  state = restored_state{};

  // Leftovers of a snapshot write cut short by a crash are never trusted.
  for (auto& [n, path] : list(dir, "snapshot-", ".tmp"))
    ::unlink(path.c_str());

  // The newest snapshot whose checksum holds. A damaged newest snapshot is an error: falling
  // back silently could lose what only it contains once the log behind it was dropped.
  for (auto& [idx, path] : list(dir, "snapshot-", ".snap"))
    p->snapshots[idx] = path;
  if (!p->snapshots.empty()) {
    auto& path = p->snapshots.rbegin()->second;
    std::string bytes;
    if (!read_file(path, bytes))
      return io_error("cannot read " + path);
    if (bytes.size() < 24 || get_u32(bytes.data()) != snapshot_magic)
      return corrupt(path, 0, "not a snapshot file");
    auto crc = get_u32(bytes.data() + 4);
    if (crc32c(bytes.data() + 8, bytes.size() - 8) != crc)
      return corrupt(path, 4, "snapshot checksum mismatch");
    snapshot s;
    s.meta.index = get_u64(bytes.data() + 8);
    s.meta.term = get_u64(bytes.data() + 16);
    s.data = bytes.substr(24);
    state.snap = std::move(s);
  }
  auto snap_index = state.snap ? state.snap->meta.index : 0;
  auto snap_term = state.snap ? state.snap->meta.term : 0;

  // Replay every segment in order.
  auto segs = list(dir, "wal-", ".log");
  std::vector<entry> log;        // entries after the replay base, contiguous
  index_t base = 0;              // log holds base+1 ...
  bool marker_for_snapshot = false;
  size_t seg_no = 0;
  for (auto& [n, path] : segs) {
    ++seg_no;
    bool last_segment = seg_no == segs.size();
    std::string bytes;
    if (!read_file(path, bytes))
      return io_error("cannot read " + path);
    auto& info = p->segments[n];
    info.path = path;
    size_t off = 0;
    while (off < bytes.size()) {
      auto bad = [&](const std::string& what) -> std::optional<storage_error> {
        // A torn write leaves a damaged record only at the very end of the last segment.
        if (last_segment) {
          rep.truncated_bytes = bytes.size() - off;
          rep.truncated_file = path;
          if (::truncate(path.c_str(), static_cast<off_t>(off)) != 0)
            return io_error("cannot truncate " + path);
          bytes.resize(off);
          return std::nullopt;
        }
        return corrupt(path, off, what);
      };
      if (bytes.size() - off < header_size) {
        if (auto e = bad("record header cut short"))
          return *e;
        break;
      }
      auto len = get_u32(bytes.data() + off);
      auto crc = get_u32(bytes.data() + off + 4);
      if (len == 0) {
        // A file extended by a crash but never written reads as zeros: torn only if every
        // byte from here on is zero. A zero length before real data is corruption.
        bool zeros = std::all_of(bytes.begin() + static_cast<long>(off), bytes.end(),
                                 [](char c) { return c == 0; });
        if (!zeros)
          return corrupt(path, off, "zero record length");
        if (auto e = bad("zero-filled tail"))
          return *e;
        break;
      }
      if (bytes.size() - off - 8 < len) {
        // The record runs past the end of the file: an append cut short.
        if (auto e = bad("record cut short"))
          return *e;
        break;
      }
      if (len > max_record)
        return corrupt(path, off, "impossible record length " + std::to_string(len));
      const char* body = bytes.data() + off + 8;
      if (crc32c(body, len) != crc) {
        // The last record of the last segment may be torn; one followed by more data is not.
        if (last_segment && off + 8 + len == bytes.size()) {
          if (auto e = bad("checksum mismatch"))
            return *e;
          break;
        }
        return corrupt(path, off, "checksum mismatch");
      }
      auto type = static_cast<uint8_t>(body[0]);
      const char* pl = body + 1;
      size_t pl_len = len - 1;
      switch (type) {
        case rec_entry: {
          if (pl_len < 21 || pl_len != 21 + get_u32(pl + 17))
            return corrupt(path, off, "malformed entry record");
          entry e;
          e.term = get_u64(pl);
          e.index = get_u64(pl + 8);
          e.type = static_cast<entry_type>(pl[16]);
          e.data.assign(pl + 21, pl_len - 21);
          info.max_index = std::max(info.max_index, e.index);
          if (e.index <= base)
            break; // covered by a snapshot marker seen earlier
          // A rewritten index replaces everything from there on (Raft's log repair).
          while (!log.empty() && log.back().index >= e.index)
            log.pop_back();
          auto expect = log.empty() ? base + 1 : log.back().index + 1;
          // After compaction the oldest kept segment starts inside the snapshot's range.
          bool starts_in_snapshot = log.empty() && e.index <= std::max(base, snap_index) + 1;
          if (e.index != expect && !starts_in_snapshot)
            return corrupt(path, off, "gap in the log: entry " + std::to_string(e.index)
                                        + " follows " + std::to_string(expect - 1));
          log.push_back(std::move(e));
          break;
        }
        case rec_hard_state:
          if (pl_len != 24)
            return corrupt(path, off, "malformed hard state record");
          state.hard = {get_u64(pl), get_u64(pl + 8), get_u64(pl + 16)};
          break;
        case rec_snapshot: {
          if (pl_len != 17)
            return corrupt(path, off, "malformed snapshot record");
          auto idx = get_u64(pl);
          bool reset = pl[16] != 0;
          if (reset) {
            log.clear();
          } else {
            while (!log.empty() && log.front().index <= idx)
              log.erase(log.begin());
          }
          base = std::max(base, idx);
          if (!log.empty() && log.front().index != base + 1)
            log.clear();
          marker_for_snapshot = idx == snap_index;
          break;
        }
        default:
          return corrupt(path, off, "unknown record type " + std::to_string(type));
      }
      ++rep.records;
      off += 8 + len;
    }
    ++rep.segments;
  }

  if (base > snap_index)
    return {storage_errc::corrupt,
            dir + ": the log was compacted to index " + std::to_string(base)
              + " but no snapshot at or after it is readable"};
  if (state.snap && !marker_for_snapshot) {
    // Crash between writing the snapshot file and recording it in the log: the log after the
    // snapshot continues it only if the log holds the snapshot's own entry. Otherwise it is
    // an older, divergent log that the snapshot replaced.
    bool continues = false;
    for (auto& e : log)
      if (e.index == snap_index)
        continues = e.term == snap_term;
    if (!continues)
      log.clear();
  }
  // Entries the snapshot covers are not part of the log handed to Raft.
  std::vector<entry> entries;
  for (auto& e : log)
    if (e.index > snap_index)
      entries.push_back(std::move(e));
  if (!entries.empty() && entries.front().index != snap_index + 1)
    return {storage_errc::corrupt, dir + ": the log resumes at entry "
                                     + std::to_string(entries.front().index)
                                     + " after snapshot " + std::to_string(snap_index)};
  state.entries = std::move(entries);
  p->hs = state.hard;

  auto next = segs.empty() ? 1 : segs.rbegin()->first;
  if (auto e = p->open_segment(next))
    return e;
  if (segs.empty()) {
    p->staged = p->encode_hard_state(p->hs);
  }
  out.reset(new raft_storage(std::move(p)));
  return {};
}

void raft_storage::append(const std::vector<entry>& entries) {
  for (auto& e : entries) {
    std::string pl;
    put_u64(pl, e.term);
    put_u64(pl, e.index);
    pl.push_back(static_cast<char>(e.type));
    put_u32(pl, static_cast<uint32_t>(e.data.size()));
    pl += e.data;
    put_record(impl_->staged, rec_entry, pl);
    auto& info = impl_->segments[impl_->seq];
    info.max_index = std::max(info.max_index, e.index);
  }
}

void raft_storage::set_hard_state(const hard_state& hs) {
  impl_->hs = hs;
  impl_->staged += impl_->encode_hard_state(hs);
}

storage_error raft_storage::sync() {
  auto& p = *impl_;
  if (p.staged.empty())
    return {};
  if (p.seg_size > 0 && p.seg_size + p.staged.size() > p.opts.segment_bytes) {
    // A new segment starts with the current hard state, so older segments can be deleted
    // once a snapshot covers their entries without losing the term and vote.
    if (auto e = p.open_segment(p.seq + 1))
      return e;
    p.staged = p.encode_hard_state(p.hs) + p.staged;
  }
  if (!write_all(p.fd, p.staged.data(), p.staged.size()))
    return io_error("cannot write " + p.segments[p.seq].path);
  p.seg_size += p.staged.size();
  p.bytes += p.staged.size();
  p.staged.clear();
  if (p.opts.fsync) {
    if (::fdatasync(p.fd) != 0)
      return io_error("cannot sync " + p.segments[p.seq].path);
    ++p.syncs;
  }
  return {};
}

storage_error raft_storage::save_snapshot(const snapshot& s, bool reset_log) {
  auto& p = *impl_;
  // 1. The snapshot file, atomically.
  std::string bytes;
  put_u32(bytes, snapshot_magic);
  put_u32(bytes, 0);
  put_u64(bytes, s.meta.index);
  put_u64(bytes, s.meta.term);
  bytes += s.data;
  auto crc = crc32c(bytes.data() + 8, bytes.size() - 8);
  for (int i = 0; i < 4; ++i)
    bytes[4 + i] = static_cast<char>(crc >> (8 * i));
  auto name = p.dir + "/snapshot-" + hex16(s.meta.index) + "-" + hex16(s.meta.term);
  auto tmp = name + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return io_error("cannot create " + tmp);
  bool ok = write_all(fd, bytes.data(), bytes.size()) && (!p.opts.fsync || ::fsync(fd) == 0);
  ::close(fd);
  if (!ok)
    return io_error("cannot write " + tmp);
  if (::rename(tmp.c_str(), (name + ".snap").c_str()) != 0)
    return io_error("cannot rename " + tmp);
  if (p.opts.fsync && !fsync_dir(p.dir))
    return io_error("cannot sync " + p.dir);
  p.snapshots[s.meta.index] = name + ".snap";
  // 2. Its marker in the log, durably, before anything it covers is deleted.
  std::string pl;
  put_u64(pl, s.meta.index);
  put_u64(pl, s.meta.term);
  pl.push_back(reset_log ? 1 : 0);
  put_record(p.staged, rec_snapshot, pl);
  if (auto e = sync())
    return e;
  // 3. Drop what it made redundant.
  while (p.snapshots.size() > std::max<size_t>(1, p.opts.keep_snapshots)) {
    ::unlink(p.snapshots.begin()->second.c_str());
    p.snapshots.erase(p.snapshots.begin());
  }
  for (auto it = p.segments.begin(); it != p.segments.end();) {
    if (it->first != p.seq && (reset_log || it->second.max_index <= s.meta.index)) {
      ::unlink(it->second.path.c_str());
      it = p.segments.erase(it);
    } else {
      ++it;
    }
  }
  if (p.opts.fsync && !fsync_dir(p.dir))
    return io_error("cannot sync " + p.dir);
  return {};
}

uint64_t raft_storage::bytes_written() const {
  return impl_->bytes;
}

uint64_t raft_storage::syncs() const {
  return impl_->syncs;
}

} // namespace troupe::raft
