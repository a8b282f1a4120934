/*
 * rigor's native spawner: a persistent helper that times one command per
 * request the way `hyperfine -N` does (clock -> spawn -> wait4 -> clock), so
 * no Node or libuv work falls inside the timed window.
 *
 * Request (stdin):  "<mode> <argc> <envc> <spin_us>\n" then cwd, argv[0..argc) and
 *                   env[0..envc), each terminated by NUL (an empty cwd = inherit).
 *                   mode: d = stdout to /dev/null, p = stdout read through a pipe
 *                   and discarded, k = stdout kept (its tail is answered).
 *                   spin_us: after answering, poll for the next request this long
 *                   before blocking (see wait_for_request).
 * Answer (stdout):  "<kind> <value> <wall_ns> <user_us> <sys_us> <outlen> <errlen>\n"
 *                   then outlen bytes of stdout tail and errlen bytes of stderr tail.
 *                   kind: x = exited with status value, s = killed by signal value,
 *                   e = could not start, value = errno.
 * SIGUSR1 aborts the running command: SIGTERM to its process group, SIGKILL
 * one second later, and a SIGKILL sweep of the group once it is reaped.
 * The helper exits on EOF, and (via PR_SET_PDEATHSIG) when its parent dies,
 * killing the command's process group first.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TAIL_BYTES 4096

static volatile sig_atomic_t child = 0; /* pid (= process group) of the running command, 0 when idle */
static volatile sig_atomic_t aborted = 0;
static char drain_buf[65536];
static char tail_buf[2][TAIL_BYTES];

static void on_abort(int sig) {
  (void)sig;
  aborted = 1;
  if (child > 0) {
    kill(-child, SIGTERM);
    alarm(1);
  }
}

static void on_alarm(int sig) {
  (void)sig;
  if (child > 0) kill(-child, SIGKILL);
}

static void on_exit_signal(int sig) {
  if (child > 0) kill(-child, SIGKILL);
  _exit(128 + sig);
}

static void handle(int sig, void (*fn)(int)) {
  struct sigaction sa = {0};
  sa.sa_handler = fn;
  sa.sa_flags = SA_RESTART; /* the handler does the work; interrupted calls carry on */
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}

/* Reset a memfd so the next command writes from offset 0. */
static void rewind_fd(int fd) {
  if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0) perror("rigor-spawner: rewind");
}

/* Read the last TAIL_BYTES written to a memfd into buf; returns the length. */
static size_t read_tail(int fd, char *buf) {
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size <= 0) return 0;
  size_t len = st.st_size < TAIL_BYTES ? (size_t)st.st_size : TAIL_BYTES;
  ssize_t got = pread(fd, buf, len, st.st_size - (off_t)len);
  return got > 0 ? (size_t)got : 0;
}

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Stay awake up to spin_us for the next request, as hyperfine's own loop never
 * sleeps between runs: measured here, a helper that blocks at once lets its CPU
 * idle and the wake-up lands inside the next timed window (+3..9% on `true`). */
static void wait_for_request(long spin_us) {
  struct pollfd in = {0, POLLIN, 0};
  long long until = now_ns() + spin_us * 1000LL;
  while (spin_us > 0 && poll(&in, 1, 0) == 0 && now_ns() < until) {
  }
}

static char *read_field(void) {
  char *field = NULL;
  size_t cap = 0;
  if (getdelim(&field, &cap, '\0', stdin) < 0) {
    fprintf(stderr, "rigor-spawner: truncated request\n");
    exit(2);
  }
  return field;
}

