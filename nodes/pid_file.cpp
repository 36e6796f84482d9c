#include "nodes/pid_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace troupe {

namespace {

int read_pid(const std::string& path) {
  std::ifstream in{path};
  int pid = 0;
  if (!(in >> pid))
    return 0;
  return pid;
}

/// True when `pid` is a live process that is a troupe binary (pids get reused: a stale file
/// must not be "protected" by an unrelated process that happens to have the old pid).
bool is_live_troupe(int pid) {
  if (pid <= 0 || pid == getpid())
    return false;
  if (kill(pid, 0) != 0 && errno != EPERM)
    return false;
  std::ifstream cmd{"/proc/" + std::to_string(pid) + "/cmdline"};
  std::stringstream buf;
  buf << cmd.rdbuf();
  return buf.str().find("troupe") != std::string::npos;
}

} // namespace

std::string pid_file::acquire(const std::string& path, std::unique_ptr<pid_file>& out) {
  if (auto pid = read_pid(path); is_live_troupe(pid))
    return "'" + path + "' names a running troupe process (pid " + std::to_string(pid)
           + "): stop it first, or remove the file if that process is not a troupe node";
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return "cannot remove stale '" + path + "': " + std::strerror(errno);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    return "cannot create '" + path + "': " + std::strerror(errno);
  auto text = std::to_string(getpid()) + "\n";
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size())
            && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return "cannot write '" + path + "': " + std::strerror(errno);
  }
  out.reset(new pid_file(path));
  return {};
}

pid_file::~pid_file() {
  if (read_pid(path_) == getpid())
    ::unlink(path_.c_str());
}

} // namespace troupe
