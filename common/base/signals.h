#pragma once
// Waiting for SIGTERM, SIGINT and SIGHUP from the main thread.
// Construct a SignalWaiter first thing in main(), before any thread starts, so that every thread
// inherits the blocked mask and the signals are delivered only to Wait().

namespace tocsin {

class SignalWaiter {
 public:
  SignalWaiter();
  // Blocks until SIGTERM, SIGINT or SIGHUP arrives; returns its number.
  int Wait();
};

}  // namespace tocsin