static void run_one(char mode, char *cwd, char **argv, char **envp, int devnull, int outfd, int errfd,
                    posix_spawnattr_t *attr) {
  posix_spawn_file_actions_t fa;
  int pipefd[2] = {-1, -1};
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, devnull, 0);
  if (mode == 'k') {
    rewind_fd(outfd);
    posix_spawn_file_actions_adddup2(&fa, outfd, 1);
  } else if (mode == 'p' && pipe2(pipefd, O_CLOEXEC) == 0) {
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
  } else {
    posix_spawn_file_actions_adddup2(&fa, devnull, 1);
  }
  rewind_fd(errfd);
  posix_spawn_file_actions_adddup2(&fa, errfd, 2);
  if (cwd[0] != '\0') posix_spawn_file_actions_addchdir_np(&fa, cwd);

  struct timespec t0, t1;
  struct rusage ru = {0};
  int status = 0;
  pid_t pid = 0;
  aborted = 0; /* a late SIGUSR1 meant for the previous command is void */
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int err = posix_spawnp(&pid, argv[0], &fa, attr, argv, envp);
  if (err == 0) {
    child = pid;
    if (aborted) on_abort(0); /* the abort arrived between spawn and recording the pid */
    if (pipefd[1] >= 0) {
      close(pipefd[1]);
      pipefd[1] = -1;
      while (read(pipefd[0], drain_buf, sizeof drain_buf) > 0) {
      }
    }
    while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  child = 0;
  alarm(0);
  if (err == 0 && aborted) kill(-pid, SIGKILL); /* sweep what is left of its group */
  if (pipefd[0] >= 0) close(pipefd[0]);
  if (pipefd[1] >= 0) close(pipefd[1]);
  posix_spawn_file_actions_destroy(&fa);

  char kind = 'e';
  int value = err;
  if (err == 0 && WIFEXITED(status)) kind = 'x', value = WEXITSTATUS(status);
  else if (err == 0) kind = 's', value = WTERMSIG(status);
  long long wall_ns = (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
  long long user_us = (long long)ru.ru_utime.tv_sec * 1000000LL + ru.ru_utime.tv_usec;
  long long sys_us = (long long)ru.ru_stime.tv_sec * 1000000LL + ru.ru_stime.tv_usec;
  size_t outlen = mode == 'k' ? read_tail(outfd, tail_buf[0]) : 0;
  size_t errlen = read_tail(errfd, tail_buf[1]);
  printf("%c %d %lld %lld %lld %zu %zu\n", kind, value, wall_ns, user_us, sys_us, outlen, errlen);
  fwrite(tail_buf[0], 1, outlen, stdout);
  fwrite(tail_buf[1], 1, errlen, stdout);
  fflush(stdout);
}

int main(int argc, char **argv) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (argc > 1 && getppid() != (pid_t)atol(argv[1])) return 1; /* parent died before prctl */
  handle(SIGUSR1, on_abort);
  handle(SIGALRM, on_alarm);
  handle(SIGTERM, on_exit_signal);
  handle(SIGHUP, on_exit_signal);

  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  int outfd = memfd_create("rigor-stdout", MFD_CLOEXEC);
  int errfd = memfd_create("rigor-stderr", MFD_CLOEXEC);
  if (devnull < 0 || outfd < 0 || errfd < 0) {
    perror("rigor-spawner: setup");
    return 2;
  }

  /* Each command leads its own process group, with default signal handling and an empty mask. */
  posix_spawnattr_t attr;
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults); /* only ignored signals survive exec; these may arrive ignored from our parent */
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGQUIT);
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);

  char *line = NULL;
  size_t cap = 0;
  long spin_us = 0;
  while (wait_for_request(spin_us), getline(&line, &cap, stdin) > 0) {
    char mode;
    int nargs, nenv;
    if (sscanf(line, "%c %d %d %ld", &mode, &nargs, &nenv, &spin_us) != 4 || nargs < 1 || nenv < 0) {
      fprintf(stderr, "rigor-spawner: bad request header: %s", line);
      return 2;
    }
    char *cwd = read_field();
    char **args = calloc((size_t)nargs + 1, sizeof *args);
    char **env = calloc((size_t)nenv + 1, sizeof *env);
    if (args == NULL || env == NULL) return 2;
    for (int i = 0; i < nargs; i++) args[i] = read_field();
    for (int i = 0; i < nenv; i++) env[i] = read_field();
    run_one(mode, cwd, args, env, devnull, outfd, errfd, &attr);
    for (int i = 0; i < nargs; i++) free(args[i]);
    for (int i = 0; i < nenv; i++) free(env[i]);
    free(args);
    free(env);
    free(cwd);
  }
  return 0;
}
