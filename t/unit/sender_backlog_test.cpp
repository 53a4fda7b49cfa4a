#include <gtest/gtest.h>

#include "sender/backlog.hpp"

using webpush::sender::Backlog;


TEST(SenderBacklog, FloorUntilARateIsKnown)
{
    Backlog b(512, 4000, 60000);

    EXPECT_EQ(b.target(), 512u);

    b.sample(0, 0);
    b.sample(900, 500);            /* half a window: no rate yet */
    EXPECT_EQ(b.target(), 512u);
}


TEST(SenderBacklog, RateTimesAQuarterOfTheLease)
{
    Backlog b(512, 100000, 10000);

    b.sample(0, 0);
    b.sample(2000, 1000);          /* 2000/s x 2.5 s */
    EXPECT_EQ(b.rate(), 2000u);
    EXPECT_EQ(b.target(), 5000u);

    b.sample(2100, 2000);          /* it slowed down: 100/s -> the floor */
    EXPECT_EQ(b.target(), 512u);
}


TEST(SenderBacklog, CappedAndWithinHalfTheLease)
{
    Backlog b(512, 4000, 60000);

    b.sample(0, 0);
    b.sample(5000, 1000);          /* 5000/s x 15 s, capped */
    EXPECT_EQ(b.target(), 4000u);

    /* what waits is started within a quarter of the lease at that rate */
    Backlog slow(64, 4000, 10000);

    slow.sample(0, 0);
    slow.sample(400, 1000);
    EXPECT_EQ(slow.target(), 1000u);
    EXPECT_LE(slow.target() * 1000 / slow.rate(), 10000u / 4);
}


TEST(SenderBacklog, ANewQueueStartsAgain)
{
    Backlog b(10, 1000, 40000);

    b.sample(5000, 0);
    b.sample(6000, 1000);
    EXPECT_EQ(b.target(), 1000u);

    b.sample(3, 1500);             /* the counter went back: new zone */
    b.sample(103, 2500);
    EXPECT_EQ(b.rate(), 100u);
    EXPECT_EQ(b.target(), 1000u);
}


TEST(SenderBacklog, ClaimsOnceTheQueueDrainedToHalf)
{
    Backlog b(200, 1000, 40000);   /* target: the floor, 200 */

    EXPECT_EQ(b.claim_size(0, 500), 200u);      /* empty: all of it */
    EXPECT_EQ(b.claim_size(150, 500), 0u);      /* more than half held */
    EXPECT_EQ(b.claim_size(101, 500), 0u);
    EXPECT_EQ(b.claim_size(100, 500), 100u);    /* half: top it up */
    EXPECT_EQ(b.claim_size(30, 500), 170u);
    EXPECT_EQ(b.claim_size(30, 50), 50u);       /* at most max */
    EXPECT_EQ(b.claim_size(0, 0), 0u);          /* the queue is full */
    EXPECT_EQ(b.claim_size(250, 500), 0u);      /* above the target */
}


TEST(SenderBacklog, AnEmptyQueueIsToppedUpWhateverTheTarget)
{
    Backlog b(1, 1, 40000);

    EXPECT_EQ(b.claim_size(0, 500), 1u);
    EXPECT_EQ(b.claim_size(1, 500), 0u);
}
