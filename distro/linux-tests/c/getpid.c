/* The cost of a Linux system call that needs no RPC: ROUNDS getpid calls
 * (a bare `syscall` instruction each), timed with the time-stamp counter,
 * which counts guest instructions under QEMU's -icount. Prints
 * "bench linux_getpid N", N the count per call, as the kernel's bench
 * client prints its null system call. */
#include <stdio.h>

#define ROUNDS 1000

static unsigned long long tsc(void)
{
	unsigned int lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((unsigned long long)hi << 32) | lo;
}

static long getpid_call(void)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "0"(39L) : "rcx", "r11", "memory");
	return r;
}

int main(void)
{
	unsigned long long start;
	long pid = getpid_call();

	for (int i = 0; i < 100; i++)
		getpid_call();
	start = tsc();
	for (int i = 0; i < ROUNDS; i++)
		if (getpid_call() != pid)
			return 1;
	printf("bench linux_getpid %llu\n", (tsc() - start) / ROUNDS);
	return 0;
}
