// The console and the inspection commands against real processes: `troupe console` driven
// through tmux (send-keys, capture-pane) as a person would use it, and every `troupe ctl`
// inspection command in JSON, with its errors and the console token.
#define CAF_SUITE console
#include <caf/test/unit_test.hpp>

#include "tests/integration/local_cluster.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>

using namespace troupe::it;
using json = nlohmann::json;

namespace {

/// A tmux server of its own (its own socket), killed when the test ends. No CAF_REQUIRE while
/// one runs: abort() would leave it behind.
class tmux_session {
public:
  explicit tmux_session(const std::string& command)
    : socket_("troupe-test-" + std::to_string(getpid()) + "-" + std::to_string(++count_)) {
    started_ = tmux({"-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", "200", "-y", "60",
                     command})
                 .code
               == 0;
  }

  ~tmux_session() { tmux({"kill-server"}); }

  bool started() const { return started_; }

  void keys(const std::vector<std::string>& ks) {
    std::vector<std::string> args{"send-keys", "-t", "t"};
    args.insert(args.end(), ks.begin(), ks.end());
    tmux(args);
  }

  /// Types `text` literally (no key names).
  void type(const std::string& text) { tmux({"send-keys", "-t", "t", "-l", text}); }

  void line(const std::string& text) {
    type(text);
    keys({"Enter"});
  }

  /// The whole pane, scrollback included.
  std::string screen() { return tmux({"capture-pane", "-p", "-t", "t", "-S", "-3000"}).out; }

  /// What followed the last prompt that shows `command`.
  std::string after(const std::string& command) {
    auto s = screen();
    auto at = s.rfind("troupe> " + command);
    return at == std::string::npos ? std::string{} : s.substr(at + 8 + command.size());
  }

  bool wait_for(const std::function<bool(const std::string&)>& pred, ms timeout = 10s) {
    return wait_until([&] { return pred(screen()); }, timeout, 50ms);
  }

  /// The line being edited: what follows the last prompt (capture-pane drops trailing spaces).
  std::string editing() {
    auto s = screen();
    auto at = s.rfind("troupe>");
    if (at == std::string::npos)
      return {};
    auto rest = s.substr(at + 7);
    auto end = rest.find('\n');
    rest = rest.substr(0, end);
    auto first = rest.find_first_not_of(' ');
    return first == std::string::npos ? std::string{} : rest.substr(first);
  }

  bool alive() { return tmux({"has-session", "-t", "t"}).code == 0; }

private:
  run_result tmux(std::vector<std::string> args) {
    args.insert(args.begin(), {"tmux", "-L", socket_});
    return run_program(args, 5s);
  }

  static inline int count_ = 0;
  std::string socket_;
  bool started_ = false;
};

size_t count_of(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (auto at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1))
    ++n;
  return n;
}

} // namespace

