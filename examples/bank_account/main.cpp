// The bank-account example: a node whose deployed actors take messages of their own types
// (bank.hpp) through Troupe's routing, with typed replies, and a small client that sends them
// from outside the cluster.
//
//   bank run --workers 2
//   bank ctl deploy accounts bank-account
//   bank client deposit alice 100            # alice: 100 (from this program's own client)
//   bank client withdraw alice 30            # alice: 70
//   bank client audit alice                  # fails at once: bank::audit is not registered
//   bank ctl spawn teller --node <member>    # an actor that asks the accounts from its node
//   bank ctl ask <teller id> "balance alice" # alice: 70
#include "bank.hpp"

#include <troupe/troupe.hpp>

#include <caf/event_based_actor.hpp>

#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

/// One instance per vnode, holding the accounts whose names route to it.
caf::behavior bank_account(caf::event_based_actor* self, troupe::context) {
  auto accounts = std::make_shared<std::map<std::string, int64_t>>();
  auto reply = [accounts](const std::string& account) {
    return bank::balance{account, (*accounts)[account]};
  };
  return {
    [reply, accounts](bank::deposit& d) {
      (*accounts)[d.account] += d.amount;
      return reply(d.account);
    },
    [reply, accounts](bank::withdraw& w) -> caf::result<bank::balance> {
      auto& have = (*accounts)[w.account];
      if (w.amount > have)
        return caf::make_error(caf::sec::invalid_argument,
                               "insufficient funds: " + w.account + " has "
                                 + std::to_string(have) + ", asked " + std::to_string(w.amount));
      have -= w.amount;
      return reply(w.account);
    },
    [reply](bank::get_balance& g) { return reply(g.account); },
    // `troupe ctl request accounts alice` (strings): the balance as text.
    [accounts](const troupe::event& ev) { return std::to_string((*accounts)[ev.key]); },
    // Its state moves with its vnode: the accounts as "name=amount" lines.
    [accounts](troupe::snapshot_atom) {
      std::string out;
      for (auto& [name, amount] : *accounts)
        out += name + "=" + std::to_string(amount) + "\n";
      return out;
    },
    [accounts](troupe::restore_atom, const std::string& bytes) {
      std::istringstream in{bytes};
      for (std::string line; std::getline(in, line);)
        if (auto eq = line.rfind('='); eq != std::string::npos)
          (*accounts)[line.substr(0, eq)] = std::stoll(line.substr(eq + 1));
    },
  };
}

/// "NAME: AMOUNT", as the client and the teller print a balance.
std::string show(const bank::balance& b) {
  return b.account + ": " + std::to_string(b.amount);
}

/// An actor that asks the `accounts` deployment from wherever it runs: its event's payload is
/// "deposit NAME N", "withdraw NAME N", "balance NAME" or "audit NAME" (a type the example
/// never registered: the request fails at once, naming it).
caf::behavior teller(caf::event_based_actor* self, troupe::context ctx) {
  auto ctx_ptr = std::make_shared<troupe::context>(std::move(ctx));
  return {
    [self, ctx_ptr](const troupe::event& ev) -> caf::result<std::string> {
      std::istringstream in{ev.payload};
      std::string op, account;
      int64_t amount = 0;
      in >> op >> account >> amount;
      auto rp = self->make_response_promise<std::string>();
      auto ask = [&](auto msg) {
        troupe::request(self, *ctx_ptr, "accounts", account, std::move(msg),
                        std::chrono::seconds(5))
          .then([rp](const bank::balance& b) mutable { rp.deliver(show(b)); },
                [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      };
      if (op == "deposit")
        ask(bank::deposit{account, amount});
      else if (op == "withdraw")
        ask(bank::withdraw{account, amount});
      else if (op == "balance")
        ask(bank::get_balance{account});
      else if (op == "audit")
        ask(bank::audit{account});
      else
        return caf::make_error(caf::sec::invalid_argument,
                               "say deposit NAME N, withdraw NAME N, balance NAME or audit NAME");
      return rp;
    },
  };
}

/// `bank client [--connect HOST:PORT] OP NAME [N]`: one request from outside the cluster.
int run_client(const std::vector<std::string>& args) {
  std::string endpoint = "127.0.0.1:8139";
  std::vector<std::string> words;
  for (auto& a : args)
    if (a.rfind("--connect=", 0) == 0)
      endpoint = a.substr(10);
    else
      words.push_back(a);
  if (words.size() < 2) {
    std::cerr << "usage: bank client [--connect=HOST:PORT] deposit|withdraw|balance|audit NAME [N]\n";
    return 64;
  }
  auto& op = words[0];
  auto& account = words[1];
  int64_t amount = words.size() > 2 ? std::stoll(words[2]) : 0;
  troupe::client bank{endpoint, bank::add_bank_types};
  caf::expected<bank::balance> b{caf::sec::invalid_argument};
  if (op == "deposit")
    b = bank.request<bank::balance>("accounts", account, bank::deposit{account, amount});
  else if (op == "withdraw")
    b = bank.request<bank::balance>("accounts", account, bank::withdraw{account, amount});
  else if (op == "balance")
    b = bank.request<bank::balance>("accounts", account, bank::get_balance{account});
  else if (op == "audit")
    b = bank.request<bank::balance>("accounts", account, bank::audit{account});
  if (!b) {
    std::cerr << "bank client: " << bank.render(b.error()) << "\n";
    return 1;
  }
  std::cout << show(*b) << "\n";
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string{argv[1]} == "client")
    return run_client({argv + 2, argv + argc});
  troupe::node node{argc, argv};
  node.add_actor_type("bank-account", bank_account);
  node.add_actor_type("teller", teller);
  node.add_message_type<bank::deposit>("bank.deposit");
  node.add_message_type<bank::withdraw>("bank.withdraw");
  node.add_message_type<bank::get_balance>("bank.get_balance");
  node.add_message_type<bank::balance>("bank.balance");
  return node.run();
}
