// The PID file of the top-level process: written at start, removed at exit. A file left by a
// dead process is stale and replaced; one naming a live troupe process stops the start.
#pragma once

#include <memory>
#include <string>

namespace troupe {

class pid_file {
public:
  /// Creates `path` holding this process's pid. Returns the problem, or "" on success.
  static std::string acquire(const std::string& path, std::unique_ptr<pid_file>& out);

  /// Removes the file if it still names this process.
  ~pid_file();

  pid_file(const pid_file&) = delete;
  pid_file& operator=(const pid_file&) = delete;

private:
  explicit pid_file(std::string path) : path_(std::move(path)) {
  }
  std::string path_;
};

} // namespace troupe
