/*
 * rigor's seccomp compiler: reads a profile as text on stdin, builds the filter
 * with libseccomp and writes the raw BPF program (struct sock_filter[], what
 * bwrap --seccomp FD and prctl(PR_SET_SECCOMP) take) to stdout.
 *
 * Input, one directive a line; blank lines and lines starting with # are ignored:
 *   default allow | default kill | default errno <n>   (once; default allow)
 *   arch <name>...        libseccomp arch names, e.g. x86_64 x86 x32 (default: native only)
 *   deny <errno> <syscall> [<arg> <op> <value> [<mask-value>]]...
 *     <op>: eq ne lt le gt ge masked_eq; masked_eq takes two numbers, mask
 *     then value, and matches (arg & mask) == value. Comparisons of one line
 *     all must hold; several lines for one syscall are alternatives.
 * Numbers as C reads them (decimal, 0x hex, a leading 0 octal). A syscall
 * name libseccomp does not know at all is skipped and named on stderr; one
 * that exists on some arches only (vm86 on x86) is added where it exists.
 *
 * Exit codes: 0 BPF written; 1 bad input (stderr names the line, what was
 * expected and what was found); 2 libseccomp refused the filter or the write failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROG "rigor-seccomp-compiler"
#define MAX_TOKENS 64
#define MAX_ARCHES 16

struct line {
  int number;
  int count;
  char *tokens[MAX_TOKENS];
};

static void fail(int code, const char *format, ...) {
  va_list args;
  va_start(args, format);
  fprintf(stderr, PROG ": ");
  vfprintf(stderr, format, args);
  fputc('\n', stderr);
  va_end(args);
  exit(code);
}

/* A whole-token unsigned number (decimal or 0x hex) from min to max. */
static uint64_t number(const struct line *line, const char *token, const char *what, uint64_t min, uint64_t max) {
  char *end = NULL;
  errno = 0;
  unsigned long long value = strtoull(token, &end, 0);
  if (errno != 0 || end == token || *end != '\0' || token[0] == '-' || value < min || value > max)
    fail(1, "line %d: expected %s from %llu to %llu, found \"%s\"", line->number, what, (unsigned long long)min, (unsigned long long)max, token);
  return value;
}

static int op_from(const struct line *line, const char *token) {
  static const struct { const char *name; int op; } ops[] = {
    {"eq", SCMP_CMP_EQ}, {"ne", SCMP_CMP_NE}, {"lt", SCMP_CMP_LT}, {"le", SCMP_CMP_LE},
    {"gt", SCMP_CMP_GT}, {"ge", SCMP_CMP_GE}, {"masked_eq", SCMP_CMP_MASKED_EQ},
  };
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (strcmp(token, ops[i].name) == 0) return ops[i].op;
  fail(1, "line %d: expected a comparison (eq ne lt le gt ge masked_eq), found \"%s\"", line->number, token);
  return 0;
}

/* Reads stdin into lines of whitespace-separated tokens, skipping blanks and comments. */
static struct line *read_lines(int *count) {
  struct line *lines = NULL;
  size_t capacity = 0, length = 0;
  char *text = NULL;
  size_t size = 0;
  int number = 0;
  while (getline(&text, &size, stdin) != -1) {
    number++;
    char *copy = strdup(text);
    if (!copy) fail(2, "out of memory");
    struct line line = {.number = number, .count = 0};
    for (char *token = strtok(copy, " \t\r\n"); token; token = strtok(NULL, " \t\r\n")) {
      if (line.count == 0 && token[0] == '#') break;
      if (line.count == MAX_TOKENS) fail(1, "line %d: expected at most %d words, found more", number, MAX_TOKENS);
      line.tokens[line.count++] = token;
    }
    if (line.count == 0) continue;
    if (length == capacity) {
      capacity = capacity ? capacity * 2 : 64;
      lines = realloc(lines, capacity * sizeof *lines);
      if (!lines) fail(2, "out of memory");
    }
    lines[length++] = line;
  }
  if (ferror(stdin)) fail(1, "reading stdin: %s", strerror(errno));
  free(text);
  *count = (int)length;
  return lines;
}

static uint32_t default_action(const struct line *lines, int count) {
  uint32_t action = SCMP_ACT_ALLOW;
  int seen = 0;
  for (int i = 0; i < count; i++) {
    const struct line *line = &lines[i];
    if (strcmp(line->tokens[0], "default") != 0) continue;
    if (seen++) fail(1, "line %d: expected one default line, found a second", line->number);
    const char *kind = line->count > 1 ? line->tokens[1] : "";
    if (strcmp(kind, "allow") == 0 && line->count == 2) action = SCMP_ACT_ALLOW;
    else if (strcmp(kind, "kill") == 0 && line->count == 2) action = SCMP_ACT_KILL;
    else if (strcmp(kind, "errno") == 0 && line->count == 3) action = SCMP_ACT_ERRNO(number(line, line->tokens[2], "an errno", 1, 4095));
    else fail(1, "line %d: expected \"default allow|kill|errno <n>\", found \"default %s\"", line->number, kind);
  }
  return action;
}

