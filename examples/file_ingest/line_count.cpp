#include "examples/file_ingest/file_ingest.hpp"

#include "actors/api/jobs.hpp"
#include "actors/api/set.hpp"

#include <caf/event_based_actor.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

namespace troupe::examples {

namespace {

/// Splits "a\tb\tc\td" into its fields.
std::vector<std::string> fields_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in{s};
  for (std::string f; std::getline(in, f, '\t');)
    out.push_back(f);
  return out;
}

/// Closes a descriptor (and so drops its lock) on every path out.
struct fd_guard {
  int fd;
  ~fd_guard() {
    if (fd >= 0)
      ::close(fd);
  }
};

/// Appends "<name>\t<lines>\n" to `output` unless a line of `name` is there: the effect keyed
/// by the file, so that an attempt that runs again (a retry, a fenced attempt that ran on)
/// does not add it twice. A line cut short by a crash is cut off first. "" or why not.
std::string append_once(const std::string& output, const std::string& name, size_t lines) {
  int fd = ::open(output.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return "cannot open " + output;
  fd_guard guard{fd};
  if (::flock(fd, LOCK_EX) != 0)
    return "cannot lock " + output;
  std::string text;
  char buf[65536];
  for (ssize_t n; (n = ::pread(fd, buf, sizeof buf, static_cast<off_t>(text.size()))) > 0;)
    text.append(buf, static_cast<size_t>(n));
  if (!text.empty() && text.back() != '\n') {
    text.resize(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
    if (::ftruncate(fd, static_cast<off_t>(text.size())) != 0)
      return "cannot repair " + output;
  }
  auto key = name + '\t';
  if (text.compare(0, key.size(), key) == 0 || text.find('\n' + key) != std::string::npos)
    return {}; // there already
  auto line = key + std::to_string(lines) + '\n';
  if (::pwrite(fd, line.data(), line.size(), static_cast<off_t>(text.size()))
        != static_cast<ssize_t>(line.size())
      || ::fsync(fd) != 0)
    return "cannot write " + output;
  return {};
}

} // namespace

caf::behavior line_count(caf::event_based_actor* self, context ctx) {
  return {
    [self, ctx](const event& ev) -> caf::result<std::string> {
      auto job = jobs::job_of(ev);
      auto f = fields_of(ev.payload);
      if (!job || f.size() != 4)
        return caf::make_error(caf::sec::invalid_argument,
                               std::string{"line-count runs the prospector's jobs: "
                                           "<file>\\t<path>\\t<output>\\t<set>"});
      auto &name = f[0], &path = f[1], &output = f[2], &set_name = f[3];
      std::ifstream in{path, std::ios::binary};
      if (!in)
        return caf::make_error(caf::sec::runtime_error, "cannot read " + path);
      size_t lines = 0;
      for (std::string line; std::getline(in, line);)
        ++lines;
      if (auto why = append_once(output, name, lines); !why.empty())
        return caf::make_error(caf::sec::runtime_error, why);
      // Then the file is recorded as processed: the prospectors skip it from now on, after a
      // restart too. Should this fail, the job fails and runs again: the line is there once.
      auto rp = self->make_response_promise<std::string>();
      troupe::set{set_name}.add(
        self, ctx, name, std::chrono::seconds(5),
        [rp, lines](bool) mutable { rp.deliver(std::to_string(lines) + " lines"); },
        [rp](const caf::error& err) mutable { rp.deliver(err); });
      return rp;
    },
    [self](jobs::fenced_atom, const std::string&, uint64_t) { self->quit(); },
  };
}

} // namespace troupe::examples
