// The notification log: a message queued but not delivered when alertd stops is delivered by
// the next start, once; one already delivered is not delivered again; a line torn by a crash
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
  NotifierOptions o;
  o.state_file = (dir / "notifications.log").string();
  o.log_file = (dir / "delivered.log").string();
  Message m{"team", 0, R"({"text":"disk full on db1"})", "status=firing alertnames=\"DiskFull\""};
  {
    // Slack unreachable: the message stays queued while alertd stops.
    NotifierOptions down = o;
    down.min_backoff = std::chrono::seconds(30);
    down.timeout = std::chrono::milliseconds(500);
    Status st;
    Notifier n(down, &st);
    ASSERT_TRUE(st.ok()) << st.ToString();
    n.SetSlackUrls({{"team/0", "http://127.0.0.1:1/services/x"}});
    n.Enqueue(m);
    for (int i = 0; i < 100 && n.Stats().retries == 0; ++i) ::usleep(20000);
    EXPECT_EQ(n.Stats().sent, 0u);
  }
  // A crash tore the last line.
  std::ofstream(o.state_file, std::ios::app) << "Q 77 {\"receiver\":\"Tor";
  // The log receiver copy of the message was written at the first attempt.
  std::filesystem::remove(o.log_file);
  {
    // After the restart the pending message is attempted again: the log receiver writes it
    // (its webhook is not configured in this process, so the Slack part is given up and the
    // message marked done).
    Status st;
    Notifier n(o, &st);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(n.Stats().recovered, 1u);
  }
  std::string delivered = Slurp(dir / "delivered.log");
  EXPECT_NE(delivered.find("receiver=team status=firing alertnames=\"DiskFull\""),
            std::string::npos)
      << delivered;
  EXPECT_EQ(delivered.find("Tor"), std::string::npos);
  std::filesystem::remove(o.log_file);
  {
    Status st;
    Notifier n(o, &st);
    EXPECT_EQ(n.Stats().recovered, 0u);  // given up (no URL any more) or delivered: not again
  }
  EXPECT_FALSE(std::filesystem::exists(o.log_file));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tocsin::alertd