/* Makes the filter hold exactly the arches named on arch lines (native only when there are none). */
static void set_arches(scmp_filter_ctx ctx, const struct line *lines, int count) {
  uint32_t arches[MAX_ARCHES];
  int n = 0;
  for (int i = 0; i < count; i++) {
    const struct line *line = &lines[i];
    if (strcmp(line->tokens[0], "arch") != 0) continue;
    if (line->count < 2) fail(1, "line %d: expected \"arch <name>...\", found no name", line->number);
    for (int t = 1; t < line->count; t++) {
      uint32_t arch = seccomp_arch_resolve_name(line->tokens[t]);
      if (arch == 0) fail(1, "line %d: expected a libseccomp arch name (x86_64, x86, x32, ...), found \"%s\"", line->number, line->tokens[t]);
      if (n == MAX_ARCHES) fail(1, "line %d: expected at most %d arches, found more", line->number, MAX_ARCHES);
      arches[n++] = arch;
    }
  }
  if (n == 0) return;
  uint32_t native = seccomp_arch_native();
  int keep_native = 0;
  for (int i = 0; i < n; i++) {
    if (arches[i] == native) { keep_native = 1; continue; }
    int rc = seccomp_arch_add(ctx, arches[i]);
    if (rc != 0 && rc != -EEXIST) fail(2, "libseccomp refused arch 0x%x: %s", arches[i], strerror(-rc));
  }
  if (!keep_native) {
    int rc = seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE);
    if (rc != 0) fail(2, "libseccomp refused to drop the native arch: %s", strerror(-rc));
  }
}

/* Adds one deny line; returns 0, or 1 when the syscall is unknown to libseccomp and was skipped. */
static int add_deny(scmp_filter_ctx ctx, const struct line *line) {
  if (line->count < 3) fail(1, "line %d: expected \"deny <errno> <syscall> [<arg> <op> <value> [<value>]]...\", found %d words", line->number, line->count);
  uint32_t action = SCMP_ACT_ERRNO(number(line, line->tokens[1], "an errno", 1, 4095));
  const char *name = line->tokens[2];
  struct scmp_arg_cmp cmps[6];
  unsigned int n = 0;
  for (int t = 3; t < line->count;) {
    if (n == 6) fail(1, "line %d: expected at most 6 comparisons, found more", line->number);
    if (t + 2 >= line->count) fail(1, "line %d: expected \"<arg> <op> <value>\", found a comparison cut short", line->number);
    struct scmp_arg_cmp cmp = {0};
    cmp.arg = (unsigned int)number(line, line->tokens[t], "an argument index", 0, 5);
    cmp.op = op_from(line, line->tokens[t + 1]);
    cmp.datum_a = number(line, line->tokens[t + 2], "a comparison value", 0, UINT64_MAX);
    t += 3;
    if (cmp.op == SCMP_CMP_MASKED_EQ) {
      if (t >= line->count) fail(1, "line %d: expected masked_eq <mask> <value>, found no value", line->number);
      cmp.datum_b = number(line, line->tokens[t++], "a masked value", 0, UINT64_MAX);
    }
    cmps[n++] = cmp;
  }
  int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) return 1;
  int rc = seccomp_rule_add_array(ctx, action, nr, n, cmps);
  if (rc != 0) fail(2, "line %d: libseccomp refused the rule for %s: %s", line->number, name, strerror(-rc));
  return 0;
}

static int listed(const char **names, int count, const char *name) {
  for (int i = 0; i < count; i++)
    if (strcmp(names[i], name) == 0) return 1;
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 1) fail(1, "expected no arguments (the profile comes on stdin), found \"%s\"", argv[1]);
  int count = 0;
  struct line *lines = read_lines(&count);
  scmp_filter_ctx ctx = seccomp_init(default_action(lines, count));
  if (!ctx) fail(2, "seccomp_init failed");
  set_arches(ctx, lines, count);
  const char **skipped = calloc((size_t)count + 1, sizeof *skipped);
  int nskipped = 0;
  if (!skipped) fail(2, "out of memory");
  for (int i = 0; i < count; i++) {
    const struct line *line = &lines[i];
    const char *verb = line->tokens[0];
    if (strcmp(verb, "default") == 0 || strcmp(verb, "arch") == 0) continue;
    if (strcmp(verb, "deny") != 0) fail(1, "line %d: expected default, arch or deny, found \"%s\"", line->number, verb);
    if (add_deny(ctx, line) && !listed(skipped, nskipped, line->tokens[2])) skipped[nskipped++] = line->tokens[2];
  }
  int rc = seccomp_export_bpf(ctx, STDOUT_FILENO);
  if (rc != 0) fail(2, "exporting the BPF program failed: %s", strerror(-rc));
  if (nskipped > 0) {
    const struct scmp_version *v = seccomp_version();
    fprintf(stderr, PROG ": skipped syscalls unknown to libseccomp %u.%u.%u:", v->major, v->minor, v->micro);
    for (int i = 0; i < nskipped; i++) fprintf(stderr, " %s", skipped[i]);
    fputc('\n', stderr);
  }
  seccomp_release(ctx);
  return 0;
}
