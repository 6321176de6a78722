// QuietThread: what a task writes on stdout or stderr goes nowhere, while what the process's other
// threads write at the same moment still arrives.
#include "quiet_thread.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>

#include "captured_output.h"

using ct_test::CapturedOutput;

TEST(QuietThread, ATasksOutputGoesNowhereWhileOtherThreadsOutputArrives) {
  CapturedOutput captured;  // first: the thread's table starts as a copy of the process's
  ct::QuietThread quiet;
  ASSERT_EQ(quiet.silence_error(), "");  // unshare(CLONE_FILES) is allowed here
  std::atomic<bool> writing{true};
  int lines = 0;
  std::thread writer([&] {
    // Another thread of the process writes to stderr the whole time the task runs.
    while (writing || lines < 200) {
      std::string line = "other thread " + std::to_string(lines++) + "\n";
      if (write(2, line.data(), line.size()) < 0) break;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  quiet.run([] {
    for (int i = 0; i < 50; ++i) {
      std::fprintf(stderr, "library noise %d\n", i);
      if (write(2, "raw noise\n", 10) < 0) return;
      std::this_thread::sleep_for(std::chrono::microseconds(300));
    }
    std::printf("library output on stdout, not ended");  // left in stdio's buffer
  });
  writing = false;
  writer.join();
  std::fflush(stdout);  // what a later flush of the process's stdout would write
  captured.restore();

  std::string err = captured.text(2);
  EXPECT_EQ(err.find("noise"), std::string::npos) << err.substr(0, 200);
  for (int i = 0; i < lines; ++i) {
    EXPECT_NE(err.find("other thread " + std::to_string(i) + "\n"), std::string::npos) << "line " << i << " lost";
  }
  EXPECT_EQ(captured.text(1).find("library output"), std::string::npos);
}

TEST(QuietThread, KeepsNoCopyOfTheProcesssDescriptors) {
  // A pipe open when the thread starts, as a child's stdout pipe may be: once the process closes
  // the write end, the reader sees the end at once (a copy in the thread's table would hold it).
  int ends[2];
  ASSERT_EQ(pipe(ends), 0);
  ct::QuietThread quiet;
  ASSERT_EQ(quiet.silence_error(), "");
  close(ends[1]);
  pollfd reader{ends[0], POLLIN, 0};
  ASSERT_EQ(poll(&reader, 1, 5000), 1);
  char byte;
  EXPECT_EQ(read(ends[0], &byte, 1), 0);  // the end, not a timeout
  close(ends[0]);
}

TEST(QuietThread, BlocksEverySignalSoHandlersRunWithTheProcesssDescriptors) {
  ct::QuietThread quiet;
  sigset_t blocked;
  sigemptyset(&blocked);
  quiet.run([&] { pthread_sigmask(SIG_BLOCK, nullptr, &blocked); });
  EXPECT_EQ(sigismember(&blocked, SIGCHLD), 1);
  EXPECT_EQ(sigismember(&blocked, SIGINT), 1);
  EXPECT_EQ(sigismember(&blocked, SIGTERM), 1);
}

TEST(QuietThread, RunsTasksInOrderAndPassesExceptionsBack) {
  ct::QuietThread quiet;
  std::string order;
  for (char c : std::string("abc")) quiet.run([&, c] { order += c; });
  EXPECT_EQ(order, "abc");
  EXPECT_THROW(quiet.run([] { throw std::runtime_error("inside"); }), std::runtime_error);
  quiet.run([&] { order += 'd'; });  // still serving
  EXPECT_EQ(order, "abcd");
}
