#pragma once
// The remote-write sender: follows the head's write-ahead log and forwards every sample to a
// Prometheus remote-write endpoint (VictoriaMetrics, Mimir, Thanos, Prometheus), in snappy +
// protobuf requests of up to max_samples_per_send samples, after write_relabel_configs and with
// the external labels added. Recoverable failures (network, 5xx, 429 when configured) are
// retried with exponential backoff between min_backoff and max_backoff, forever, keeping the
// samples; other 4xx replies drop the request and count it.
//
// Its position in the WAL (segment, offset) is saved in <state_dir> after each delivered batch,
// and the head keeps WAL segments the sender still needs, so a restart resumes where it left
// off: nothing is dropped, and only a batch delivered but not yet recorded (a crash between the
// two) is sent again.
// Thread-safety: thread-safe; one thread per sender does the work.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tsdb/scrape/config.h"
#include "tsdb/storage/head.h"

namespace tocsin::tsdb::remote {

struct SenderStats {
  uint64_t samples_sent = 0;
  uint64_t samples_dropped = 0;  // refused by the receiver (non-retryable) or relabelled away
  uint64_t retries = 0;
  uint64_t requests = 0;
  uint64_t bytes_sent = 0;
  int64_t highest_sent_ms = 0;
  uint64_t pending_samples = 0;
  double send_seconds = 0;
  uint64_t wal_records_skipped = 0;  // corrupt WAL records passed over
};

class Sender {
 public:
  Sender(Head* head, scrape::RemoteWriteConfig config, scrape::LabelPairs external_labels,
         std::string state_dir, std::string user_agent);
  ~Sender();  // stops (a pending batch stays in the WAL for the next start)

  // The oldest WAL segment this sender still needs.
  uint32_t floor() const { return floor_.load(); }
  SenderStats Stats() const;
  // "name" of the config, else the URL without credentials.
  const std::string& display_name() const { return display_name_; }
  const std::string& fingerprint() const { return fingerprint_; }
  // Identifies a configuration (secrets included; never printed).
  static std::string Fingerprint(const scrape::RemoteWriteConfig& config,
                                 const scrape::LabelPairs& external_labels);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::atomic<uint32_t> floor_{0};
  std::string display_name_, fingerprint_;
};

// Every sender of a configuration. ApplyConfig keeps senders whose configuration did not
// change. Installs itself as the head's WAL floor.
class SenderSet {
 public:
  SenderSet(Head* head, std::string state_dir, std::string user_agent);
  ~SenderSet();
  void ApplyConfig(const scrape::Config& config);
  // The senders' metrics in the text format.
  void WriteMetrics(std::string* out) const;
  std::vector<std::pair<std::string, SenderStats>> Stats() const;

 private:
  Head* head_;
  std::string state_dir_, user_agent_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Sender>> senders_;  // GUARDED_BY(mu_)
};

}  // namespace tocsin::tsdb::remote
