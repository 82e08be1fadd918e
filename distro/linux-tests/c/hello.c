/* Hello, world, with the calls a small C program makes besides write:
 * memory from malloc (brk and mmap in musl), uname, 16 bytes from
 * getrandom, and exit status 0. It prints the same on Linux and on
 * hurd-rs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/utsname.h>

int main(void)
{
	struct utsname u;
	unsigned char key[16];
	ssize_t got;
	char *big = malloc(256 * 1024);
	char *small = malloc(32);

	if (big == NULL || small == NULL || uname(&u) != 0)
		return 1;
	memset(big, 'x', 256 * 1024);
	strcpy(small, "hello, world");
	printf("%s\n", small);
	printf("%s %c\n", u.machine, big[256 * 1024 - 1]);
	got = getrandom(key, sizeof key, 0);
	if (got < 0)
		perror("getrandom");
	else
		printf("getrandom: %zd bytes\n", got);
	free(big);
	free(small);
	return 0;
}
