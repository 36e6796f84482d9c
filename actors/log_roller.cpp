#include "actors/inspect/console_errc.hpp"
#include "actors/log_roller.hpp"

#include "actors/wire.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

namespace troupe {

namespace {

/// Opens `path` for appending and takes an exclusive lock on it: one writer per file.
int open_locked(const std::string& path, std::string& problem) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    problem = "cannot open '" + path + "': " + std::strerror(errno);
    return -1;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    problem = "'" + path + "' is being written by another process";
    ::close(fd);
    return -1;
  }
  return fd;
}

struct roller_state {
  log_roller_config cfg;
  int fd = -1;
  uint64_t size = 0;
  uint64_t lines = 0;
  uint64_t bytes = 0;
  uint64_t rotations = 0;
  uint64_t errors = 0;
  std::string buf;

  ~roller_state() {
    if (fd >= 0)
      ::close(fd);
  }

  /// The last resort when the file fails: stderr, so the lines are not lost silently.
  void fallback(const std::string& what) {
    ++errors;
    std::cerr << "log-roller: " << what << "; this batch goes to stderr\n" << buf;
  }

  void write_all() {
    size_t done = 0;
    while (done < buf.size()) {
      auto n = ::write(fd, buf.data() + done, buf.size() - done);
      if (n < 0) {
        if (errno == EINTR)
          continue;
        buf.erase(0, done);
        fallback(std::string{"cannot write "} + cfg.path + ": " + std::strerror(errno));
        buf.clear();
        return;
      }
      done += static_cast<size_t>(n);
    }
    size += buf.size();
    bytes += buf.size();
    buf.clear();
  }

  bool rotate() {
    if (cfg.max_files == 0) {
      if (::ftruncate(fd, 0) != 0)
        return false;
      size = 0;
      ++rotations;
      return true;
    }
    for (uint32_t k = cfg.max_files; k >= 1; --k) {
      auto from = k == 1 ? cfg.path : cfg.path + "." + std::to_string(k - 1);
      auto to = cfg.path + "." + std::to_string(k);
      if (::access(from.c_str(), F_OK) == 0)
        std::rename(from.c_str(), to.c_str()); // over the oldest: it is dropped
    }
    std::string problem;
    int nfd = open_locked(cfg.path, problem);
    if (nfd < 0) {
      ++errors;
      std::cerr << "log-roller: " << problem << "; still writing the rotated file\n";
      return false;
    }
    ::close(fd);
    fd = nfd;
    size = 0;
    ++rotations;
    return true;
  }

  static inline const char* name = "troupe.log_roller";
};

using roller_actor = log_roller_actor::stateful_pointer<roller_state>;

log_roller_actor::behavior_type roller(roller_actor self, log_roller_config cfg, int fd,
                                       uint64_t size) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.fd = fd;
  st.size = size;
  return {
    [self](log_lines_atom, const std::vector<std::string>& lines) {
      auto& st = self->state;
      for (auto& l : lines) {
        st.buf += l;
        st.buf += '\n';
      }
      st.lines += lines.size();
      st.write_all();
      if (st.size >= st.cfg.max_bytes)
        st.rotate();
    },
    [self](log_rotate_atom) -> caf::result<std::string> {
      auto& st = self->state;
      if (!st.rotate())
        return caf::make_error(console_errc::failed,
                               "cannot rotate " + st.cfg.path + " (see its log)");
      return nlohmann::json{{"file", st.cfg.path}, {"rotations", st.rotations}}.dump();
    },
    [self](metrics_atom) -> metrics_result {
      auto& st = self->state;
      return {
        std::vector<std::string>{"troupe_log_lines_written_total", "troupe_log_bytes_written_total",
                                 "troupe_log_rotations_total", "troupe_log_write_errors_total"},
        std::vector<uint64_t>{st.lines, st.bytes, st.rotations, st.errors}};
    },
  };
}

} // namespace

log_roller_actor spawn_log_roller(caf::actor_system& sys, const log_roller_config& cfg,
                            std::string& problem) {
  int fd = open_locked(cfg.path, problem);
  if (fd < 0)
    return {};
  struct stat sb {};
  uint64_t size = ::fstat(fd, &sb) == 0 ? static_cast<uint64_t>(sb.st_size) : 0;
  return sys.spawn(roller, cfg, fd, size);
}

} // namespace troupe
