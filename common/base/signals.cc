#include "common/base/signals.h"

#include <pthread.h>
#include <signal.h>

namespace tocsin {

namespace {
sigset_t Mask() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}
}  // namespace

SignalWaiter::SignalWaiter() {
  sigset_t set = Mask();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A client that goes away mid-write must not kill the process.
  signal(SIGPIPE, SIG_IGN);
}

int SignalWaiter::Wait() {
  sigset_t set = Mask();
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  return sig;
}

}  // namespace tocsin
