#include "nodes/interrupts.hpp"

namespace troupe {

namespace {

volatile std::sig_atomic_t flag = 0;

extern "C" void on_interrupt(int) {
  flag = 1;
}

} // namespace

interrupt_scope::interrupt_scope() {
  flag = 0;
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int_);
  sigaction(SIGTERM, &sa, &old_term_);
}

interrupt_scope::~interrupt_scope() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

bool interrupt_scope::interrupted() {
  return flag != 0;
}

} // namespace troupe
