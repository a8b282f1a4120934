/*
 * rigor's cgroup-exec: joins cgroups itself, drops to a host uid and gid, and
 * execs a program, so a sandbox's launcher (bwrap) starts inside the
 * sandbox's cgroups and everything it forks is born there.
 *
 *   rigor-cgroup-exec --uid UID --gid GID [--join FILE]... -- /abs/program [ARG]...
 *
 * Why not rigor writing the launcher's pid into cgroup.procs: on cgroup v1
 * that takes the global threadgroup lock for writing, whose first writer
 * after a quiet spell waits for an RCU grace period (measured here: 2-14 ms,
 * about every other write). A single-threaded process writing "0" to a v1
 * hierarchy's `tasks` file moves itself and skips that lock. On cgroup v2
 * FILE is cgroup.procs, which still takes it, but the result is the same.
 *
 * Order: every join as root, then setgroups(0)/setgid/setuid, then execv
 * (no PATH search). Exit codes: 125 a join or id change failed, 126 usage,
 * 127 the exec failed; stderr names the file or call and why.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROG "rigor-cgroup-exec"
#define MAX_JOINS 16

static int usage(const char *found) {
  fprintf(stderr, "usage: " PROG " --uid UID --gid GID [--join FILE]... -- /abs/program [ARG]...\n(unexpected \"%s\")\n", found);
  return 126;
}

static int parse_id(const char *arg, long *id) {
  char *end;
  errno = 0;
  *id = strtol(arg, &end, 10);
  return errno == 0 && end != arg && *end == '\0' && *id >= 0;
}

int main(int argc, char **argv) {
  long uid = -1, gid = -1;
  const char *joins[MAX_JOINS];
  int n_joins = 0, i = 1;
  for (; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) break;
    if (i + 1 >= argc) return usage(argv[i]);
    if (strcmp(argv[i], "--uid") == 0 && parse_id(argv[i + 1], &uid)) i++;
    else if (strcmp(argv[i], "--gid") == 0 && parse_id(argv[i + 1], &gid)) i++;
    else if (strcmp(argv[i], "--join") == 0 && n_joins < MAX_JOINS) joins[n_joins++] = argv[++i];
    else return usage(argv[i]);
  }
  if (i + 1 >= argc || uid < 0 || gid < 0) return usage(i < argc ? argv[i] : "end of arguments");
  char **command = argv + i + 1;
  if (command[0][0] != '/') return usage(command[0]);
  for (int j = 0; j < n_joins; j++) {
    int fd = open(joins[j], O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0", 1) != 1) {
      fprintf(stderr, PROG ": joining %s: %s\n", joins[j], strerror(errno));
      return 125;
    }
    close(fd);
  }
  if (setgroups(0, NULL) != 0) return fprintf(stderr, PROG ": setgroups: %s\n", strerror(errno)), 125;
  if (setgid((gid_t)gid) != 0) return fprintf(stderr, PROG ": setgid %ld: %s\n", gid, strerror(errno)), 125;
  if (setuid((uid_t)uid) != 0) return fprintf(stderr, PROG ": setuid %ld: %s\n", uid, strerror(errno)), 125;
  execv(command[0], command);
  fprintf(stderr, PROG ": exec %s: %s\n", command[0], strerror(errno));
  return 127;
}
