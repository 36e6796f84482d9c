#include "tests/integration/harness.hpp"

#include "actors/link/cookie.hpp"

#include <httplib.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace troupe::it {

namespace {

// Become a subreaper before any test starts a process.
const bool subreaper = [] { return prctl(PR_SET_CHILD_SUBREAPER, 1) == 0; }();

bool port_free(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

int decode_status(int status) {
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return -1;
}

pid_t spawn_argv(std::vector<std::string> argv_s, const std::string& out_path,
                 const std::string& err_path, const std::string& cwd = {},
                 const std::string& in_path = "/dev/null") {
  std::vector<char*> argv;
  for (auto& a : argv_s)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  auto parent = getpid();
  // fork, not posix_spawn: the child asks the kernel to SIGKILL it when this test process
  // dies, so that a failed CAF_REQUIRE (which calls abort(), skipping every destructor) or a
  // CTest timeout leaves no troupe process behind. Between fork and exec only
  // async-signal-safe calls.
  pid_t pid = fork();
  if (pid < 0)
    throw std::runtime_error("cannot start " + argv_s[0]);
  if (pid == 0) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
      _exit(127);
    int in = open(in_path.c_str(), O_RDONLY);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0
        || dup2(err, 2) < 0)
      _exit(127);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0)
      _exit(127);
    execvp(argv_s[0].c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

pid_t spawn_troupe(const std::vector<std::string>& args, const std::string& out_path,
                   const std::string& err_path, const std::string& cwd = {},
                   const std::string& in_path = "/dev/null", const std::string& binary = {}) {
  std::vector<std::string> argv_s{binary.empty() ? std::string{TROUPE_BIN} : binary};
  auto all = with_test_tls(args);
  argv_s.insert(argv_s.end(), all.begin(), all.end());
  return spawn_argv(std::move(argv_s), out_path, err_path, cwd, in_path);
}

std::string slurp(const std::string& path) {
  std::ifstream in{path};
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

} // namespace

std::string test_cookie_file() {
  static const std::string file = [] {
    if (auto* given = std::getenv(cookie_env); given && *given)
      return std::string{given};
    namespace fs = std::filesystem;
    auto dir = fs::path{TROUPE_TEST_TMP} / ("cookie-" + std::to_string(getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    auto path = (dir / "cookie").string();
    std::string problem;
    if (create_cookie_file(path, problem).empty())
      throw std::runtime_error("the test cookie: " + problem);
    ::setenv(cookie_env, path.c_str(), 1);
    return path;
  }();
  return file;
}

std::string test_cookie() {
  std::string problem;
  auto cookie = read_cookie_file(test_cookie_file(), problem);
  if (cookie.empty())
    throw std::runtime_error("the test cookie: " + problem);
  return cookie;
}

uint16_t free_port_pair() {
  test_tls_dir(); // in TLS test mode, the clients' files are set before any client runs
  test_cookie_file(); // and the cookie every node and client shares
  static std::mt19937 rng{static_cast<uint32_t>(getpid())};
  // A port is free until the process it is for binds it: never hand out the same pair twice in
  // one test process (three coordinators once got the same port, one time in a few thousand).
  static std::set<uint16_t> handed;
  // Below the kernel's ephemeral range (32768 and up), where workers started with port 0 get
  // their ports: a port chosen here cannot be taken by one of them a moment later.
  for (int i = 0; i < 1000; ++i) {
    auto p = static_cast<uint16_t>(20000 + rng() % 12000);
    if (handed.count(p) || handed.count(static_cast<uint16_t>(p + 1)))
      continue;
    if (port_free(p) && port_free(p + 1)) {
      handed.insert(p);
      handed.insert(static_cast<uint16_t>(p + 1));
      return p;
    }
  }
  throw std::runtime_error("no free port pair on 127.0.0.1");
}

std::string temp_dir(const std::string& test_name) {
  test_cookie_file();
  namespace fs = std::filesystem;
  auto dir = fs::path{TROUPE_TEST_TMP} / (test_name + "-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

bool wait_until(const std::function<bool()>& pred, ms timeout, ms poll) {
  auto deadline = clock::now() + timeout;
  for (;;) {
    if (pred())
      return true;
    if (clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(poll);
  }
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in{path};
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1))
    ++n;
  return n;
}

bool pid_alive(pid_t pid) {
  if (pid <= 0 || ::kill(pid, 0) != 0)
    return false;
  std::ifstream stat{"/proc/" + std::to_string(pid) + "/stat"};
  std::string content;
  std::getline(stat, content);
  auto close = content.rfind(')');
  return close == std::string::npos || close + 2 >= content.size() || content[close + 2] != 'Z';
}

void reap_strays() {
  int status = 0;
  for (int i = 0; i < 1000 && waitpid(-1, &status, WNOHANG) > 0; ++i) {
  }
}

process::process(std::vector<std::string> args, std::string log_path, std::string cwd,
                 std::string in_path, std::string binary)
  : log_path_(std::move(log_path)) {
  test_cookie_file();
  pid_ = spawn_troupe(args, log_path_, log_path_, cwd, in_path, binary);
}

process::~process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    wait_exit(5s);
  }
  reap_strays();
}

void process::signal(int sig) const {
  if (pid_ > 0)
    ::kill(pid_, sig);
}

bool process::stopped() const {
  std::ifstream in{"/proc/" + std::to_string(pid_) + "/stat"};
  std::string line;
  std::getline(in, line);
  auto r = line.rfind(')'); // "pid (comm) state ...": comm may hold anything
  return r != std::string::npos && r + 2 < line.size() && line[r + 2] == 'T';
}

std::optional<int> process::wait_exit(ms timeout) {
  if (exit_code_)
    return exit_code_;
  auto deadline = clock::now() + timeout;
  for (;;) {
    int status = 0;
    auto rc = waitpid(pid_, &status, WNOHANG);
    if (rc == pid_) {
      exit_code_ = decode_status(status);
      return exit_code_;
    }
    if (clock::now() >= deadline)
      return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
}

bool process::running() {
  return !wait_exit(0ms).has_value();
}

std::string process::log() const {
  return slurp(log_path_);
}

run_result run_troupe(const std::vector<std::string>& args, ms timeout) {
  return run_troupe_input(args, "/dev/null", timeout);
}

namespace {

run_result run_argv(std::vector<std::string> argv, const std::string& in_path, ms timeout) {
  static int counter = 0;
  auto base = std::string{TROUPE_TEST_TMP} + "/run-" + std::to_string(getpid()) + "-"
              + std::to_string(++counter);
  std::filesystem::create_directories(TROUPE_TEST_TMP);
  auto out_path = base + ".out";
  auto err_path = base + ".err";
  auto pid = spawn_argv(std::move(argv), out_path, err_path, {}, in_path);
  run_result r;
  auto deadline = clock::now() + timeout;
  for (;;) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      r.code = decode_status(status);
      break;
    }
    if (clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      r.code = -1; // timed out: the caller's check on the code fails loudly
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  std::filesystem::remove(out_path);
  std::filesystem::remove(err_path);
  return r;
}

} // namespace

run_result run_troupe_input(const std::vector<std::string>& args, const std::string& in_path,
                            ms timeout) {
  std::vector<std::string> argv{TROUPE_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_argv(std::move(argv), in_path, timeout);
}

run_result run_program(const std::vector<std::string>& argv, ms timeout) {
  return run_argv(argv, "/dev/null", timeout);
}

std::optional<nlohmann::json> http_status(uint16_t http_port) {
  httplib::Client cli{"127.0.0.1", http_port};
  cli.set_connection_timeout(0, 300'000);
  cli.set_read_timeout(3, 0);
  auto res = cli.Get("/api/status");
  if (!res || res->status != 200)
    return std::nullopt;
  try {
    return nlohmann::json::parse(res->body);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

uint64_t raft_term_of(uint16_t http_port, const std::string& name) {
  auto st = http_status(http_port);
  if (!st)
    return 0;
  auto m = member(*st, name);
  return m && m->contains("raft") && m->at("raft").is_object()
           ? m->at("raft").value("term", uint64_t{0})
           : 0;
}

std::string test_tls_dir() {
  static const std::string dir = [] {
    auto* on = std::getenv("TROUPE_TEST_TLS");
    if (!on || !*on)
      return std::string{};
    auto d = temp_dir("test-tls-ca");
    auto made = run_program({std::string{TROUPE_SOURCE_DIR} + "/scripts/certs.sh", d, "operator"},
                            30s);
    if (made.code != 0)
      throw std::runtime_error("TROUPE_TEST_TLS: scripts/certs.sh failed: " + made.err);
    // Every client of this process (run_troupe, in-process clients) shows the operator's.
    ::setenv("TROUPE_TLS_CA", (d + "/ca.pem").c_str(), 1);
    ::setenv("TROUPE_TLS_CERT", (d + "/operator.pem").c_str(), 1);
    ::setenv("TROUPE_TLS_KEY", (d + "/operator.key").c_str(), 1);
    return d;
  }();
  return dir;
}

std::vector<std::string> with_test_tls(std::vector<std::string> args) {
  auto dir = test_tls_dir();
  if (dir.empty() || args.empty() || args.front() != "run")
    return args;
  std::string name;
  for (size_t i = 1; i < args.size(); ++i)
    if (args[i].rfind("--name=", 0) == 0)
      name = args[i].substr(7);
    else if (args[i] == "--name" && i + 1 < args.size())
      name = args[i + 1];
  if (name.empty())
    throw std::runtime_error("TROUPE_TEST_TLS: a node started without --name has no certificate");
  if (!std::filesystem::exists(dir + "/" + name + ".pem")) {
    bool worker = std::find(args.begin(), args.end(), "--worker") != args.end();
    auto made = run_program({std::string{TROUPE_SOURCE_DIR} + "/scripts/certs.sh", dir,
                             worker ? "--worker" : "--coordinator", name},
                            30s);
    if (made.code != 0)
      throw std::runtime_error("TROUPE_TEST_TLS: no certificate for " + name + ": " + made.err);
  }
  args.push_back("--tls-ca=" + dir + "/ca.pem");
  args.push_back("--tls-cert=" + dir + "/" + name + ".pem");
  args.push_back("--tls-key=" + dir + "/" + name + ".key");
  return args;
}

double metric_in(const std::string& text, const std::string& name_and_labels) {
  auto at = text.find("\n" + name_and_labels + " ");
  if (at == std::string::npos)
    return -1;
  return std::stod(text.substr(at + name_and_labels.size() + 2));
}

double metric_of(uint16_t http_port, const std::string& name_and_labels) {
  httplib::Client cli{"127.0.0.1", http_port};
  cli.set_connection_timeout(0, 300'000);
  cli.set_read_timeout(3, 0);
  auto res = cli.Get("/metrics");
  return res && res->status == 200 ? metric_in(res->body, name_and_labels) : -1;
}

std::optional<nlohmann::json> member(const nlohmann::json& status, const std::string& name) {
  for (auto& m : status.at("members"))
    if (m.at("name") == name)
      return m;
  return std::nullopt;
}

size_t count_state(const nlohmann::json& status, const std::string& state) {
  size_t n = 0;
  for (auto& m : status.at("members"))
    if (m.at("state") == state)
      ++n;
  return n;
}

} // namespace troupe::it
