// The notification log: a notification queued but not delivered when alertd stops is delivered
// by the next start, once; one already delivered is not delivered again; a line torn by a crash
// is skipped.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "alertd/notify/notifier.h"

namespace tocsin::alertd {
namespace {

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(NotificationLog, PendingDeliveredOnceAfterRestart) {
  auto dir =
      std::filesystem::temp_directory_path() / ("tocsin-nflog-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  Rule rule;
  rule.alert = "DiskFull";
  Alert a;
  a.labels = {{"alertname", "DiskFull"}, {"instance", "db1"}};
  a.annotations = {{"summary", "disk full on db1"}};
  a.state = AlertState::kFiring;
  a.active_at = 1000;
  a.fired_at = 61000;

  NotifierOptions o;
  o.state_file = (dir / "notifications.log").string();
  {
    // Slack unreachable: the notification stays queued while alertd stops.
    NotifierOptions down = o;
    down.slack_url = "http://127.0.0.1:1/services/x";
    down.min_backoff = std::chrono::seconds(30);
    down.timeout = std::chrono::milliseconds(500);
    Status st;
    Notifier n(down, &st);
    ASSERT_TRUE(st.ok()) << st.ToString();
    n.Notify(rule, a);
    for (int i = 0; i < 100 && n.Stats().retries == 0; ++i) ::usleep(20000);
    EXPECT_EQ(n.Stats().sent, 0u);
  }
  // A crash tore the last line.
  std::ofstream(o.state_file, std::ios::app) << "Q 77 {\"alertname\":\"Tor";
  o.log_file = (dir / "delivered.log").string();
  {
    Status st;
    Notifier n(o, &st);  // the log receiver delivers at once
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(n.Stats().recovered, 1u);
  }
  std::string delivered = Slurp(dir / "delivered.log");
  EXPECT_NE(delivered.find("alertname=DiskFull state=firing"), std::string::npos) << delivered;
  EXPECT_NE(delivered.find("instance=db1"), std::string::npos) << delivered;
  EXPECT_EQ(delivered.find("Tor"), std::string::npos);
  {
    Status st;
    Notifier n(o, &st);
    EXPECT_EQ(n.Stats().recovered, 0u);  // delivered once: not again
  }
  EXPECT_EQ(Slurp(dir / "delivered.log"), delivered);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tocsin::alertd
