#include "exporter/cgroup/cgroup.h"

#include <gtest/gtest.h>

#include "exporter/cgroup/docker.h"

namespace tocsin::cgroup {
namespace {

const std::string kId(64, 'a');

TEST(Classify, RuntimeLayouts) {
  struct Case {
    std::string path;
    Identity::Kind kind;
    std::string name;
    std::string pod_uid;
  };
  const Case cases[] = {
      {"/", Identity::Kind::kRoot, "", ""},
      {"/system.slice/docker-" + kId + ".scope", Identity::Kind::kDocker, kId.substr(0, 12), ""},
      {"/docker/" + kId, Identity::Kind::kDocker, kId.substr(0, 12), ""},
      {"/machine.slice/libpod-" + kId + ".scope", Identity::Kind::kPodman, kId.substr(0, 12), ""},
      {"/kubepods.slice/kubepods-burstable.slice/"
       "kubepods-burstable-pod0f1e2d3c_4b5a_6978_8695_a4b3c2d1e0f9.slice/"
       "cri-containerd-" +
           kId + ".scope",
       Identity::Kind::kCri, kId.substr(0, 12), "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"},
      {"/kubepods/burstable/pod0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9/" + kId, Identity::Kind::kCri,
       kId.substr(0, 12), "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"},
      {"/kubepods/besteffort/pod0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9", Identity::Kind::kKubePod, "",
       "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"},
      {"/system.slice/nginx.service", Identity::Kind::kSystemdService, "nginx.service", ""},
      {"/user.slice", Identity::Kind::kOther, "", ""},
      {"/system.slice/docker-notanid.scope", Identity::Kind::kOther, "", ""},
  };
  for (const Case& c : cases) {
    Identity id = Classify(c.path);
    EXPECT_EQ(id.kind, c.kind) << c.path;
    EXPECT_EQ(id.name, c.name) << c.path;
    EXPECT_EQ(id.pod_uid, c.pod_uid) << c.path;
  }
}

TEST(Parsers, CgroupFiles) {
  std::vector<DeviceIo> io;
  ASSERT_TRUE(ParseIoStat("8:0 rbytes=10 wbytes=20 rios=1\n8:16 rbytes=1 wbytes=2\n", &io).ok());
  ASSERT_EQ(io.size(), 2u);
  EXPECT_EQ(io[0].write_bytes, 20u);
  ASSERT_TRUE(
      ParseBlkioServiceBytes("8:0 Read 5\n8:0 Write 7\n8:0 Total 12\nTotal 12\n", &io).ok());
  ASSERT_EQ(io.size(), 1u);
  EXPECT_EQ(io[0].read_bytes, 5u);
  int64_t quota;
  uint64_t period;
  ASSERT_TRUE(ParseCpuMax("max 100000\n", &quota, &period).ok());
  EXPECT_EQ(quota, -1);
  ASSERT_TRUE(ParseCpuMax("50000 100000\n", &quota, &period).ok());
  EXPECT_EQ(quota, 50000);
  EXPECT_FALSE(ParseCpuMax("50000\n", &quota, &period).ok());
  EXPECT_FALSE(ParseIoStat("8:x rbytes=1\n", &io).ok());
  EXPECT_FALSE(ParseBlkioServiceBytes("8:0 Read\n", &io).ok());
  KeyedValues kv;
  ASSERT_TRUE(ParseFlatKeyed("anon 10\nfile 20\nweird -5\n", &kv).ok());
  EXPECT_EQ(Lookup(kv, "file"), 20u);
  EXPECT_EQ(Lookup(kv, "weird"), 0u);  // negative counters clamp to 0
  EXPECT_FALSE(Lookup(kv, "shmem").has_value());
  EXPECT_FALSE(ParseFlatKeyed("anon 1\nfile\n", &kv).ok());
}

TEST(Docker, ParsesContainersJson) {
  std::map<std::string, DockerContainer> c;
  ASSERT_TRUE(ParseDockerContainers(R"([{"Id":"abc","Names":["/web"],"Image":"nginx:1.25",
      "Labels":{"com.docker.compose.service":"web"}}])",
                                    &c)
                  .ok());
  ASSERT_EQ(c.count("abc"), 1u);
  EXPECT_EQ(c["abc"].name, "web");
  EXPECT_EQ(c["abc"].image, "nginx:1.25");
  ASSERT_EQ(c["abc"].labels.size(), 1u);
  EXPECT_FALSE(ParseDockerContainers("{not json", &c).ok());
  EXPECT_FALSE(ParseDockerContainers(R"([{"Names":[]}])", &c).ok());
}

}  // namespace
}  // namespace tocsin::cgroup
