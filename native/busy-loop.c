/*
 * A process whose cost is set exactly: argv[1] iterations of a loop the
 * compiler cannot remove. The gate-calibration rig makes one side slower than
 * the other by construction, by giving it more iterations.
 */
#include <stdlib.h>

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  unsigned long n = strtoul(argv[1], 0, 10);
  volatile unsigned long sink = 0;
  for (unsigned long i = 0; i < n; i++) sink += i ^ (sink >> 3);
  (void)sink;
  return 0;
}
