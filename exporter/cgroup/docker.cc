#include "exporter/cgroup/docker.h"

#include <nlohmann/json.hpp>

#include "common/base/file.h"
#include "common/base/log.h"
#include "common/http/client.h"

namespace tocsin::cgroup {

Status ParseDockerContainers(std::string_view json, std::map<std::string, DockerContainer>* out) {
  out->clear();
  nlohmann::json doc =
      nlohmann::json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::InvalidArgument("docker /containers/json: malformed JSON");
  if (!doc.is_array()) return Status::InvalidArgument("docker /containers/json: expected an array");
  for (const auto& c : doc) {
    if (!c.is_object() || !c.contains("Id") || !c["Id"].is_string()) {
      return Status::InvalidArgument("docker /containers/json: entry without a string \"Id\"");
    }
    DockerContainer dc;
    if (c.contains("Names") && c["Names"].is_array() && !c["Names"].empty() &&
        c["Names"][0].is_string()) {
      dc.name = c["Names"][0].get<std::string>();
      if (!dc.name.empty() && dc.name.front() == '/') dc.name.erase(0, 1);
    }
    if (c.contains("Image") && c["Image"].is_string()) dc.image = c["Image"].get<std::string>();
    if (c.contains("Labels") && c["Labels"].is_object()) {
      for (const auto& [k, v] : c["Labels"].items()) {
        if (v.is_string()) dc.labels.emplace_back(k, v.get<std::string>());
      }
    }
    (*out)[c["Id"].get<std::string>()] = std::move(dc);
  }
  return Status::Ok();
}

const DockerContainer* DockerClient::Lookup(const std::string& id, std::chrono::seconds max_age) {
  auto now = std::chrono::steady_clock::now();
  auto it = cache_.find(id);
  bool stale = now - fetched_ > max_age;
  // An id the engine did not know at the last refresh (a containerd or Podman container) does
  // not trigger another API call until the cache is stale; a new one does, at most once a second.
  bool new_id = it == cache_.end() && !unknown_.contains(id);
  if (stale || (new_id && now - fetched_ > std::chrono::seconds(1))) {
    fetched_ = now;
    unknown_.clear();
    Refresh();
    it = cache_.find(id);
  }
  if (it == cache_.end()) {
    unknown_.insert(id);
    return nullptr;
  }
  return &it->second;
}

void DockerClient::Refresh() {
  if (!PathExists(socket_)) {
    cache_.clear();
    return;
  }
  http::ClientRequest req;
  req.url = "http://localhost/containers/json";
  req.unix_socket = socket_;
  req.timeout = std::chrono::milliseconds(2000);
  http::ClientResponse resp;
  Status st = http::Fetch(req, &resp);
  if (st.ok() && resp.status != 200)
    st = Status::Unavailable("docker API answered HTTP " + std::to_string(resp.status));
  if (st.ok()) st = ParseDockerContainers(resp.body, &cache_);
  if (!st.ok()) {
    if (!logged_error_)
      log::Warn("cannot read container names from Docker",
                {{"socket", socket_}, {"err", st.ToString()}});
    logged_error_ = true;
    return;
  }
  logged_error_ = false;
}

}  // namespace tocsin::cgroup
