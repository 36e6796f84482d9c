#include "nodes/node_cookie.hpp"

#include "actors/link/cookie.hpp"

#include <filesystem>

namespace troupe {

namespace fs = std::filesystem;

std::optional<config_error> find_node_cookie(const node_config& cfg, bool may_create,
                                             const std::string& maker,
                                             node_cookie& out) {
  std::string problem;
  auto use = [&](const std::string& file) {
    out.file = fs::absolute(file).string();
    out.cookie = read_cookie_file(file, problem);
  };
  if (!cfg.cluster_secret_file.empty()) {
    use(cfg.cluster_secret_file);
    if (!problem.empty())
      return config_error{"--cluster-secret-file", problem};
    return std::nullopt;
  }
  auto own = cfg.data_dir + "/cookie";
  if (fs::exists(own)) {
    use(own);
    if (!problem.empty())
      return config_error{"--data-dir", problem};
    return std::nullopt;
  }
  // The default data dirs of this host: a node started next to the first coordinator (same
  // directory, default --data-dir) finds its cookie with no flag.
  std::string found_in;
  std::string conflict;
  out.cookie = default_cookie(found_in, conflict);
  if (!conflict.empty())
    return config_error{"--cluster-secret-file", "two different cookies here, " + conflict
                                                   + ": give the one of this node's cluster"};
  if (!out.cookie.empty()) {
    out.file = fs::absolute(found_in).string();
    return std::nullopt;
  }
  if (!may_create)
    return config_error{"--cluster-secret-file",
                        "no cluster cookie: without TLS, a node joins only with the cluster's "
                        "cookie; give --cluster-secret-file FILE or $TROUPE_CLUSTER_SECRET_FILE "
                        "(" + maker + " makes one as <its data dir>/cookie)"};
  out.cookie = create_cookie_file(own, problem);
  if (!problem.empty())
    return config_error{"--data-dir", problem};
  out.file = fs::absolute(own).string();
  out.created = true;
  return std::nullopt;
}

} // namespace troupe
