// Tests for SpoolBudget: reservations within the limit, refusals past it, no limit at 0.
#include "util/spool_budget.hpp"

#include <cstdint>
#include <thread>
#include <vector>

#include "check.hpp"

using monoceros::util::SpoolBudget;

TEST(reservations_stop_at_the_limit) {
  SpoolBudget budget(100);
  CHECK(budget.reserve(60));
  CHECK(!budget.reserve(41));  // 101 would pass it
  CHECK_EQ(budget.used(), std::uint64_t{60});
  CHECK(budget.reserve(40));
  CHECK(!budget.reserve(1));
  budget.release(60);
  CHECK(budget.reserve(50));
  CHECK_EQ(budget.used(), std::uint64_t{90});
}

TEST(a_body_larger_than_the_whole_budget_never_fits) {
  SpoolBudget budget(100);
  CHECK(budget.could_hold(100));
  CHECK(!budget.could_hold(101));
  CHECK(!budget.reserve(UINT64_MAX));  // no overflow in the check
  CHECK_EQ(budget.used(), std::uint64_t{0});
}

TEST(zero_means_no_limit) {
  SpoolBudget budget(0);
  CHECK(budget.reserve(UINT64_MAX / 2));
  CHECK(budget.could_hold(UINT64_MAX));
}

TEST(threads_never_take_more_than_the_limit) {
  SpoolBudget budget(1000);
  std::vector<std::thread> threads;
  std::vector<int> taken(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&budget, &taken, t] {
      for (int i = 0; i < 1000; ++i)
        taken[t] += budget.reserve(1) ? 1 : 0;
    });
  }
  for (std::thread& thread : threads)
    thread.join();
  CHECK_EQ(taken[0] + taken[1] + taken[2] + taken[3], 1000);
  CHECK_EQ(budget.used(), std::uint64_t{1000});
}

TEST(automatic_limit_is_a_share_of_the_free_space) {
  const std::uint64_t one = monoceros::util::automatic_spool_limit("/tmp", 1);
  const std::uint64_t four = monoceros::util::automatic_spool_limit("/tmp", 4);
  CHECK(one > 0);
  CHECK(four <= one / 2);  // a quarter of it, give or take what others write meanwhile
  CHECK_EQ(monoceros::util::automatic_spool_limit("/no/such/directory", 1), std::uint64_t{0});
}
