#include "examples/file_ingest/file_ingest.hpp"

#include "actors/api/jobs.hpp"
#include "actors/api/tasks.hpp"

#include <caf/actor_ostream.hpp>
#include <caf/event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>

namespace troupe::examples {

namespace {

using scan_atom = caf::atom_constant<caf::atom("scan")>;

/// FNV-1a: the same on every worker (std::hash need not be).
uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s)
    h = (h ^ c) * 1099511628211ull;
  return h;
}

struct prospect {
  std::string dir, output, queue, set;
  std::chrono::milliseconds interval{200};
  tasks::task_info me;
  std::set<std::string> known;  // submitted, or in the set of processed files
  bool loaded = false;          // the set was read
  bool busy = false;            // a request is on its way
};

/// This partition's files in the directory that are not known yet (at most 1000).
std::vector<std::string> new_files(const prospect& p) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto& e : std::filesystem::directory_iterator{p.dir, ec}) {
    auto name = e.path().filename().string();
    if (name.empty() || name[0] == '.' || !e.is_regular_file(ec))
      continue;
    if (fnv1a(name) % p.me.count == p.me.partition && p.known.count(name) == 0)
      out.push_back(std::move(name));
  }
  std::sort(out.begin(), out.end());
  if (out.size() > 1000)
    out.resize(1000);
  return out;
}

void scan(caf::event_based_actor* self, const context& ctx, const std::shared_ptr<prospect>& p) {
  if (!p->loaded) {
    p->busy = true;
    self->request(ctx.node(), std::chrono::seconds(5), jobs_view_atom::value, p->set, "set")
      .then(
        [p](const std::string& view) {
          p->busy = false;
          auto j = nlohmann::json::parse(view, nullptr, false);
          if (j.is_discarded())
            return;
          for (auto& m : j["members"])
            p->known.insert(m.get<std::string>());
          p->loaded = true;
        },
        [p](const caf::error&) { p->busy = false; });
    return;
  }
  auto files = new_files(*p);
  if (files.empty())
    return;
  std::vector<std::string> ids, payloads;
  for (auto& f : files) {
    ids.push_back("file:" + f);
    payloads.push_back(f + '\t' + (std::filesystem::path{p->dir} / f).string() + '\t' + p->output
                       + '\t' + p->set);
  }
  p->busy = true;
  self->request(ctx.node(), std::chrono::seconds(10), jobs_cmd_atom::value,
                jobs::encode_submit(p->queue, ids, payloads))
    .then(
      [self, p, files](const std::vector<uint64_t>& outcomes, const std::vector<uint64_t>&) {
        p->busy = false;
        for (size_t i = 0; i < files.size() && i < outcomes.size(); ++i) {
          if (!jobs::refusal(outcomes[i], p->queue, files[i]))
            p->known.insert(files[i]); // durable now (or it was already)
          else
            caf::aout(self) << "file-prospector: " << files[i] << " was refused: queue '"
                            << p->queue << "' missing?\n";
        }
      },
      [p](const caf::error&) { p->busy = false; }); // tried again at the next scan
}

} // namespace

caf::behavior file_prospector(caf::event_based_actor* self, context ctx) {
  auto p = std::make_shared<prospect>();
  p->dir = ctx.get("dir");
  p->output = ctx.get("output");
  p->queue = ctx.get("queue", "ingest");
  p->set = ctx.get("set", "ingested");
  try {
    p->interval = std::chrono::milliseconds(std::clamp(std::stol(ctx.get("interval-ms", "200")), 10L, 60000L));
  } catch (const std::exception&) {
    // not a number: the default
  }
  auto me = tasks::task_of(ctx);
  if (!me || p->dir.empty() || p->output.empty()) {
    caf::aout(self) << "file-prospector: runs as a task with --config dir=DIR --config "
                       "output=FILE\n";
    self->quit(caf::make_error(caf::sec::invalid_argument,
                               std::string{"file-prospector needs a task, dir and output"}));
    return {};
  }
  p->me = *me;
  self->send(self, scan_atom::value);
  return {
    [self, ctx, p](scan_atom) {
      self->delayed_send(self, p->interval, scan_atom::value);
      // Only while this worker's lease holds: a worker cut off may have had this partition
      // placed elsewhere (submitting twice would be harmless, but it is no longer its work).
      if (!p->busy && ctx.may_serve())
        scan(self, ctx, p);
    },
    [self](jobs::fenced_atom, const std::string&, uint64_t) { self->quit(); },
  };
}

void register_file_ingest(actor_types& types) {
  types.add("file-prospector", file_prospector);
  types.add("line-count", line_count);
}

} // namespace troupe::examples
