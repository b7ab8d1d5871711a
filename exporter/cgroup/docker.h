#pragma once
// A small Docker Engine API client: container id -> name, image and labels, read from
// GET /containers/json over the engine's unix socket. Thread-safety: not thread-safe; the
// container collector owns one and calls it under its own lock.

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/base/status.h"

namespace tocsin::cgroup {

struct DockerContainer {
  std::string name;  // without the leading '/'
  std::string image;
  std::vector<std::pair<std::string, std::string>> labels;
};

// Parses the JSON array /containers/json returns. Errors name what was malformed.
Status ParseDockerContainers(std::string_view json, std::map<std::string, DockerContainer>* out);

class DockerClient {
 public:
  explicit DockerClient(std::string socket_path) : socket_(std::move(socket_path)) {}
  // Refreshes the cache when it is older than max_age, or when `id` has not been looked up since
  // the last refresh (at most once per second). Returns the container or nullptr; a missing or
  // unreadable socket yields nullptr.
  const DockerContainer* Lookup(const std::string& id,
                                std::chrono::seconds max_age = std::chrono::seconds(15));

 private:
  void Refresh();
  std::string socket_;
  std::map<std::string, DockerContainer> cache_;
  std::set<std::string> unknown_;  // ids looked up since the last refresh that the engine lacks
  std::chrono::steady_clock::time_point fetched_{};
  bool logged_error_ = false;
};

}  // namespace tocsin::cgroup
