// A node with run-once migrations: the stock troupe command line and actor types, plus three
// migrations that run, in order, on the main worker, once per cluster, before any deployment
// starts. They write to $TROUPE_EXAMPLE_MIGRATIONS_DIR (default: the worker's data dir):
//
//   001-stamp      appends "<node> epoch <E>" to migrations.log: not idempotent, so it must
//                  run exactly once (a second line would show it did not)
//   002-backfill   fills steps 1..N ($TROUPE_EXAMPLE_MIGRATION_STEPS, default 5; each takes
//                  $TROUPE_EXAMPLE_MIGRATION_STEP_MS, default 20) into steps.log, saving a
//                  checkpoint after each; idempotent: a step already in the file is not
//                  written again, so a resume after a crash writes each step once
//   003-check      fails while the file block-003 exists in the directory (an operator
//                  removes it, then runs `troupe ctl migrations retry`)
//
//   TROUPE_EXAMPLE_MIGRATIONS_DIR=/tmp/m troupe-migrations-example run --workers 3
//   troupe-migrations-example ctl --connect 127.0.0.1:8139 migrations
#include "examples/actors/examples.hpp"
#include "nodes/troupe_node.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace {

namespace fs = std::filesystem;

fs::path dir_of(const troupe::migration_context& ctx) {
  auto* env = std::getenv("TROUPE_EXAMPLE_MIGRATIONS_DIR");
  return env && *env ? fs::path{env} : fs::path{ctx.data_dir()};
}

uint32_t env_number(const char* name, uint32_t fallback) {
  auto* v = std::getenv(name);
  return v && *v ? static_cast<uint32_t>(std::stoul(v)) : fallback;
}

/// Appends `line` to `file`, flushed; false when it cannot.
bool append(const fs::path& file, const std::string& line) {
  std::ofstream out{file, std::ios::app};
  out << line << "\n";
  out.flush();
  return static_cast<bool>(out);
}

bool contains(const fs::path& file, const std::string& line) {
  std::ifstream in{file};
  std::string l;
  while (std::getline(in, l))
    if (l == line)
      return true;
  return false;
}

troupe::migration_result stamp(troupe::migration_context& ctx) {
  if (!ctx.still_main())
    return troupe::migration_result::interrupted();
  if (!append(dir_of(ctx) / "migrations.log",
              ctx.node() + " epoch " + std::to_string(ctx.epoch())))
    return troupe::migration_result::failed("cannot write migrations.log in "
                                            + dir_of(ctx).string());
  return troupe::migration_result::ok();
}

troupe::migration_result backfill(troupe::migration_context& ctx) {
  auto steps = env_number("TROUPE_EXAMPLE_MIGRATION_STEPS", 5);
  auto pause = std::chrono::milliseconds(env_number("TROUPE_EXAMPLE_MIGRATION_STEP_MS", 20));
  auto file = dir_of(ctx) / "steps.log";
  uint32_t from = ctx.checkpoint().empty() ? 0 : static_cast<uint32_t>(std::stoul(ctx.checkpoint()));
  append(dir_of(ctx) / "runs.log", ctx.node() + " from " + std::to_string(from) + " attempt "
                                     + std::to_string(ctx.attempt()));
  for (auto k = from + 1; k <= steps; ++k) {
    std::this_thread::sleep_for(pause);
    if (!ctx.still_main())
      return troupe::migration_result::interrupted();
    auto line = "step " + std::to_string(k);
    if (!contains(file, line) && !append(file, line))
      return troupe::migration_result::failed("cannot write " + file.string());
    if (!ctx.save(std::to_string(k)))
      return troupe::migration_result::interrupted();
  }
  return troupe::migration_result::ok();
}

troupe::migration_result check(troupe::migration_context& ctx) {
  auto block = dir_of(ctx) / "block-003";
  if (fs::exists(block))
    return troupe::migration_result::failed(block.string() + " exists");
  return troupe::migration_result::ok();
}

} // namespace

int main(int argc, char** argv) {
  troupe::node node{argc, argv};
  troupe::examples::register_examples(node.types());
  node.add_migration("001-stamp", stamp, /*idempotent=*/false);
  node.add_migration("002-backfill", backfill, /*idempotent=*/true);
  node.add_migration("003-check", check, /*idempotent=*/true);
  return node.run();
}
