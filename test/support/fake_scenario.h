/* What the stand-in driver libraries (fake_nvml.c, fake_rocm_smi.c) share: reading a scenario file
 * (one fact a line, key=value tokens, numbers that may be ramps), answering a ramp's k-th call, and
 * logging each call to the file a variable names. Header-only: each stand-in is one shared object. */
#ifndef FAKE_SCENARIO_H_
#define FAKE_SCENARIO_H_

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

/* A number from the scenario: fixed (from == to) or a ramp over the first ten calls. */
struct Ramp {
  int present;
  double from, to;
};

/* Appends "<pid> <name>" to the file the variable names, when it is set. */
static void log_call_to(const char *variable, const char *name) {
  const char *path = getenv(variable);
  if (!path) return;
  FILE *log = fopen(path, "a");
  if (!log) return;
  fprintf(log, "%d %s\n", (int)getpid(), name);
  fclose(log);
}

/* Reads the next token: a bare word or key="quoted value". */
static char *next_token(char **cursor) {
  char *p = *cursor;
  while (*p == ' ' || *p == '\t') p++;
  if (!*p || *p == '\n' || *p == '#') return NULL;
  char *start = p, *out = p;
  int quoted = 0;
  while (*p && (quoted || (*p != ' ' && *p != '\t' && *p != '\n'))) {
    if (*p == '"') { quoted = !quoted; p++; continue; }
    *out++ = *p++;
  }
  if (*p) p++;
  *out = '\0';
  *cursor = p;
  return start;
}

/* One non-negative number, decimal (fractions allowed) or 0x hex; the whole text must be it, so a
 * typo is ignored rather than read as a prefix. */
static int parse_number(const char *text, double *out) {
  char *end;
  if (*text < '0' || *text > '9') return 0; /* no sign, space, inf or nan */
  if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    if (!isxdigit((unsigned char)text[2])) return 0; /* strtoull would take "-4" after "0x" */
    *out = (double)strtoull(text, &end, 16);
  } else {
    *out = strtod(text, &end);
  }
  return *end == '\0' && *out < 1e300;
}

/* A number or a ramp A..B. The text is split at ".." before parsing, since strtod would read the
 * first '.' of "10..90" as a decimal point. Left untouched when malformed. */
static void parse_ramp(const char *text, struct Ramp *ramp) {
  char copy[64];
  double from, to;
  if (strlen(text) >= sizeof copy) return;
  memcpy(copy, text, strlen(text) + 1);
  char *dots = strstr(copy, "..");
  if (dots) {
    *dots = '\0';
    if (!parse_number(copy, &from) || !parse_number(dots + 2, &to)) return;
  } else {
    if (!parse_number(copy, &from)) return;
    to = from;
  }
  ramp->present = 1;
  ramp->from = from;
  ramp->to = to;
}

static long long monotonic_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

/* The k-th answered call (k = 0, 1, ...) of a ramp A..B: A + (B - A) * min(k, 10) / 10. */
static double ramp_at(const struct Ramp *ramp, unsigned long long k) {
  if (k > 10) k = 10;
  return ramp->from + (ramp->to - ramp->from) * (double)k / 10.0;
}

/* Nearest integer, saturating: drivers answer whole units (percent, mW, MHz, bytes). */
static unsigned int to_uint(double value) {
  return value >= 4294967295.0 ? 0xFFFFFFFFu : (unsigned int)(value + 0.5);
}
static unsigned long long to_ull(double value) {
  return value >= 18446744073709551615.0 ? ~0ULL : (unsigned long long)(value + 0.5);
}

/* A whole decimal number no larger than max. */
static int parse_whole(const char *text, unsigned long long max, unsigned long long *out) {
  char *end;
  if (*text < '0' || *text > '9') return 0;
  errno = 0;
  *out = strtoull(text, &end, 10);
  return *end == '\0' && errno != ERANGE && *out <= max;
}

#endif /* FAKE_SCENARIO_H_ */
