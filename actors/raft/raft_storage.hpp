// Durable storage of one Raft node under <data-dir>/raft: an append-only write-ahead log in
// segments plus snapshot files. Every record carries a CRC32C; nothing is acknowledged before
// sync() returns (one write and one fdatasync for everything staged since the last sync, so a
// Ready with many proposals costs one fsync). Snapshots are written atomically (write, fsync,
// rename, fsync the directory).
//
// Recovery: a record cut short or failing its checksum at the very end of the last segment is
// a torn write from a crash: it is truncated away and reported. Any other bad record, or a gap
// in the log, is corruption: open() fails with the file and byte offset, and never skips data.
#pragma once

#include "protocols/raft/types.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace troupe::raft {

enum class storage_errc : uint8_t {
  none = 0,
  io,       // the OS refused (permissions, disk full, ...)
  corrupt,  // a record or snapshot fails its checks where a torn write cannot explain it
};

struct storage_error {
  storage_errc code = storage_errc::none;
  std::string message;  // names the file, and the offset for corruption
  explicit operator bool() const { return code != storage_errc::none; }
};

struct storage_options {
  size_t segment_bytes = 64 << 20;  // a new segment starts past this size
  bool fsync = true;                // off only for tests and benchmarks that say so
  size_t keep_snapshots = 2;
};

/// What open() found, for logs and tests.
struct recovery_report {
  size_t segments = 0;
  size_t records = 0;
  uint64_t truncated_bytes = 0;  // torn tail removed
  std::string truncated_file;
};

class raft_storage {
public:
  ~raft_storage();

  /// Opens (creating if needed) the storage in `dir` and replays it into `state`.
  static storage_error open(const std::string& dir, const storage_options& opts,
                            std::unique_ptr<raft_storage>& out, restored_state& state,
                            recovery_report* report = nullptr);

  /// Stages entries (replacing any stored entries at or after entries.front().index).
  void append(const std::vector<entry>& entries);

  /// Stages a new hard state.
  void set_hard_state(const hard_state& hs);

  /// Writes everything staged and makes it durable.
  storage_error sync();

  /// Durably stores a snapshot and drops what it covers: older snapshots past keep_snapshots,
  /// and segments whose entries it all contains. `reset_log`: the snapshot replaces the whole
  /// log (a follower installing its leader's snapshot); otherwise it covers a prefix and the
  /// entries after it stay (this node compacting its own log).
  storage_error save_snapshot(const snapshot& s, bool reset_log);

  /// Returns the number of bytes written since open (for metrics and benchmarks).
  uint64_t bytes_written() const;

  /// Returns the number of fsyncs issued since open.
  uint64_t syncs() const;

private:
  struct impl;
  explicit raft_storage(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// Returns the CRC32C (Castagnoli) of `data`, as used in every record.
uint32_t crc32c(const void* data, size_t size);

} // namespace troupe::raft
