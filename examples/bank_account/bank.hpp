// The bank-account example's own message types: requests to an account and its balance as
// the reply. Each has an inspect() overload (how CAF serializes it) and is registered on every
// node and client under the same name (add_bank_types).
#pragma once

#include <caf/actor_system_config.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>

namespace bank {

/// Adds `amount` to `account` (created at 0 on first use).
struct deposit {
  std::string account;
  int64_t amount = 0;
};

/// Takes `amount` from `account`; refused when the balance is smaller.
struct withdraw {
  std::string account;
  int64_t amount = 0;
};

/// Asks for the balance of `account`.
struct get_balance {
  std::string account;
};

/// The reply to each of them: the account's balance after it.
struct balance {
  std::string account;
  int64_t amount = 0;
};

/// A type the example never registers: sending it fails at the sender, naming it.
struct audit {
  std::string account;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, deposit& x) {
  return f(caf::meta::type_name("bank.deposit"), x.account, x.amount);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, withdraw& x) {
  return f(caf::meta::type_name("bank.withdraw"), x.account, x.amount);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_balance& x) {
  return f(caf::meta::type_name("bank.get_balance"), x.account);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, balance& x) {
  return f(caf::meta::type_name("bank.balance"), x.account, x.amount);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit& x) {
  return f(caf::meta::type_name("bank.audit"), x.account);
}

/// Registers the message types (not `audit`) with a node's or a client's actor system.
inline void add_bank_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<deposit>("bank.deposit");
  cfg.add_message_type<withdraw>("bank.withdraw");
  cfg.add_message_type<get_balance>("bank.get_balance");
  cfg.add_message_type<balance>("bank.balance");
}

} // namespace bank
