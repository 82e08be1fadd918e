/* The smallest Linux program: musl's start code (arch_prctl for its
 * thread pointer, set_tid_address), then exit_group(42) from exit().
 * hurd-rs's first Linux program (the kernel's QEMU tests run it). */
int main(void)
{
	return 42;
}