CAF_TEST(the console inspects spawns asks and kills across a coordinator and three workers) {
  local_cluster node{"console", 3};
  CAF_REQUIRE(node.wait_up(4));
  auto home = node.dir + "/home";
  std::filesystem::create_directories(home);
  auto w2 = node.worker(2);
  tmux_session t{"exec env HOME=" + home + " " + TROUPE_BIN
                 + " console --connect 127.0.0.1:" + std::to_string(node.port)};
  CAF_CHECK(t.started());
  CAF_CHECK(t.wait_for([](const std::string& s) { return s.find("troupe>") != std::string::npos; }));

  // members: all four, up.
  t.line("members");
  CAF_CHECK(t.wait_for([&](const std::string&) {
    auto out = t.after("members");
    for (auto& n : {node.name + " ", node.worker(1), w2, node.worker(3)})
      if (out.find(n) == std::string::npos)
        return false;
    return count_of(out, " up ") == 4;
  }));

  // spawn a registered type on worker 2: it prints the id.
  t.line("spawn word-count --node " + w2 + " --name wc1");
  std::string id;
  CAF_CHECK(t.wait_for([&](const std::string&) {
    std::smatch m;
    auto out = t.after("spawn word-count");
    if (!std::regex_search(out, m, std::regex{w2 + "/[0-9]+"}))
      return false;
    id = m.str();
    return true;
  }));
  CAF_MESSAGE("spawned " << id);

  // actors --node shows it, supervised by the user supervisor, with its counters.
  t.line("actors --node " + w2);
  CAF_CHECK(t.wait_for([&](const std::string&) {
    auto out = t.after("actors --node " + w2);
    return std::regex_search(out, std::regex{id + " +wc1 +word-count +" + w2
                                             + " +0 +[0-9]+ +0 +user-supervisor +running"});
  }));
  // tree: under the user supervisor.
  t.line("tree --node " + w2);
  CAF_CHECK(t.wait_for([&](const std::string&) {
    auto out = t.after("tree --node " + w2);
    auto sup = out.find("user-supervisor");
    return sup != std::string::npos && out.find("└─ wc1  word-count  " + id, sup) != std::string::npos;
  }));

  // ask: the reply is printed.
  t.line("ask wc1 hello");
  CAF_CHECK(t.wait_for([&](const std::string&) {
    auto out = t.after("ask wc1 hello");
    return out.find("\n1\n") != std::string::npos;
  }));

  // kill: the supervisor restarts it; inspect shows one restart and the reason.
  t.line("kill wc1 --reason testing");
  CAF_CHECK(t.wait_for([&](const std::string&) {
    return t.after("kill wc1").find("OK killed " + id) != std::string::npos;
  }));
  bool restarted = wait_until(
    [&] {
      t.line("inspect " + id);
      return t.wait_for(
        [&](const std::string&) {
          auto out = t.after("inspect " + id);
          return std::regex_search(out, std::regex{"restarts +1\n"})
                 && std::regex_search(out, std::regex{"state +running\n"})
                 && out.find("killed: testing") != std::string::npos;
        },
        500ms);
    },
    10s, 10ms);
  CAF_CHECK(restarted);

  // History: Up brings the last command back.
  auto before = count_of(t.screen(), "troupe> inspect " + id);
  t.keys({"Up"});
  t.keys({"Enter"});
  CAF_CHECK(t.wait_for([&](const std::string& s) {
    return count_of(s, "troupe> inspect " + id) == before + 1;
  }));

  // Completion: a command, then an actor name.
  t.type("tre");
  t.keys({"Tab"});
  CAF_CHECK(wait_until([&] { return t.editing() == "tree"; }, 3s));
  t.keys({"C-u"});
  t.type("inspect wc");
  t.keys({"Tab"});
  CAF_CHECK(wait_until([&] { return t.editing() == "inspect wc1"; }, 5s));
  t.keys({"Enter"});
  CAF_CHECK(t.wait_for([&](const std::string&) {
    // Its own state dump; empty, as the restart started it afresh.
    return t.after("inspect wc1").find("state:\n0 keys: {}") != std::string::npos;
  }));

  // quit ends the console; the history file has what was typed.
  t.line("quit");
  CAF_CHECK(wait_until([&] { return !t.alive(); }, 5s));
  std::ifstream hist{home + "/.troupe_history"};
  std::string all{std::istreambuf_iterator<char>{hist}, {}};
  // libedit's history format writes a space as \040.
  for (auto at = all.find("\\040"); at != std::string::npos; at = all.find("\\040", at))
    all.replace(at, 4, " ");
  CAF_CHECK(all.find("spawn word-count --node " + w2 + " --name wc1") != std::string::npos);
  CAF_CHECK(all.find("kill wc1 --reason testing") != std::string::npos);
}

CAF_TEST(ctrl c ends a running command and clears the line and ctrl d quits) {
  local_cluster node{"console-keys", 0};
  CAF_REQUIRE(node.wait_up(1));
  auto home = node.dir + "/home";
  std::filesystem::create_directories(home);
  auto connect = "--connect=127.0.0.1:" + std::to_string(node.port);
  tmux_session t{"exec env HOME=" + home + " " + TROUPE_BIN
                 + " console --connect 127.0.0.1:" + std::to_string(node.port)};
  CAF_CHECK(t.started());
  CAF_CHECK(t.wait_for([](const std::string& s) { return count_of(s, "troupe>") == 1; }));
  // A watch runs until Ctrl-C, which ends it at once: a new prompt, the console still there.
  t.line("kv watch app/");
  // The watch shows changes after the revision it started at: a put that came first is not
  // shown, so put until one is.
  CAF_CHECK(wait_until(
    [&] {
      return run_troupe({"kv", "put", "app/color", "blue", connect}).code == 0
             && t.wait_for(
               [](const std::string& s) { return s.find("put app/color blue") != std::string::npos; },
               1s);
    },
    15s));
  auto pressed = std::chrono::steady_clock::now();
  t.keys({"C-c"});
  CAF_CHECK(t.wait_for([](const std::string& s) { return count_of(s, "troupe>") == 2; }, 3s));
  auto took = std::chrono::duration_cast<ms>(std::chrono::steady_clock::now() - pressed);
  CAF_MESSAGE("the watch ended " << took.count() << " ms after Ctrl-C");
  // At the prompt, Ctrl-C drops the line being typed.
  t.type("members --bogus");
  CAF_CHECK(wait_until([&] { return t.editing() == "members --bogus"; }, 3s));
  t.keys({"C-c"});
  CAF_CHECK(t.wait_for([](const std::string& s) { return count_of(s, "troupe>") == 3; }, 3s));
  CAF_CHECK(t.editing().empty());
  t.line("members");
  CAF_CHECK(t.wait_for([&](const std::string&) {
    return t.after("members").find(node.name) != std::string::npos;
  }));
  // Ctrl-D on an empty line quits.
  t.keys({"C-d"});
  CAF_CHECK(wait_until([&] { return !t.alive(); }, 5s));
}
