/* The clocks and sleeping: clock_gettime, clock_getres, gettimeofday,
 * time, nanosleep and clock_nanosleep, and the errors Linux gives for bad
 * clocks and times. It prints the same on Linux and on hurd-rs (only
 * facts that hold on both: clocks move forward, sleeps last at least as
 * long as asked). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static long long ns(struct timespec t)
{
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static const char *result(int r)
{
	return r == 0 ? "ok" : errno == EINVAL ? "EINVAL" : errno == ENOTSUP ? "ENOTSUP" : "another error";
}

int main(void)
{
	struct timespec a, b, res, bad = { 0, 1000000000 }, nap = { 0, 20000000 };
	struct timeval tv;
	long long slept;
	time_t t;

	printf("monotonic: %s\n", result(clock_gettime(CLOCK_MONOTONIC, &a)));
	printf("realtime: %s\n", result(clock_gettime(CLOCK_REALTIME, &b)));
	printf("boottime: %s\n", result(clock_gettime(CLOCK_BOOTTIME, &b)));
	printf("coarse: %s\n", result(clock_gettime(CLOCK_MONOTONIC_COARSE, &b)));
	printf("clock 10: %s\n", result(clock_gettime(10, &b)));
	printf("clock 12: %s\n", result(clock_gettime(12, &b)));
	printf("resolution: %s", result(clock_getres(CLOCK_MONOTONIC, &res)));
	printf(", under a millisecond: %s\n", res.tv_sec == 0 && res.tv_nsec < 1000000 ? "yes" : "no");
	printf("resolution of clock 10: %s\n", result(clock_getres(10, &res)));

	clock_gettime(CLOCK_MONOTONIC, &a);
	printf("nanosleep 20 ms: %s\n", result(nanosleep(&nap, NULL)));
	clock_gettime(CLOCK_MONOTONIC, &b);
	slept = ns(b) - ns(a);
	printf("slept at least 20 ms: %s\n", slept >= 20000000 ? "yes" : "no");
	printf("and less than 2 s: %s\n", slept < 2000000000 ? "yes" : "no");

	clock_gettime(CLOCK_MONOTONIC, &a);
	b = a;
	b.tv_nsec += 30000000;
	if (b.tv_nsec >= 1000000000) {
		b.tv_sec++;
		b.tv_nsec -= 1000000000;
	}
	printf("clock_nanosleep until +30 ms: %d\n", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &b, NULL));
	clock_gettime(CLOCK_MONOTONIC, &a);
	printf("woke after it: %s\n", ns(a) >= ns(b) ? "yes" : "no");
	printf("clock_nanosleep until a past time: %d\n", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &nap, NULL));
	printf("nanosleep 1e9 ns: %s\n", result(nanosleep(&bad, NULL)));
	bad.tv_sec = -1;
	bad.tv_nsec = 0;
	printf("nanosleep -1 s: %s\n", result(nanosleep(&bad, NULL)));
	printf("clock_nanosleep on a thread's CPU clock: %s\n",
	       clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &nap, NULL) == EINVAL ? "EINVAL" : "another result");

	clock_gettime(CLOCK_REALTIME, &a);
	printf("gettimeofday: %s\n", result(gettimeofday(&tv, NULL)));
	printf("agrees with realtime: %s\n", tv.tv_sec >= a.tv_sec && tv.tv_sec - a.tv_sec < 2 ? "yes" : "no");
	t = time(NULL);
	printf("time agrees: %s\n", t >= a.tv_sec && t - a.tv_sec < 2 ? "yes" : "no");
	return 0;
}
